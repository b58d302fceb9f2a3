"""Production: PostgreSQL via DATABASE_URL, HTTPS, a separate task worker (db_worker)."""

from config.env import env_bool, env_str
from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY or SECRET_KEY.startswith("dev-only"):
    raise RuntimeError("Set DJANGO_SECRET_KEY to a long random value in production.")
LINLI_AUDIT_KEY = env_str("LINLI_AUDIT_KEY")
LINLI_AUDIT_KEY_FILE = env_str("LINLI_AUDIT_KEY_FILE")
if not LINLI_AUDIT_KEY_FILE and (not LINLI_AUDIT_KEY or LINLI_AUDIT_KEY.startswith("dev-only")):
    raise RuntimeError(
        "Set LINLI_AUDIT_KEY (≥ 32 random characters) or LINLI_AUDIT_KEY_FILE: it signs the "
        "audit checkpoints and must not be stored in the database."
    )
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env_str("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Shared by every app process, so rate limits hold across workers.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "linli",
    }
}
