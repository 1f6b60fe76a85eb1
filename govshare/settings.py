"""govshare settings: one module, every deployment difference read from the environment.

See README.md ("Configuration") for the variables. Production is simply ``DEBUG`` off: then
``SECRET_KEY`` and ``ALLOWED_HOSTS`` are required and the HTTPS settings default to strict.
"""

import datetime
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from govshare.env import (
    broker_url,
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_rate,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GOVSHARE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off. "
            "Set DEBUG=true for local development only."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off (comma-separated).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "axes",
    "csp",
    "django_celery_beat",
    "govshare",
    # The apps, bottom layer first (the import contract in pyproject.toml holds them to it).
    "core",
    "departments",
    "workdays",
    "ledger",
    "notifications",
    "workflow",
    "catalog",
    "access_requests",
    "rights",
    "audit",
    "standards",
    "sharing",
    "governance",
    "transparency",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Headers on every answer, static files included (WhiteNoise answers those itself).
    "csp.middleware.CSPMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.NulCharacterMiddleware",  # %00 in a path or query: 400, not a DataError
    "core.uploads.UploadLimitMiddleware",  # before the CSRF check, which reads the body
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the language: a session past its lifetime ends before anything reads it.
    "core.middleware.SessionLifetimeMiddleware",
    "departments.middleware.UserLanguageMiddleware",
    "govshare.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govshare.urls"
WSGI_APPLICATION = "govshare.wsgi.application"
ASGI_APPLICATION = "govshare.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
                "departments.context_processors.navigation",
                "govshare.context_processors.home_tasks",
                "govshare.context_processors.navigation_current",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'govshare.sqlite3'}")
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and not str(
    DATABASES["default"]["NAME"]
).startswith(":memory:"):
    # SQLite creates the file but not its folder; the quick start must work on a fresh clone.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user object; the portal denies by default

LANGUAGE_CODE = "en"
# Date formats per language, over Django's (govshare/formats/__init__.py says why).
FORMAT_MODULE_PATH = ["govshare.formats"]
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded files above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Releases (catalog/releases.py)
RELEASE_MAX_BYTES = env_int("RELEASE_MAX_BYTES", 256 * 1024 * 1024, minimum=1)
RELEASE_MAX_ERRORS = env_int("RELEASE_MAX_ERRORS", 100, minimum=1)
# Web uploads checked in a worker (catalog/release_uploads.py): on PostgreSQL a running job beats
# every 5 s (progress_at); the sweep (the periodic task release-uploads-sweep, every 15 s as
# seeded) sends again a running job without a beat, or a queued one not picked up, this long
# after it was sent: 30 + 15 s, within the minute of the deliveries. At least three beats.
RELEASE_UPLOAD_STALE_SECONDS = env_int("RELEASE_UPLOAD_STALE_SECONDS", 30, minimum=15)

