"""Lectern settings. Every value comes from the environment; `.env.example` lists them all.

The embedded defaults (no variables set) give SQLite, the in-memory channel layer, the
local-memory cache and the offline provider. Production differs only by its environment.
"""

from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from config.env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_provider_entries,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# The value that ships in the repository; a system check refuses it with DEBUG off.
INSECURE_SECRET_KEY = "django-insecure-lectern-development-key-change-me"

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", INSECURE_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "accounts",
    "sockets",
    # realtime before the apps that declare their rooms, actions and events on it in `ready`.
    "realtime",
    "courses",
    "lessons",
    "assessments",
    "ai_chat",
    "learning",
    "jobs",
    "imports",
    "ops",
    "api",
    "pages",
]

MIDDLEWARE = [
    "ops.middleware.RequestReferenceMiddleware",
    "api.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the server process itself, DEBUG or not (docs/deployment.md).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Generations write from threads while requests read; wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# Unset: 600 s on SQLite, 0 otherwise. On SQLite a connection is an open file, and the sockets'
# ORM work runs on the one database thread, so keeping its connection saves an open and a close
# per database call (13% of that thread in a 300-stream profile, bench/README.md); PostgreSQL
# pools instead (DATABASE_POOL), as Django advises under ASGI.
_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
DATABASES["default"]["CONN_MAX_AGE"] = env_int(
    "DATABASE_CONN_MAX_AGE", 600 if _SQLITE else 0, minimum=0
)
# Django's advice under ASGI: keep DATABASE_CONN_MAX_AGE at 0 and pool instead. Channels closes
# connections around every database call, so without a pool each call opens a new PostgreSQL
# connection (a backend fork): about 12 ms of a `resume` (bench/README.md, finding 1).
DATABASE_POOL = env_bool("DATABASE_POOL", False)
if DATABASE_POOL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfiguredEnv("DATABASE_POOL needs a postgres:// DATABASE_URL")
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfiguredEnv("DATABASE_POOL needs DATABASE_CONN_MAX_AGE=0")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        # Per process: the database thread, the heartbeat, health checks and admin requests.
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 8, minimum=1),
        "timeout": 10,  # seconds to wait for a free connection before failing the call
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# With Redis: `pubsub` (default: publishes 10x faster to a 1,000-socket room, delivers every
# event of a burst) or `core` (channels_redis's list-based layer: group_send is O(sockets) and
# drops group messages over `capacity`, silently). Measured in bench/README.md, "Fan-out".
CHANNEL_LAYER = env_str("CHANNEL_LAYER", "pubsub")
if CHANNEL_LAYER not in ("pubsub", "core"):
    raise ImproperlyConfiguredEnv(f"CHANNEL_LAYER must be pubsub or core, got {CHANNEL_LAYER!r}")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": (
                "channels_redis.pubsub.RedisPubSubChannelLayer"
                if CHANNEL_LAYER == "pubsub"
                else "channels_redis.core.RedisChannelLayer"
            ),
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# `collectstatic` writes here (the image does it at build); WhiteNoise serves it. With DEBUG on
# WhiteNoise serves straight from the apps' static folders, so `make run` needs no collectstatic.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Compressed (gzip) copies, no hashed names: the pages' ES modules import each other by plain
# relative URLs, which manifest storage does not rewrite, so hashing would not version them
# anyway. WhiteNoise lets browsers cache them for 60 s, then revalidate.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LOGIN_URL = "login"
# After signing in or out: `/` sends each person to their page (pages.views.home).
LOGIN_REDIRECT_URL = "pages:home"
LOGOUT_REDIRECT_URL = "login"

# Content-Security-Policy on every response: scripts and styles from this origin only (an inline
# <style> or <script> needs the request's nonce: `{% csp_nonce_attr %}`), sockets back to it
# ('self' covers ws:/wss: of the same host and port), no plugins, frames or foreign form targets.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

# Web server processes behind the one port (config/web.py): 0 = one per core with REDIS_URL and
# PostgreSQL, else one (per-process limits and stream logs need Redis to be shared).
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 0, minimum=0)

# Refuse WebSocket messages (uvicorn, config/web.py; daphne also frames) over 1 MiB explicitly
# (the protocol answers text frames over 64 KiB with `message_too_large`; anything far larger
# is dropped by the server).
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = env_int("DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE", 1024 * 1024)
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = env_int("DAPHNE_WEBSOCKET_MAX_FRAME_SIZE", 1024 * 1024)

