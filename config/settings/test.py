"""Test settings: fast hashing, in-process tasks, a per-run test database name."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# Several checkouts may test against one PostgreSQL server at once; a suffix keeps
# their test databases apart.
DATABASES["default"].setdefault("TEST", {})
DATABASES["default"]["TEST"]["NAME"] = "test_linli" + os.environ.get("LINLI_TEST_DB_SUFFIX", "")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"]["NAME"] = None  # in-memory
AXES_ENABLED = True
LINLI_NOTIFIER = "linli.core.notify.MemorySender"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files through the finders (no collectstatic in tests or the demo).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Tests that cover TOTP turn it on with override_settings.
LINLI_STAFF_MFA_REQUIRED = False