# Email
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
}
EMAIL_BACKEND = _EMAIL_BACKENDS[
    env_choice("EMAIL_BACKEND", "console" if DEBUG else "smtp", set(_EMAIL_BACKENDS))
]
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "govshare <noreply@govshare.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute links in emails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# Celery: Redis in production; a broker that needs no server for the quick start.
CELERY_BROKER_URL = broker_url("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # The exchange tables; kombu's default is "control" in the working directory.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    # kombu creates none of them but the last (and that one without parents): a worker started
    # by hand on a fresh clone would stop with FileNotFoundError.
    for _folder in (_queue_dir, VAR_DIR / "celery" / "processed", VAR_DIR / "celery" / "control"):
        _folder.mkdir(parents=True, exist_ok=True)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Late-acknowledged tasks go back to the queue once unacknowledged this many seconds (workers
    # look for such tasks when they start and every few minutes). Deliveries are acknowledged on
    # receipt (sharing/tasks.py: the row, not the message, is the work; the sweeper recovers a
    # killed build within a minute) and no task waits in the broker with an ETA, so this only
    # covers the short periodic jobs and a dead worker's one prefetched message: 5 minutes keeps
    # them from piling up, and is far above the longest of those jobs.
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int(
        "CELERY_VISIBILITY_TIMEOUT", 300, minimum=1
    )
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
# Periodic jobs (Celery beat) are rows of django-celery-beat that the office edits in admin
# (Periodic tasks); beat reads them from the database and notices an edit within seconds, without
# a restart. They were seeded by govshare/migrations/0001_beat_schedule.py with the intervals
# and crontabs they had when they lived here. There is deliberately no CELERY_BEAT_SCHEDULE: the
# DatabaseScheduler writes every entry of it into the database each time beat starts, which would
# undo the office's edits and make the code a second source of truth.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# No result backend, so no results to expire: without this django-celery-beat would add a
# celery.backend_cleanup job (a no-op here) to the office's schedule each time beat starts.
CELERY_RESULT_EXPIRES = None

# REST API
REST_FRAMEWORK = {
    # Token first, so an unauthenticated call gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.throttling.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Bad tokens per client address, and data calls (records, checks, downloads) per user and per
    # grant, on top of each grant's own daily limits; "N/second|minute|hour|day" (README).
    "DEFAULT_THROTTLE_RATES": {
        "failed_auth": env_rate("API_THROTTLE_FAILED_AUTH", "20/minute"),
        "data_user": env_rate("API_THROTTLE_DATA_USER", "600/minute"),
        "data_grant": env_rate("API_THROTTLE_DATA_GRANT", "1200/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # DRF's parsers, refusing NUL characters, which PostgreSQL cannot store (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "core.parsers.FormParser",
        "core.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "govshare API",
    "DESCRIPTION": "Inter-departmental data sharing under the three-rights model.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The error answers each operation can give (core/openapi.py), after the enum names.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.add_error_responses",
    ],
    # One name per choice set used under several field names (methods/method, state/from_state).
    "ENUM_NAME_OVERRIDES": {
        "SharingMethodEnum": "catalog.models.Method",
        "RequestStateEnum": "access_requests.models.Request.State",
        "QualityReportStateEnum": "governance.models.QualityReport.State",
        "QualityReportKindEnum": "governance.models.QualityReport.Kind",
        "DemandStateEnum": "governance.models.Demand.State",
        "DisputeStateEnum": "governance.models.Dispute.State",
        "AttestationStateEnum": "rights.models.Attestation.State",
        "AttestationKindEnum": "rights.models.Attestation.Kind",
    },
}

# HTTPS and cookies: strict unless DEBUG; each can be relaxed explicitly behind a proxy.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Sessions: a working day at most, and gone when the browser closes. The server-side expiry is
# set when the session is written (at sign-in), not on every request (SESSION_SAVE_EVERY_REQUEST
# stays off); core.middleware.SessionLifetimeMiddleware also counts from sign-in, so a later
# write cannot extend it: an absolute limit, not an idle timeout.
# Sessions live in the database, and Django checks each one's password hash on every request:
# a password change ends every other session of that user (update_session_auth_hash keeps the
# one that made the change).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("SESSION_MAX_AGE", 8 * 60 * 60, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_SAVE_EVERY_REQUEST = False

# The client's address, for the access log and the sign-in lockout (audit.services.client_address).
# 0: REMOTE_ADDR, the peer of this process. Behind N reverse proxies that each append to
# X-Forwarded-For, set N: the address the outermost proxy saw is then used. Never trust
# X-Forwarded-For without a proxy that sets it: any client could choose its own address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# Sign-in lockout (django-axes): a username is locked from one address after this many wrong
# passwords; other addresses are not affected. The lock ends after the cool-off (counted from the
# latest attempt: trying again while locked starts it over) or when the office clears it in admin.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a correct password (before the lock) forgets earlier failures
AXES_CLIENT_IP_CALLABLE = "audit.services.client_address"
AXES_LOCKOUT_CALLABLE = "core.signin.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_DISABLE_ACCESS_LOG = True  # lockouts go to audit.AccessLog; axes keeps only the attempts
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # audit/admin.py registers the attempts for the office instead

# Content-Security-Policy (django-csp): nothing inline, nothing from elsewhere. Pages keep their
# scripts and styles in static files; img-src allows data: URIs for the icons inside the
# stylesheets of Django admin and Swagger UI.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Permissions-Policy (core.middleware.PermissionsPolicyMiddleware): no page uses these features.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in at INFO; failures and lockouts are WARNING.
    "loggers": {"axes": {"level": "WARNING"}},
}

# How a lower app lets a higher one act on its events, inside the same transaction (core/hooks.py).
GOVSHARE_HOOKS = {
    # An approved request becomes a grant (exactly one handler: the grant is part of the answer).
    "request_approved": ["rights.services.grant_create"],
    # A new release goes out to the upload-method grants of its resource.
    "release_accepted": ["sharing.deliveries.deliveries_for_release"],
    # A new grant gets its data-sharing agreement (DSGA s.19), generated in the same transaction.
    "grant_created": ["standards.agreements.agreement_generate"],
    # Who has still to sign a grant's agreement, for the refusal that names them.
    "grant_agreement_waiting": ["standards.agreements.agreement_waiting_for"],
}

# Standards (issue #14): a grant's data may be used only once both departments have signed its
# data-sharing agreement (the owner's steward and the grantee's requester); false lets an approved
# grant be used at once, with its agreement still generated and signable.
GRANT_AGREEMENT_REQUIRED = env_bool("GRANT_AGREEMENT_REQUIRED", True)
# Datasets per page of the DCAT-AP export (/catalog.ttl?page=N), linked with hydra paging.
DCAT_PAGE_SIZE = env_int("DCAT_PAGE_SIZE", 1000, minimum=1)
DSP_CATALOG_PAGE_SIZE = env_int("DSP_CATALOG_PAGE_SIZE", 100, minimum=1)

# Disputes: the working days the two departments are given to settle one between themselves
# before either may escalate it (the due date shown; each agreement states it).
DISPUTE_NEGOTIATION_DAYS = env_int("DISPUTE_NEGOTIATION_DAYS", 10, minimum=1)

# Requests (access_requests)
REQUEST_DOCUMENT_MAX_BYTES = env_int("REQUEST_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)

# Where a file may be uploaded, and the setting that holds its limit in bytes (core/uploads.py):
# bodies over it are refused with 413 before or while they are read, never after they are stored.
UPLOAD_LIMITS = {
    "catalog:release_upload": "RELEASE_MAX_BYTES",
    "resource-releases": "RELEASE_MAX_BYTES",
    "access_requests:request_create": "REQUEST_DOCUMENT_MAX_BYTES",
    "access_requests:request_edit": "REQUEST_DOCUMENT_MAX_BYTES",
    "disputes:dispute_action": "REQUEST_DOCUMENT_MAX_BYTES",
    "dispute-statement": "REQUEST_DOCUMENT_MAX_BYTES",
}

# Transparency ledger (audit/). The signing key never lives in the database.
LEDGER_ORIGIN = env_str("LEDGER_ORIGIN", "govshare.local/ledger")
LEDGER_SIGNING_KEY_FILE = env_str("LEDGER_SIGNING_KEY_FILE", "")
if not LEDGER_SIGNING_KEY_FILE:
    if not DEBUG:
        raise ImproperlyConfigured(
            "LEDGER_SIGNING_KEY_FILE is required when DEBUG is off: the file holding the ledger's "
            "Ed25519 signing key (create one with `manage.py ledger_keygen PATH`)."
        )
    LEDGER_SIGNING_KEY_FILE = str(VAR_DIR / "ledger-signing.key")  # created on first use
elif not Path(LEDGER_SIGNING_KEY_FILE).is_file():
    raise ImproperlyConfigured(
        f"LEDGER_SIGNING_KEY_FILE={LEDGER_SIGNING_KEY_FILE!r} does not exist or is not a file."
    )
# Key rotation: the verifier keys of retired signing keys (comma-separated), so checkpoints they
# signed stay verifiable. New checkpoints are signed only with LEDGER_SIGNING_KEY_FILE.
LEDGER_PREVIOUS_KEYS = env_list("LEDGER_PREVIOUS_KEYS", [])
# Deliveries: recovery within a minute, no file without its row, the retention rule.
# A running build beats every DELIVERY_HEARTBEAT_SECONDS; after DELIVERY_STALE_SECONDS without a
# beat (or a pending delivery not picked up that long after it was sent) the sweep (the periodic
# task deliveries-sweep, every 15 s as seeded) sends it again: stale + sweep + build stays within
# 60 s by default.
DELIVERY_HEARTBEAT_SECONDS = env_int("DELIVERY_HEARTBEAT_SECONDS", 5, minimum=1)
DELIVERY_STALE_SECONDS = env_int("DELIVERY_STALE_SECONDS", 20, minimum=2)
if DELIVERY_STALE_SECONDS < 3 * DELIVERY_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        f"DELIVERY_STALE_SECONDS={DELIVERY_STALE_SECONDS} must be at least three heartbeats "
        f"(3 x DELIVERY_HEARTBEAT_SECONDS={DELIVERY_HEARTBEAT_SECONDS}), or live builds are "
        "taken over."
    )
if "DELIVERY_SWEEP_SECONDS" in os.environ:
    raise ImproperlyConfigured(
        "DELIVERY_SWEEP_SECONDS is no longer read: the sweep's interval is the periodic task "
        "deliveries-sweep, which the office edits in admin (Periodic tasks). Unset it."
    )
# Files no succeeded delivery claims are deleted once untouched this long.
DELIVERY_ORPHAN_GRACE_SECONDS = env_int("DELIVERY_ORPHAN_GRACE_SECONDS", 3600, minimum=60)
# A revoked or expired grant's stored copies are deleted this many days after it ended.
DELIVERY_RETENTION_DAYS = env_int("DELIVERY_RETENTION_DAYS", 30, minimum=0)
# Witnesses (ledger/witnesses.py): the departments' C2SP witnesses that cosign checkpoints.
# LEDGER_WITNESSES: comma-separated VKEY=URL (the witness's cosignature verifier key and the base
# URL of its tlog-witness endpoint); LEDGER_WITNESS_QUORUM: how many must cosign (default: all).
LEDGER_WITNESSES = env_list("LEDGER_WITNESSES", [])
for _witness in LEDGER_WITNESSES:
    if "=http://" not in _witness and "=https://" not in _witness:
        raise ImproperlyConfigured(
            f"LEDGER_WITNESSES: {_witness!r} is not VKEY=URL (a verifier key, '=', an http(s) URL)."
        )
LEDGER_WITNESS_QUORUM = env_int("LEDGER_WITNESS_QUORUM", len(LEDGER_WITNESSES), minimum=0)
if len(LEDGER_WITNESSES) < LEDGER_WITNESS_QUORUM:
    raise ImproperlyConfigured(
        f"LEDGER_WITNESS_QUORUM={LEDGER_WITNESS_QUORUM} is more than the "
        f"{len(LEDGER_WITNESSES)} witness(es) in LEDGER_WITNESSES."
    )
LEDGER_WITNESS_TIMEOUT = env_int("LEDGER_WITNESS_TIMEOUT", 10, minimum=1)  # seconds per request
# The office and the auditors are told when the latest checkpoint stays unwitnessed this long.
LEDGER_WITNESS_ALERT_AFTER = env_int("LEDGER_WITNESS_ALERT_AFTER", 15 * 60, minimum=60)
# Result-only feedback: checks a day per grant when the grant sets no calls-per-day limit.
RESULT_ONLY_DAILY_LIMIT = env_int("RESULT_ONLY_DAILY_LIMIT", 1000, minimum=1)