# --- The model provider -------------------------------------------------------------------
GEMINI_API_KEY = env_str("GEMINI_API_KEY")
GEMINI_MODEL = env_str("GEMINI_MODEL", "gemini-2.5-flash")
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL")
GEMINI_API_VERSION = env_str("GEMINI_API_VERSION", "v1beta")
GEMINI_TIMEOUT_SECONDS = env_float("GEMINI_TIMEOUT_SECONDS", 60.0)
GEMINI_STALL_SECONDS = env_float("GEMINI_STALL_SECONDS", 30.0)
GEMINI_MAX_RETRIES = env_int("GEMINI_MAX_RETRIES", 3, minimum=0)
GEMINI_MAX_OUTPUT_TOKENS = env_int("GEMINI_MAX_OUTPUT_TOKENS", 8192, minimum=1)
# How the stream is read: `lean` (httpx2 + json, the default) or `sdk` (google-genai's types).
GEMINI_READER = env_str("GEMINI_READER", "lean")
# Background lesson jobs research each lesson with Gemini's Google Search grounding first; the
# pages it found become the lesson's sources (needs GEMINI_API_KEY; docs/jobs.md).
GEMINI_GROUNDING = env_bool("GEMINI_GROUNDING", False)
AI_PROVIDER = env_str("AI_PROVIDER", "gemini" if GEMINI_API_KEY else "offline")
# The fallback chain, in order (e.g. `gemini,groq,qwen`). Empty: the one provider AI_PROVIDER
# names. Every entry but `gemini` is an OpenAI-compatible endpoint configured by
# AI_PROVIDER_<NAME>_BASE_URL, _API_KEY, _MODEL and _STRUCTURED (json_schema, json_object, none).
AI_PROVIDERS = [name.lower() for name in env_list("AI_PROVIDERS", [])]
AI_PROVIDER_ENTRIES = env_provider_entries(AI_PROVIDERS, builtin=("gemini", "offline"))
# OpenAI-compatible entries: per-read timeout, stall (no chunk) and the SDK's retries.
AI_COMPAT_TIMEOUT_SECONDS = env_float("AI_COMPAT_TIMEOUT_SECONDS", 60.0)
AI_COMPAT_STALL_SECONDS = env_float("AI_COMPAT_STALL_SECONDS", 30.0)
AI_COMPAT_MAX_RETRIES = env_int("AI_COMPAT_MAX_RETRIES", 2, minimum=0)
# How their streams are read: `lean` (json, the default) or `sdk` (the openai SDK's types).
AI_COMPAT_READER = env_str("AI_COMPAT_READER", "lean")
# A provider unavailable this many times in a row is skipped for the cool-down, then tried once.
AI_BREAKER_THRESHOLD = env_int("AI_BREAKER_THRESHOLD", 3, minimum=1)
AI_BREAKER_COOLDOWN_SECONDS = env_float("AI_BREAKER_COOLDOWN_SECONDS", 30.0)
OFFLINE_CHUNK_SIZE = env_int("OFFLINE_CHUNK_SIZE", 24, minimum=1)
OFFLINE_CHUNK_DELAY_MS = env_int("OFFLINE_CHUNK_DELAY_MS", 15, minimum=0)
AI_MAX_VALIDATION_RETRIES = env_int("AI_MAX_VALIDATION_RETRIES", 1, minimum=0)
# Bounded context: at most this many earlier messages (questions and answers) go to the model
# with a new one, and the whole prompt stays within a token budget per kind; the turns left out
# are summarised once and the summary is sent instead (ai_chat/services/context.py).
MAX_HISTORY_MESSAGES = env_int("MAX_HISTORY_MESSAGES", 50, minimum=0)
AI_CONTEXT_TOKENS = env_int("AI_CONTEXT_TOKENS", 32_000, minimum=1000)
AI_CONTEXT_TOKEN_BUDGETS = {
    "course": env_int("AI_CONTEXT_TOKENS_COURSE", AI_CONTEXT_TOKENS, minimum=1000),
    "lesson": env_int("AI_CONTEXT_TOKENS_LESSON", AI_CONTEXT_TOKENS, minimum=1000),
    "quiz": env_int("AI_CONTEXT_TOKENS_QUIZ", AI_CONTEXT_TOKENS, minimum=1000),
    "assignment": env_int("AI_CONTEXT_TOKENS_ASSIGNMENT", AI_CONTEXT_TOKENS, minimum=1000),
    "chat": env_int("AI_CONTEXT_TOKENS_CHAT", 8000, minimum=1000),
}

