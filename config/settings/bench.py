"""Benchmarks: production-like (DEBUG off, real password hashing off for speed of
set-up only), PostgreSQL via DATABASE_URL, in-process tasks."""

from config.settings.base import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = False
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
LINLI_STAFF_MFA_REQUIRED = False
# Benchmarks drive thousands of writes from a handful of users: measure throughput,
# not the per-user write limits (linli/core/ratelimit.py).
LINLI_RATE_LIMITS_ENABLED = False
