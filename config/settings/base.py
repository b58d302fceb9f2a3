"""Settings shared by every environment."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, database_config, env_bool, env_str

SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789"
)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h for h in env_str("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "django_tasks_db",
    # django-ninja's own copy of Swagger UI (static/ninja/, pinned with the package):
    # /api/v1/docs then loads it from our origin, as the CSP requires, not from a CDN.
    "ninja",
    "linli.core",
    "linli.accounts",
    "linli.communities",
    "linli.notices",
    "linli.requests",
    "linli.deliberation",
    "linli.voting",
    "linli.ledger",
    "linli.volunteers",
    "linli.projects",
    "linli.care",
    "linli.mediation",
    "linli.resources",
    "linli.mutualaid",
    "linli.surveys",
    "linli.insight",
    "linli.propertyco",
    "linli.assessment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.core.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "linli.core.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff: idle timeout and TOTP (after auth, OTP and messages).
    "linli.accounts.middleware.StaffSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "linli.core.middleware.InvalidCharactersMiddleware",
    "linli.core.middleware.NumberRangeMiddleware",
    "linli.core.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "linli.core.context_processors.ui",
            ],
        },
    }
]

DATABASES = {"default": database_config(BASE_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "linli.accounts.backends.PhoneOrUsernameBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# django-axes: lock an account (+ client address) after 5 failures for 30 minutes. The
# "username" axes counts is the resolved account (linli.accounts.lockout.axes_username),
# so a person's phone number and username share one counter.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "linli.accounts.lockout.axes_username"
AXES_CLIENT_IP_CALLABLE = "linli.accounts.lockout.client_ip"
# Failed logins per client address across all accounts (30 minutes, fixed window).
LINLI_LOGIN_IP_LIMIT = 20
LINLI_LOGIN_IP_WINDOW = 30 * 60
# Reverse proxies whose forwarded-for header we believe (addresses or CIDR ranges, comma
# separated in the environment). Empty: REMOTE_ADDR is the client, headers are ignored.
LINLI_TRUSTED_PROXIES = [
    p.strip() for p in env_str("LINLI_TRUSTED_PROXIES", "").split(",") if p.strip()
]
LINLI_PROXY_IP_HEADER = "HTTP_X_FORWARDED_FOR"
AXES_RESET_ON_SUCCESS = True
# Staff sessions end after 30 minutes without a request (residents keep the default
# two-week session); staff must pass a TOTP code (django-otp) when this is True.
LINLI_STAFF_IDLE_TIMEOUT = 30 * 60
LINLI_STAFF_MFA_REQUIRED = env_bool("LINLI_STAFF_MFA_REQUIRED", True)
OTP_TOTP_ISSUER = "Linli 邻里"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "linli" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

# Uploads: keep request bodies bounded; the import page checks its own limit too.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "linli.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# django-csp 4: everything is served from our own origin (vendored htmx/echarts, no CDN).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

LINLI_NOTIFIER = "linli.core.notify.ConsoleSender"
# Rate-limit counters (linli/core/ratelimit.py) and other short-lived values. Local memory
# is per process — fine for the single-process demo and tests; production uses Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "linli",
    }
}
# Roster import: bounded so one upload cannot exhaust memory.
LINLI_IMPORT_MAX_BYTES = 5 * 1024 * 1024
LINLI_IMPORT_MAX_ROWS = 20000

# The key that signs audit checkpoints. It must live outside the database (environment
# or a file readable only by the app), or whoever can rewrite the database could also
# re-sign the log. The default exists only for the demo and the tests.
LINLI_AUDIT_KEY = env_str("LINLI_AUDIT_KEY", "dev-only-audit-signing-key-not-for-production-use")
LINLI_AUDIT_KEY_FILE = env_str("LINLI_AUDIT_KEY_FILE", "")