# --- Authentication -----------------------------------------------------------------------
FIREBASE_PROJECT_ID = env_str("FIREBASE_PROJECT_ID")
FIREBASE_CREDENTIALS = env_str("FIREBASE_CREDENTIALS")
FIREBASE_CHECK_REVOKED = env_bool("FIREBASE_CHECK_REVOKED", False)
FIREBASE_CLOCK_SKEW_SECONDS = env_int("FIREBASE_CLOCK_SKEW_SECONDS", 5, minimum=0)
AUTH_TIMEOUT_SECONDS = env_float("AUTH_TIMEOUT_SECONDS", 10.0)
# How often an open socket checks again that its session is alive and its user active.
AUTH_RECHECK_SECONDS = env_float("AUTH_RECHECK_SECONDS", 30.0)
# A session's or Firebase uid's user is remembered this long per process, so that a reconnect
# storm does not queue two reads per socket on the database thread (0: off). Signing out or
# saving the user forgets it at once on the same process; another process's change is seen
# within this bound (accounts/signin_cache.py).
AUTH_CACHE_SECONDS = env_float("AUTH_CACHE_SECONDS", 5.0)

# --- Limits (defaults from PROTOCOL.md) ---------------------------------------------------
MAX_MESSAGE_LENGTH = env_int("MAX_MESSAGE_LENGTH", 2000, minimum=1)
MAX_CONCURRENT_GENERATIONS = env_int("MAX_CONCURRENT_GENERATIONS", 3, minimum=1)
MAX_CONNECTIONS_PER_USER = env_int("MAX_CONNECTIONS_PER_USER", 10, minimum=1)
# Anonymous tutor chat sockets per client address (a classroom behind one NAT shares one).
MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS = env_int(
    "MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS", 30, minimum=1
)
RATE_LIMIT_MESSAGES_PER_MINUTE = env_int("RATE_LIMIT_MESSAGES_PER_MINUTE", 10, minimum=1)
RATE_LIMIT_ANONYMOUS_PER_MINUTE = env_int("RATE_LIMIT_ANONYMOUS_PER_MINUTE", 5, minimum=1)
# /ws/events/ frames that act (subscribe, progress, confusion, mark_read, questions...), per
# user across their sockets: a burst of this many, then one every 60/N seconds.
EVENTS_RATE_LIMIT_PER_MINUTE = env_int("EVENTS_RATE_LIMIT_PER_MINUTE", 120, minimum=1)
DAILY_TOKEN_BUDGET = env_int("DAILY_TOKEN_BUDGET", 200_000, minimum=0)
CHAT_ALLOW_ANONYMOUS = env_bool("CHAT_ALLOW_ANONYMOUS", False)
# The tutor chat's `welcome` frame on connect; `{topic}` names the lesson or course the socket
# is opened on (`?lesson_id=` / `?course_id=`), else "what you are learning". `off`: none.
TUTOR_WELCOME = env_str("TUTOR_WELCOME", "Hello! I'm your tutor. Ask me anything about {topic}.")
if TUTOR_WELCOME.strip().lower() == "off":
    TUTOR_WELCOME = ""
# The tutor's answer cache: answers kept per lesson (0 turns it off), and for how long.
TUTOR_ANSWER_CACHE_SIZE = env_int("TUTOR_ANSWER_CACHE_SIZE", 100, minimum=0)
TUTOR_ANSWER_CACHE_SECONDS = env_int("TUTOR_ANSWER_CACHE_SECONDS", 7 * 24 * 3600, minimum=60)
# Proxies whose X-Forwarded-For is believed (the anonymous rate limit keys on the client's
# address). Empty: the peer address is the client; a forwarded header is ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
STREAM_LOG_TTL_SECONDS = env_int("STREAM_LOG_TTL_SECONDS", 3600, minimum=60)
# Each serving process beats this often; one silent for three beats is considered dead and its
# `streaming` messages are marked `interrupted`.
WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", 10.0)
# Presence entries live three beats and every process sweeps every beat, so a viewer on a
# killed process leaves within about four beats.
PRESENCE_HEARTBEAT_SECONDS = env_float("PRESENCE_HEARTBEAT_SECONDS", 10.0)
# Without REDIS_URL only: how often a server looks for notifications stored by another process
# (`manage.py notify`) and for the events its workers stored (realtime/relay.py), to send them
# to its open pages; 0 turns that off.
NOTIFICATIONS_POLL_SECONDS = env_float("NOTIFICATIONS_POLL_SECONDS", 2.0)

