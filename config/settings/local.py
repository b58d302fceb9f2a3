"""Demo / development settings: runserver, SQLite by default."""

from config.settings.base import *  # noqa: F403
from config.settings.base import TASKS as _TASKS  # noqa: F401

DEBUG = True
# The demo runs without a separate worker: tasks execute in-process at enqueue time.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# The demo logs staff in with a password only (make demo); production requires TOTP.
LINLI_STAFF_MFA_REQUIRED = False
