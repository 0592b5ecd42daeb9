"""Settings, all from the environment; the defaults run a fresh clone with no services."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean variable; anything unrecognised is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


DEBUG = env_bool("DEBUG", True)

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Other sites whose pages may read rooms and post with an API token (never with cookies):
# `https://video.example,https://other.example`. A room's owner adds one more for the room.
CORS_ALLOWED_ORIGINS = [origin.rstrip("/").lower() for origin in env_list("CORS_ALLOWED_ORIGINS", [])]
# django-cors-headers: only these paths answer other origins (chat/guards/origin.py), and never
# with credentials, so CSRF_TRUSTED_ORIGINS does not widen.
CORS_URLS_REGEX = (
    r"^/(rooms/[^/]+/(history|messages|state|danmaku|danmaku\.xml|tickets|mod/[a-z]+)|dplayer/v3/)$"
)
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ["authorization", "content-type", "last-event-id"]
CORS_EXPOSE_HEADERS = ["retry-after"]
CORS_PREFLIGHT_MAX_AGE = 86400

# HTTPS (docs/OPERATIONS.md, "Production settings"): on by default when DEBUG is off, so that
# `manage.py check --deploy` is clean; each can be turned off, e.g. for a plain-HTTP benchmark.
# Plain HTTP is redirected to HTTPS, except /healthz, which load balancers probe over HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# daphne --proxy-headers already takes the scheme from X-Forwarded-Proto; this is for a daphne
# started without it behind a proxy that sets X-Forwarded-Proto (and strips a client's own).
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", False) else None
)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the pages' scripts read it to send X-CSRFToken
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Strict-Transport-Security, sent on HTTPS responses only. A year, subdomains included and
# preload allowed is what `check --deploy` asks for; start lower on a first deploy.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = os.environ.get("SECURE_REFERRER_POLICY", "same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No page may be framed (the OBS overlay opts out in its view), here and in the CSP below.
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (chat/guards/csp.py): scripts, styles and connections from this site
# only. Videos (the watch page plays the address its owner set) from these sources; on a page
# served over plain HTTP, `https:` also admits `http:`. Space- or comma-separated.
CSP_MEDIA_SRC = os.environ.get("CSP_MEDIA_SRC", "'self' blob: https:").replace(",", " ").split()
CSP_REPORT_URI = os.environ.get("CSP_REPORT_URI", "").strip()  # where browsers report violations
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)  # report, do not enforce (to try a change)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "django_tasks",
    "django_tasks_db",
    "chat",
    "danmaku",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Ahead of everything that may answer (preflights never reach the views).
    "corsheaders.middleware.CorsMiddleware",
    "chat.guards.csp.ContentSecurityPolicyMiddleware",
    "chat.guards.http_writes.HttpWriteRateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After it: a request with `Authorization: Bearer` is its token's user (chat/web/tokens.py).
    "chat.web.tokens.BearerTokenMiddleware",
    # After both: a signed-in user's own language comes first (chat/web/language.py).
    "chat.web.language.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        # The site's pages.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja2.environment"},
    },
    {
        # The Django admin (and its auth pages such as password reset).
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str | None) -> dict[str, Any]:
    if not url:
        url = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    config: dict[str, Any] = dict(dj_database_url.parse(url))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Django's backend, with the process's writers taking turns at BEGIN instead of
        # sleeping in SQLite's busy handler (config/sqlite/writers.py).
        config["ENGINE"] = "config.sqlite"
        config["OPTIONS"] = {
            # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock at
            # BEGIN, so concurrent writers queue on the busy timeout instead of failing to upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        # A file (not :memory:) so that test threads share one database with real locking;
        # one per test run, so two runs in one checkout never share it.
        config["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"chat-test-{os.getpid()}.sqlite3")}
        # Keep connections: Channels closes "old" connections around every database call, and
        # opening a SQLite connection costs more than the insert a chat message needs. The
        # consumers' calls share one thread, so its connection is reused; a per-request
        # thread's connection is closed when the thread ends.
        config["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 600)
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI Django advises a pool rather than persistent connections (each HTTP
        # request runs in its own thread); psycopg's pool hands a connection back on close.
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2),
            "max_size": env_int("DATABASE_POOL_MAX", 20),
        }
    config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "chat")

# The hub channel receives every event of every room this process serves; give it room
# for bursts (the layers' default capacity is 100 and overflow is dropped silently).
HUB_CHANNEL_CAPACITY = env_int("HUB_CHANNEL_CAPACITY", 10_000)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults to a 5 s socket timeout, the same as channels-redis's
                # blocking pop (BZPOPMIN, 5 s): an idle receive then fails with TimeoutError.
                # Reads must be allowed to outlast the pop.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}],
                "prefix": REDIS_PREFIX + ":layer:",
                "channel_capacity": {"hub*": HUB_CHANNEL_CAPACITY},
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chat.realtime.layers.InMemoryChannelLayer",
            "CONFIG": {"channel_capacity": {"hub*": HUB_CHANNEL_CAPACITY}},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Request bodies larger than this are refused with 413 before they are read (chat/guards/bodies.py),
# on every path but those that register their own limit (the Bilibili XML upload below).
CHAT_REQUEST_BODY_MAX_BYTES = env_int("CHAT_REQUEST_BODY_MAX_BYTES", 64 * 1024)

# Bilibili XML imports (manage.py import_danmaku): larger files or more comments are refused.
DANMAKU_IMPORT_MAX_BYTES = env_int("DANMAKU_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
DANMAKU_IMPORT_MAX_COMMENTS = env_int("DANMAKU_IMPORT_MAX_COMMENTS", 200_000)
# Comments one user, and one room, may import by upload in a sliding window ("COUNT/SECONDS"):
# five and two largest files a day. Failed imports count (reading the file was the cost).
DANMAKU_IMPORT_QUOTA_USER = os.environ.get("DANMAKU_IMPORT_QUOTA_USER", "1000000/86400")
DANMAKU_IMPORT_QUOTA_ROOM = os.environ.get("DANMAKU_IMPORT_QUOTA_ROOM", "400000/86400")
# XML exports one address may start ("COUNT/SECONDS"); each streams with bounded memory.
DANMAKU_EXPORT_RATE_IP = os.environ.get("DANMAKU_EXPORT_RATE_IP", "10/60")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "chat.web.http.csrf_failure"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# The interface's languages (docs/OPERATIONS.md, "Languages"): a signed-in user's choice, else
# the browser's (the language cookie the switcher sets), else Accept-Language, else English.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` writes the files under their hashed names (the checkout's staticfiles/ by
# default; the tests collect into a directory of their own).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Content-hashed names, compressed copies and rewritten module imports (config/static_storage.py).
    "staticfiles": {"BACKEND": "config.static_storage.StaticStorage"},
}
# WhiteNoise (config/static_files.py): with DEBUG on, files come straight from static/ and the
# apps, under their plain names, re-read on every request (no `collectstatic`); with DEBUG off,
# only what `collectstatic` wrote, hashed names cached for a year (WhiteNoise's default).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_ALLOW_ALL_ORIGINS = False  # other sites read rooms through the API, not our files
# daphne serves /static/ itself unless a proxy in front does it (see docs/OPERATIONS.md).
SERVE_STATIC = env_bool("SERVE_STATIC", True)

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Chat limits and timings (see docs/PROTOCOL.md).
CHAT_PRESENCE_TTL = env_int("CHAT_PRESENCE_TTL", 20)  # seconds a process's presence lives unrefreshed
CHAT_BACKLOG_MAX = env_int("CHAT_BACKLOG_MAX", 1000)  # events replayed on resume before a reset
# Seconds between the checks, per process, of the tokens that held connections were opened
# with: a revoked or expired token's connections end within this (chat/transports/token_watch.py).
CHAT_TOKEN_CHECK_SECS = env_int("CHAT_TOKEN_CHECK_SECS", 5)
# Pushpin in front (GRIP, chat/transports/grip.py, docs/OPERATIONS.md): its publish endpoint
# (`http://127.0.0.1:5561`) and the key it signs `Grip-Sig` with (its `sig_key`). Both or neither.
# Several Pushpin instances side by side: their publish endpoints, comma-separated; every event
# is published to each (chat/realtime/grip.py, `grip_publisher`).
GRIP_URL = os.environ.get("GRIP_URL", "").strip().rstrip("/")
GRIP_KEY = os.environ.get("GRIP_KEY", "")
if bool(GRIP_URL) != bool(GRIP_KEY):
    raise ImproperlyConfigured("GRIP_URL and GRIP_KEY go together: set both behind Pushpin, or neither")
# Pushpin's statistics socket (its stats_spec, `ipc:///var/run/pushpin/pushpin-stats`): the
# viewers it holds are counted in presence (chat/realtime/pushpin_stats.py). Optional; several
# instances' sockets comma-separated, their counts added.
GRIP_STATS = os.environ.get("GRIP_STATS", "").strip()
if GRIP_STATS and not GRIP_URL:
    raise ImproperlyConfigured("GRIP_STATS is Pushpin's statistics socket: it needs GRIP_URL and GRIP_KEY")
if GRIP_KEY and len(GRIP_KEY.encode()) < 32:  # HS256's key: RFC 7518 asks for 256 bits at least
    raise ImproperlyConfigured("GRIP_KEY must be at least 32 bytes (Pushpin's sig_key, the same value)")
# Messages one user may post: COUNT/SECONDS, across every transport (and every process on Redis).
# Raise it for load tests; the default stops floods without getting in a lively chat's way.
CHAT_MESSAGE_RATE = os.environ.get("CHAT_MESSAGE_RATE", "20/10")
# Reports one user may make (chat/domain/moderation/reports.py): enough for a viewer who meets
# a spammer, too few to bury the moderators' queue.
CHAT_REPORT_RATE = os.environ.get("CHAT_REPORT_RATE", "10/60")
# Dry runs of blocked words one moderator may make (each reads the last 1,000 messages).
CHAT_DRY_RUN_RATE = os.environ.get("CHAT_DRY_RUN_RATE", "20/60")
# Flood protection per client address (behind a proxy, run daphne with --proxy-headers so the
# address is the client's): messages and comments, new WebSocket/SSE connections, HTTP writes.
# One address may be a whole office behind NAT, hence more generous than the per-user rate.
CHAT_MESSAGE_RATE_IP = os.environ.get("CHAT_MESSAGE_RATE_IP", "60/10")
CHAT_CONNECT_RATE_IP = os.environ.get("CHAT_CONNECT_RATE_IP", "120/60")
CHAT_HTTP_WRITE_RATE_IP = os.environ.get("CHAT_HTTP_WRITE_RATE_IP", "120/60")
# Failed logins (login form and admin), against password guessing: per username, whatever the
# address (a burst of 5, then one per minute), and per client address, whatever the username.
CHAT_LOGIN_FAILURE_RATE = os.environ.get("CHAT_LOGIN_FAILURE_RATE", "5/300")
CHAT_LOGIN_FAILURE_RATE_IP = os.environ.get("CHAT_LOGIN_FAILURE_RATE_IP", "20/600")
# The same text from the same user in the same room within this many seconds is refused.
CHAT_DUPLICATE_SECONDS = env_int("CHAT_DUPLICATE_SECONDS", 30)
# Chat delay (a room setting): messages waiting for their release time, at most, per user and
# room and per room (refused with 429 `too_many_pending`); and seconds between the release
# loop's sweeps for messages another process (or one that died) was to release.
CHAT_DELAY_PENDING_PER_USER = env_int("CHAT_DELAY_PENDING_PER_USER", 10)
CHAT_DELAY_PENDING_PER_ROOM = env_int("CHAT_DELAY_PENDING_PER_ROOM", 1000)
CHAT_DELAY_SWEEP_SECONDS = env_int("CHAT_DELAY_SWEEP_SECONDS", 2)
# Held connections (WebSocket, SSE and long-poll together) open at once, per client address
# (across processes on Redis; refused with 429) and per process (refused with 503, well below
# the descriptor limit so the process keeps the files it needs to answer). Viewers behind one
# NAT share an address: docs/OPERATIONS.md says how to size both.
CHAT_HELD_PER_IP = env_int("CHAT_HELD_PER_IP", 200)
CHAT_CONNECTIONS_MAX = env_int("CHAT_CONNECTIONS_MAX", 0)  # 0: 80% of the descriptor limit
# Common long-polls answered below ASGI by the project's server (chat/transports/direct_poll.py).
CHAT_DIRECT_POLLS = env_bool("CHAT_DIRECT_POLLS", True)
# Seconds a request's headers may take to arrive, from the connection's accept (or, on a
# keep-alive connection, the next request's first byte), however slowly they trickle in; past
# it daphne answers 408 and closes the connection (chat/transports/headers.py). 0: no deadline.
CHAT_HEADER_TIMEOUT = env_int("CHAT_HEADER_TIMEOUT", 10)
# A request body may take CHAT_BODY_TIMEOUT seconds from the end of its headers, plus one more for
# every CHAT_BODY_MIN_RATE bytes received (Apache's RequestReadTimeout body=20,MinRate=500): a
# body trickled slower than that is answered 408 and its connection closed. 0: no deadline.
CHAT_BODY_TIMEOUT = env_int("CHAT_BODY_TIMEOUT", 20)
CHAT_BODY_MIN_RATE = env_int("CHAT_BODY_MIN_RATE", 500)

# Calls (docs/PROTOCOL.md "Calls", docs/OPERATIONS.md "TURN"). A participant heartbeats every
# 10 s; one silent this many seconds has left (a closed laptop, a process that died).
CHAT_CALL_TIMEOUT = env_int("CHAT_CALL_TIMEOUT", 30)
# A participant a moderator removes from a call may not join it again for this long (moderators
# excepted); a ban or timeout keeps someone out for longer. 0: they may rejoin at once.
CHAT_CALL_REMOVAL_SECS = env_int("CHAT_CALL_REMOVAL_SECS", 600)
# STUN and TURN servers handed to the call page: comma-separated URLs such as
# stun:turn.example.org:3478 and turn:turn.example.org:3478?transport=udp. TURN needs the
# secret coturn is started with (static-auth-secret); its credentials live CHAT_TURN_TTL s.
CHAT_STUN_URLS = env_list("CHAT_STUN_URLS", [])
CHAT_TURN_URLS = env_list("CHAT_TURN_URLS", [])
CHAT_TURN_SECRET = os.environ.get("CHAT_TURN_SECRET", "")
CHAT_TURN_TTL = env_int("CHAT_TURN_TTL", 3600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

# Webhooks (webhooks/, docs/OPERATIONS.md "Webhooks"). Deliveries are tasks of Django's task
# framework, kept in this database (no other service); each server process runs
# WEBHOOK_WORKER_THREADS senders unless WEBHOOK_WORKER=off (then `manage.py runwebhooks` does).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "webhooks"]}}
WEBHOOK_WORKER = os.environ.get("WEBHOOK_WORKER", "thread")
if WEBHOOK_WORKER not in {"thread", "off"}:
    raise ImproperlyConfigured(f"WEBHOOK_WORKER={WEBHOOK_WORKER!r}: use thread or off")
WEBHOOK_WORKER_THREADS = max(1, env_int("WEBHOOK_WORKER_THREADS", 4))  # attempts in flight per process
# Private, loopback and link-local receivers are refused unless this is on (tests, internal use).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_SECONDS = max(1, env_int("WEBHOOK_TIMEOUT_SECONDS", 10))  # per attempt, all of it
# Seconds before each attempt, jittered by +-20%: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
# (about 17.5 hours in all). Comma-separated.
_schedule = env_list("WEBHOOK_SCHEDULE", ["0", "5", "300", "1800", "7200", "18000", "36000"])
try:
    WEBHOOK_SCHEDULE = [float(item) for item in _schedule]
except ValueError:
    raise ImproperlyConfigured(f"WEBHOOK_SCHEDULE={_schedule!r}: seconds, comma-separated") from None
if not WEBHOOK_SCHEDULE or any(delay < 0 for delay in WEBHOOK_SCHEDULE):
    raise ImproperlyConfigured("WEBHOOK_SCHEDULE needs at least one delay, none negative")
# An endpoint whose every attempt failed for this long is disabled (an audit entry says so).
WEBHOOK_DISABLE_AFTER = timedelta(seconds=env_int("WEBHOOK_DISABLE_AFTER_SECONDS", 3 * 86400))
# After a rotation, the old secret signs too (a second signature) for this long.
WEBHOOK_ROTATION_WINDOW = timedelta(seconds=env_int("WEBHOOK_ROTATION_WINDOW_SECONDS", 86400))
# Deliveries waiting per endpoint at most; past it, events wait in the room's log (by seq).
WEBHOOK_QUEUE_MAX = max(1, env_int("WEBHOOK_QUEUE_MAX", 10_000))
# Finished deliveries (and their attempts) are kept this many days in the delivery log.
WEBHOOK_LOG_DAYS = max(1, env_int("WEBHOOK_LOG_DAYS", 7))