# /metrics without a staff session: these addresses or networks (the Prometheus servers).
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
# Each /healthz check gives up after this long (the endpoint answers 503 then).
HEALTHZ_TIMEOUT_SECONDS = env_float("HEALTHZ_TIMEOUT_SECONDS", 2.0)

# `json`: one JSON object per line (ops.logging.JsonFormatter); `plain`: for a terminal. Every
# handler adds the request reference (`ref`) and removes secrets (docs/monitoring.md).
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json").lower()
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfiguredEnv(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_ref": {"()": "ops.logging.RequestRefFilter"},
        "redact_secrets": {"()": "ops.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(ref)s] %(message)s"},
        "json": {"()": "ops.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_ref", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers (its console and mail_admins, django.server's) are replaced:
        # every record goes through the console handler above, formatted and redacted.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # httpx logs request URLs; the Gemini key travels in a header, but keep it quiet.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# Background lesson jobs (jobs/): a running job renews its lease every JOB_HEARTBEAT_SECONDS;
# one not renewed for JOB_LEASE_SECONDS is a dead worker's, requeued by the sweep (every
# JOB_SWEEP_SECONDS, in each worker) up to JOB_MAX_ATTEMPTS, then failed.
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 5.0)
JOB_LEASE_SECONDS = env_float("JOB_LEASE_SECONDS", 30.0)
JOB_SWEEP_SECONDS = env_float("JOB_SWEEP_SECONDS", 10.0)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)
JOB_TIME_LIMIT_SECONDS = env_float("JOB_TIME_LIMIT_SECONDS", 600.0)
JOB_RETRY_BACKOFF_SECONDS = env_float("JOB_RETRY_BACKOFF_SECONDS", 10.0)
JOB_QUEUED_RESEND_SECONDS = env_float("JOB_QUEUED_RESEND_SECONDS", 900.0)

# Repository imports (imports/repository/, docs/imports.md): what one fetch of an untrusted
# repository may take. A local path is accepted as a repository only with REPOSITORY_ALLOW_LOCAL.
REPOSITORY_MAX_BYTES = env_int("REPOSITORY_MAX_BYTES", 100 * 1024 * 1024, minimum=1)
REPOSITORY_MAX_FILES = env_int("REPOSITORY_MAX_FILES", 10_000, minimum=1)
REPOSITORY_MAX_FILE_BYTES = env_int("REPOSITORY_MAX_FILE_BYTES", 1024 * 1024, minimum=1)
REPOSITORY_FETCH_TIMEOUT_SECONDS = env_float("REPOSITORY_FETCH_TIMEOUT_SECONDS", 120.0)
REPOSITORY_ALLOW_LOCAL = env_bool("REPOSITORY_ALLOW_LOCAL", False)

# Repository imports (imports/, docs/imports.md): stages run under the JOB_* lease, heartbeat,
# attempts and backoff above. Stage 2 analyses at most IMPORT_ANALYSIS_CONCURRENCY documents at
# once (never more than MAX_CONCURRENT_GENERATIONS); an import may send at most
# IMPORT_MAX_DOCUMENTS documents and IMPORT_MAX_ESTIMATED_TOKENS estimated tokens to the model;
# a document longer than IMPORT_DOCUMENT_MAX_CHARS is cut on its headings to fit; a lesson's
# prompt carries at most IMPORT_GROUNDING_MAX_CHARS of its documents' text.
IMPORT_ANALYSIS_CONCURRENCY = env_int("IMPORT_ANALYSIS_CONCURRENCY", 3, minimum=1)
IMPORT_MAX_DOCUMENTS = env_int("IMPORT_MAX_DOCUMENTS", 200, minimum=1)
IMPORT_MAX_ESTIMATED_TOKENS = env_int("IMPORT_MAX_ESTIMATED_TOKENS", 1_000_000, minimum=1)
IMPORT_DOCUMENT_MAX_CHARS = env_int("IMPORT_DOCUMENT_MAX_CHARS", 24_000, minimum=1000)
IMPORT_GROUNDING_MAX_CHARS = env_int("IMPORT_GROUNDING_MAX_CHARS", 30_000, minimum=1000)

# --- Background jobs (Celery): every CELERY_* setting and why its numbers relate -------------
from config.celery_settings import *  # noqa: E402, F403
