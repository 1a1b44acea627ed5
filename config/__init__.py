"""Settings classes: the only place jaki reads environment variables."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("JAKI_INSTANCE_DIR", BASE_DIR / "instance"))

# Development-only keys: Production refuses to start while any of these is in use.
DEV_SECRET = "dev-only-secret-not-for-production-0000000000"  # noqa: S105 - refused by Production.check
DEV_NIK_KEY = "ZGV2LW9ubHktbmlrLWtleS1ub3QtZm9yLXByb2R1Y3Q="  # base64 of 32 bytes
DEV_HMAC_KEY = "dev-only-hmac-key-not-for-production"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


class Config:
    """Shared defaults. Every variable documented in README.md's configuration table."""

    ENV_NAME = "base"
    SECRET_KEY = _env("JAKI_SECRET_KEY", DEV_SECRET)
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'jaki.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL = _env("REDIS_URL")  # None: embedded default (no Redis)

    # Jobs: "inline" runs them in-process after commit; "rq" enqueues on Redis.
    JOBS_BACKEND = _env("JAKI_JOBS_BACKEND", "inline")
    JOBS_DEFAULT_TIMEOUT = _env_int("JAKI_JOBS_TIMEOUT", 120)
    # Issue 13 (settings once): a failing inline job is logged and dropped; the test suite sets True to see it.
    JOBS_INLINE_RAISE = False

    # Tokens
    JWT_SECRET_KEY = _env("JAKI_JWT_SECRET_KEY", DEV_SECRET)
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(seconds=_env_int("JAKI_ACCESS_TOKEN_SECONDS", 15 * 60))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(seconds=_env_int("JAKI_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600))
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ERROR_MESSAGE_KEY = "message"
    FRESH_TOKEN_MINUTES = _env_int("JAKI_FRESH_TOKEN_MINUTES", 10)

    # Personal data protection: NIK encrypted with AES-GCM, looked up by HMAC blind index.
    NIK_ENCRYPTION_KEY = _env("JAKI_NIK_ENCRYPTION_KEY", DEV_NIK_KEY)
    NIK_HMAC_KEY = _env("JAKI_NIK_HMAC_KEY", DEV_HMAC_KEY)

    # Passwords (argon2id). Raising these rehashes on next login.
    ARGON2_TIME_COST = _env_int("JAKI_ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _env_int("JAKI_ARGON2_MEMORY_KIB", 64 * 1024)
    ARGON2_PARALLELISM = _env_int("JAKI_ARGON2_PARALLELISM", 1)

    # Login protection
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or _env("REDIS_URL") or "memory://"
    RATELIMIT_ENABLED = _env_bool("JAKI_RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: limits are counted in each process's memory instead, so public reads keep working.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    LOGIN_RATE_PER_CLIENT = _env("JAKI_LOGIN_RATE_PER_CLIENT", "30 per minute")
    LOGIN_RATE_PER_NIK = _env("JAKI_LOGIN_RATE_PER_NIK", "10 per minute")
    LOGIN_LOCKOUT_THRESHOLD = _env_int("JAKI_LOGIN_LOCKOUT_THRESHOLD", 5)
    LOGIN_LOCKOUT_BASE_SECONDS = _env_int("JAKI_LOGIN_LOCKOUT_BASE_SECONDS", 60)
    LOGIN_LOCKOUT_MAX_SECONDS = _env_int("JAKI_LOGIN_LOCKOUT_MAX_SECONDS", 3600)

    # Phone verification
    OTP_TTL_SECONDS = _env_int("JAKI_OTP_TTL_SECONDS", 300)
    OTP_MAX_ATTEMPTS = _env_int("JAKI_OTP_MAX_ATTEMPTS", 5)
    OTP_RESEND_SECONDS = _env_int("JAKI_OTP_RESEND_SECONDS", 60)
    SMS_BACKEND = _env("JAKI_SMS_BACKEND", "record")
    SMS_HTTP_URL = _env("JAKI_SMS_HTTP_URL")
    SMS_HTTP_TOKEN = _env("JAKI_SMS_HTTP_TOKEN")

    # Population registry (Dukcapil): "local" answers from demo residents in the database.
    DUKCAPIL_BACKEND = _env("JAKI_DUKCAPIL_BACKEND", "local")
    DUKCAPIL_URL = _env("JAKI_DUKCAPIL_URL")
    DUKCAPIL_TOKEN = _env("JAKI_DUKCAPIL_TOKEN")

    # Agency connectors: JAKI_AGENCY_<CODE>_URL / _TOKEN per integrated agency (unset = local connector)
    for _code in ("DINKES", "DISDIK", "DINSOS", "BAPENDA", "DPMPTSP"):
        locals()[f"AGENCY_{_code}_URL"] = _env(f"JAKI_AGENCY_{_code}_URL")
        locals()[f"AGENCY_{_code}_TOKEN"] = _env(f"JAKI_AGENCY_{_code}_TOKEN")
    del _code
    AGENCY_CONNECT_TIMEOUT = float(_env("JAKI_AGENCY_CONNECT_TIMEOUT", "1.0"))
    AGENCY_READ_TIMEOUT = float(_env("JAKI_AGENCY_READ_TIMEOUT", "2.0"))
    AGENCY_TOTAL_TIMEOUT = float(_env("JAKI_AGENCY_TOTAL_TIMEOUT", "2.5"))
    AGENCY_MAX_RESPONSE_BYTES = _env_int("JAKI_AGENCY_MAX_RESPONSE_BYTES", 512 * 1024)
    AGENCY_RETRIES = _env_int("JAKI_AGENCY_RETRIES", 1)
    AGENCY_BACKOFF_BASE = float(_env("JAKI_AGENCY_BACKOFF_BASE", "0.1"))
    AGENCY_BREAKER_FAILURES = _env_int("JAKI_AGENCY_BREAKER_FAILURES", 5)
    AGENCY_BREAKER_WINDOW_SECONDS = float(_env("JAKI_AGENCY_BREAKER_WINDOW_SECONDS", "30"))
    AGENCY_BREAKER_OPEN_SECONDS = float(_env("JAKI_AGENCY_BREAKER_OPEN_SECONDS", "15"))
    SERVICES_POOL_SIZE = _env_int("JAKI_SERVICES_POOL_SIZE", 32)
    SERVICES_OVERVIEW_DEADLINE_SECONDS = float(_env("JAKI_SERVICES_OVERVIEW_DEADLINE_SECONDS", "3"))
    SERVICES_CACHE_FRESH_SECONDS = _env_int("JAKI_SERVICES_CACHE_FRESH_SECONDS", 300)
    SERVICES_CACHE_STALE_SECONDS = _env_int("JAKI_SERVICES_CACHE_STALE_SECONDS", 3 * 24 * 3600)
    SERVICES_REFRESH_RATE = _env("JAKI_SERVICES_REFRESH_RATE", "30 per minute")
    SERVICES_ELIGIBILITY_RATE = _env("JAKI_SERVICES_ELIGIBILITY_RATE", "10 per hour")
    SERVICES_ELIGIBILITY_RATE_PER_CLIENT = _env("JAKI_SERVICES_ELIGIBILITY_RATE_PER_CLIENT", "30 per hour")
    SERVICES_DOCUMENT_MAX_BYTES = _env_int("JAKI_SERVICES_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)

    # Push notifications
    PUSH_BACKEND = _env("JAKI_PUSH_BACKEND", "record")
    FCM_PROJECT_ID = _env("JAKI_FCM_PROJECT_ID")
    FCM_CREDENTIALS_FILE = _env("JAKI_FCM_CREDENTIALS_FILE")
    FCM_URL = _env("JAKI_FCM_URL")
    FCM_IID_URL = _env("JAKI_FCM_IID_URL")
    # Messages in flight per delivery worker: enough to cover the round trip to Google (each is one connection).
    FCM_CONCURRENCY = _env_int("JAKI_FCM_CONCURRENCY", 16)

    # Notifications (every default of jaki/notifications lives here; the code reads jaki.settings.setting)
    NOTIFY_MAX_DEVICES = _env_int("JAKI_NOTIFY_MAX_DEVICES", 10)  # per account; one more evicts the least recent
    NOTIFY_MAX_ATTEMPTS = _env_int("JAKI_NOTIFY_MAX_ATTEMPTS", 5)  # FCM sends per notification before "failed"
    NOTIFY_RETRY_INTERVALS = (10, 60, 300, 900)  # seconds between attempts (rq Retry, needs the scheduler)
    NOTIFY_SENDING_LEASE_SECONDS = _env_int("JAKI_NOTIFY_SENDING_LEASE_SECONDS", 300)  # then the worker is dead
    NOTIFY_SWEEP_GRACE_SECONDS = _env_int("JAKI_NOTIFY_SWEEP_GRACE_SECONDS", 120)  # "created" this long: requeue
    NOTIFY_SWEEP_BATCH = 500
    NOTIFY_TOPIC_SYNC_MAX_FAILURES = 5
    NOTIFY_RELAY_ON_COMMIT = True  # relay as soon as a transaction with an outbox event commits
    NOTIFY_RELAY_BATCH = 500  # outbox events per relay transaction (and so at most one delivery job's rows)
    NOTIFY_MAX_RECIPIENTS = 10_000  # per event; larger audiences are what area broadcasts are for
    NOTIFY_DELIVERY_BATCH = _env_int("JAKI_NOTIFY_DELIVERY_BATCH", 500)  # notifications per delivery job
    FCM_QUOTA_PER_MINUTE = _env_int("JAKI_FCM_QUOTA_PER_MINUTE", 600_000)  # the FCM project's send quota
    NOTIFY_QUOTA_BURST_SECONDS = float(_env("JAKI_NOTIFY_QUOTA_BURST_SECONDS", "1"))  # bucket capacity, in seconds
    # Hot reads (issue 17; kept with the notification settings to keep config/ merges simple)
    # A revocation made by another process refuses access tokens within this many seconds (0: ask the store on
    # every request); this process's own revocations take effect at once.
    REVOCATION_CACHE_SECONDS = float(_env("JAKI_REVOCATION_CACHE_SECONDS", "2"))
    # Anonymous public reads (feed, nearby, map) answered from this process's memory for this long (0: off);
    # shorter than PUBLIC_CACHE_SECONDS, the max-age a CDN may keep them.
    PUBLIC_RESPONSE_CACHE_SECONDS = float(_env("JAKI_PUBLIC_RESPONSE_CACHE_SECONDS", "15"))
    PUBLIC_RESPONSE_CACHE_ENTRIES = 2048
    # The signed-in overview's whole answer, sealed in the cache for this long (0: off); ?refresh=true bypasses it
    # and an outbox event for the person (a status change) drops it.
    SERVICES_OVERVIEW_ANSWER_SECONDS = _env_int("JAKI_SERVICES_OVERVIEW_ANSWER_SECONDS", 30)
    # GET /me and the inbox's first page (and its unread count), kept the same way; a change to the person's rows
    # (account, staff areas, consent, notifications, read marks) or a new broadcast drops them at once, so this is
    # only the bound on a read that raced a write.
    ME_ANSWER_SECONDS = _env_int("JAKI_ME_ANSWER_SECONDS", 30)
    INBOX_ANSWER_SECONDS = _env_int("JAKI_INBOX_ANSWER_SECONDS", 30)

    # Photos: local directory on the embedded default, S3-compatible storage in production.
    STORAGE_BACKEND = _env("JAKI_STORAGE_BACKEND", "local")
    STORAGE_LOCAL_ROOT = _env("JAKI_STORAGE_LOCAL_ROOT", str(INSTANCE_DIR / "media"))
    S3_BUCKET = _env("JAKI_S3_BUCKET")
    S3_ENDPOINT_URL = _env("JAKI_S3_ENDPOINT_URL")
    S3_REGION = _env("JAKI_S3_REGION")
    S3_ACCESS_KEY_ID = _env("JAKI_S3_ACCESS_KEY_ID")
    S3_SECRET_ACCESS_KEY = _env("JAKI_S3_SECRET_ACCESS_KEY")
    S3_PUBLIC_BASE_URL = _env("JAKI_S3_PUBLIC_BASE_URL")

    # Citizen reports
    REPORTS_MAX_PHOTOS = _env_int("JAKI_REPORTS_MAX_PHOTOS", 5)
    REPORTS_PHOTO_MAX_BYTES = _env_int("JAKI_REPORTS_PHOTO_MAX_BYTES", 8 * 1024 * 1024)
    REPORTS_DAILY_CAP = _env_int("JAKI_REPORTS_DAILY_CAP", 20)
    REPORTS_CREATE_RATE = _env("JAKI_REPORTS_CREATE_RATE", "5 per minute;30 per hour")
    REPORTS_AUTO_CLOSE_DAYS = _env_int("JAKI_REPORTS_AUTO_CLOSE_DAYS", 7)
    REPORTS_REOPEN_DAYS = _env_int("JAKI_REPORTS_REOPEN_DAYS", 14)
    REPORTS_MAP_MAX_PINS = _env_int("JAKI_REPORTS_MAP_MAX_PINS", 200)
    REPORTS_NEARBY_MAX_RADIUS_M = _env_int("JAKI_REPORTS_NEARBY_MAX_RADIUS_M", 5000)
    REPORTS_DUPLICATE_CANDIDATES = _env_int("JAKI_REPORTS_DUPLICATE_CANDIDATES", 5)
    # Report proof and validation (issue 15)
    # An evidence photo needs a capture token of the assignment, single use, valid this long after it is minted.
    REPORTS_CAPTURE_TOKEN_SECONDS = _env_int("JAKI_REPORTS_CAPTURE_TOKEN_SECONDS", 900)
    # A GPS fix less precise than this is refused; the category's radius plus the fix's accuracy is the limit.
    REPORTS_EVIDENCE_MAX_ACCURACY_M = _env_int("JAKI_REPORTS_EVIDENCE_MAX_ACCURACY_M", 50)
    # Device clocks drift: a capture time this far before the claim or after the upload is still accepted.
    REPORTS_EVIDENCE_CLOCK_SKEW_SECONDS = _env_int("JAKI_REPORTS_EVIDENCE_CLOCK_SKEW_SECONDS", 120)
    # Perceptual hashes this close (Hamming, of 64 bits; at most 7: the band index finds up to 7) are one photo.
    REPORTS_PHASH_MAX_DISTANCE = min(_env_int("JAKI_REPORTS_PHASH_MAX_DISTANCE", 6), 7)
    REPORTS_EVIDENCE_REUSE_DAYS = _env_int("JAKI_REPORTS_EVIDENCE_REUSE_DAYS", 90)
    # Bodies outside the Pemprov (agency kind external): JSON {"PAMJAYA": {"channel": "webhook" | "open311",
    # "url": "https://...", "secret": "...", "api_key": "..." (open311)}}. The secret signs what we send and
    # what they answer (HMAC-SHA256). An external agency with no channel gets no delivery (state failed, named).
    REPORTS_EXTERNAL_CHANNELS = json.loads(_env("JAKI_REPORTS_EXTERNAL_CHANNELS", "{}"))
    REPORTS_EXTERNAL_TIMEOUT_SECONDS = _env_int("JAKI_REPORTS_EXTERNAL_TIMEOUT_SECONDS", 10)
    REPORTS_EXTERNAL_MAX_ATTEMPTS = _env_int("JAKI_REPORTS_EXTERNAL_MAX_ATTEMPTS", 5)
    # An external body's signed answer older (or newer) than this is refused: a replayed answer does nothing.
    REPORTS_EXTERNAL_SIGNATURE_MAX_AGE_SECONDS = _env_int("JAKI_REPORTS_EXTERNAL_SIGNATURE_MAX_AGE_SECONDS", 300)
    # End of report proof and validation
    # Areas (jaki.geo): how often (seconds) a process re-reads the areas' version to notice another's import.
    AREA_INDEX_CHECK_SECONDS = _env_int("JAKI_AREA_INDEX_CHECK_SECONDS", 60)
    # A point in a sliver between simplified polygons resolves to the nearest kelurahan within this distance.
    AREA_MAX_GAP_M = _env_int("JAKI_AREA_MAX_GAP_M", 300)
    # The neighbours' outlines are coarse (22-124 points for a whole kota): along Jakarta's land border they overlap
    # its kelurahan polygons, or stop short of them by up to about 500 m (96% of the land-border points in no polygon
    # and outside every outline lie within 500 m of one; bench/results/boundaries.json). So there the kelurahan
    # polygons decide: a point in none, on a neighbour's outline or within the margin of one, is the neighbour's
    # unless a kelurahan lies within the tolerance, about the polygons' own simplification slack. Against the BPS
    # 2019 boundaries (themselves ~90 m off near borders) 25 m refuses 92% of the border points BPS puts outside
    # Jakarta and wrongly refuses 1.6 km² along the whole land border (the bench sweeps 0-100 m). Elsewhere (the
    # coast, the harbour, the islands) AREA_MAX_GAP_M applies.
    AREA_NEIGHBOUR_MARGIN_M = _env_int("JAKI_AREA_NEIGHBOUR_MARGIN_M", 500)
    AREA_BORDER_TOLERANCE_M = _env_int("JAKI_AREA_BORDER_TOLERANCE_M", 25)

    # Statistics and open data (the command center)
    # Jakarta: a report unanswered at 6 days turns red (the limit is 7)
    STATS_RED_FLAG_DAYS = _env_int("JAKI_STATS_RED_FLAG_DAYS", 6)
    # the period when none is given: this month and the 11 before
    STATS_DEFAULT_MONTHS = _env_int("JAKI_STATS_DEFAULT_MONTHS", 12)
    # older medians are recomputed by the request that finds them
    STATS_ROLLUP_MAX_AGE_SECONDS = _env_int("JAKI_STATS_ROLLUP_MAX_AGE_SECONDS", 1800)
    # the periodic task recomputes rollups older than this
    STATS_ROLLUP_REFRESH_SECONDS = _env_int("JAKI_STATS_ROLLUP_REFRESH_SECONDS", 600)
    STATS_ROLLUP_REFRESH_BATCH = _env_int("JAKI_STATS_ROLLUP_REFRESH_BATCH", 200)  # rollups recomputed per run at most
    # a rollup nobody asked for this long is dropped
    STATS_ROLLUP_KEEP_DAYS = _env_int("JAKI_STATS_ROLLUP_KEEP_DAYS", 7)
    OPEN_DATA_MONTHS = _env_int("JAKI_OPEN_DATA_MONTHS", 24)
    OPEN_DATA_MAX_AGE_SECONDS = _env_int("JAKI_OPEN_DATA_MAX_AGE_SECONDS", 2 * 24 * 3600)
    OPEN_DATA_BASE_URL = _env("JAKI_OPEN_DATA_BASE_URL")

    # Open311 GeoReport v2
    OPEN311_BASE_PATH = _env("JAKI_OPEN311_BASE_PATH", "/open311/v2")
    OPEN311_JURISDICTION_ID = _env("JAKI_OPEN311_JURISDICTION_ID", "jakarta.go.id")
    OPEN311_CONTACT = _env("JAKI_OPEN311_CONTACT", "Diskominfotik Provinsi DKI Jakarta <open311@jakarta.go.id>")
    OPEN311_MAX_RESULTS = _env_int("JAKI_OPEN311_MAX_RESULTS", 1000)
    OPEN311_DEFAULT_DAYS = _env_int("JAKI_OPEN311_DEFAULT_DAYS", 90)
    OPEN311_POST_RATE_PER_KEY = _env("JAKI_OPEN311_POST_RATE_PER_KEY", "60 per minute;2000 per hour")
    OPEN311_POST_RATE_PER_CLIENT = _env("JAKI_OPEN311_POST_RATE_PER_CLIENT", "10 per minute;200 per hour")
    OPEN311_GET_RATE_PER_CLIENT = _env("JAKI_OPEN311_GET_RATE_PER_CLIENT", "300 per minute")

    # Demo and areas data
    SHARED_DATA_DIR = _env("JAKI_SHARED_DATA", str(BASE_DIR.parent / "shared" / "data"))

    # Browser clients (a dashboard on the city's own domain): exact origins, comma- or space-separated; none
    # by default, so no CORS header is sent at all. jaki.cors checks them at start-up.
    CORS_ALLOWED_ORIGINS = tuple((_env("JAKI_CORS_ORIGINS") or "").replace(",", " ").split())
    CORS_PREFLIGHT_MAX_AGE = _env_int("JAKI_CORS_MAX_AGE", 600)

    # Idempotency-Key on creates: how long a key's answer is kept; how long a retry waits for a first attempt still
    # running (then 409); after how long a first attempt that never finished is taken to have died.
    IDEMPOTENCY_TTL_SECONDS = _env_int("JAKI_IDEMPOTENCY_TTL_SECONDS", 24 * 3600)
    IDEMPOTENCY_WAIT_SECONDS = float(_env("JAKI_IDEMPOTENCY_WAIT_SECONDS", "10"))
    IDEMPOTENCY_PENDING_SECONDS = _env_int("JAKI_IDEMPOTENCY_PENDING_SECONDS", 120)

    # HTTP caching of public answers: how long a browser or CDN may reuse the public feed and map (flood days: a
    # spike of identical requests is absorbed by the CDN); other public answers are revalidated (ETag, 304).
    PUBLIC_CACHE_SECONDS = _env_int("JAKI_PUBLIC_CACHE_SECONDS", 30)

    # Personal data (UU PDP): deadlines, retention periods and the controller's contact (README, "Personal data").
    PDP_CORRECTION_ACK_HOURS = _env_int("JAKI_PDP_CORRECTION_ACK_HOURS", 72)  # 3 x 24 h to acknowledge
    PDP_OBJECTION_HOURS = _env_int("JAKI_PDP_OBJECTION_HOURS", 72)  # an objection stops processing by then
    PDP_BREACH_NOTICE_HOURS = _env_int("JAKI_PDP_BREACH_NOTICE_HOURS", 72)  # subjects and authority told by then
    PDP_ACCESS_DELAY_MAX_DAYS = _env_int("JAKI_PDP_ACCESS_DELAY_MAX_DAYS", 90)  # an investigation's longest hold
    PDP_ACCESS_LOG_RETENTION_DAYS = _env_int("JAKI_PDP_ACCESS_LOG_RETENTION_DAYS", 2 * 365)
    PDP_RECORDED_MESSAGES_RETENTION_HOURS = _env_int("JAKI_PDP_RECORDED_MESSAGES_RETENTION_HOURS", 24)
    PDP_CORRECTION_RETENTION_DAYS = _env_int("JAKI_PDP_CORRECTION_RETENTION_DAYS", 365)
    PDP_BREACH_REPORT_RETENTION_DAYS = _env_int("JAKI_PDP_BREACH_REPORT_RETENTION_DAYS", 5 * 365)
    PDP_BACKUP_RETENTION_DAYS = _env_int("JAKI_PDP_BACKUP_RETENTION_DAYS", 30)  # a closed account leaves backups by
    # Roles whose officials are named in a citizen's access log (break-glass reads always are); comma-separated.
    PDP_ACCESS_LOG_NAMED_ROLES = tuple(r for r in (_env("JAKI_PDP_ACCESS_LOG_NAMED_ROLES") or "").split(",") if r)
    PDP_CONTROLLER_NAME = _env("JAKI_PDP_CONTROLLER_NAME", "Dinas Komunikasi, Informatika dan Statistik DKI Jakarta")
    PDP_DPO_CONTACT = _env("JAKI_PDP_DPO_CONTACT", "pdp@jakarta.go.id")

    # API docs
    API_TITLE = "jaki API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    # Served by jaki from the pinned swagger-ui-bundle package (jaki/docs.py): /docs works offline.
    OPENAPI_SWAGGER_UI_URL = _env("JAKI_SWAGGER_UI_URL", "/docs/assets/")
    OPENAPI_REDOC_PATH = None
    MAX_CONTENT_LENGTH = _env_int("JAKI_MAX_CONTENT_LENGTH", 45 * 1024 * 1024)
    JSON_MAX_BYTES = _env_int("JAKI_JSON_MAX_BYTES", 1024 * 1024)  # a JSON body (photos come as multipart)
    # Proxies whose X-Forwarded-For/-Proto are believed (IPs, CIDRs, "unix"); empty: none, a client's own
    # address counts. PROXY_HOPS: how many of them a request passes (each appends to X-Forwarded-For).
    TRUSTED_PROXIES = _env("JAKI_TRUSTED_PROXIES", "")
    PROXY_HOPS = _env_int("JAKI_PROXY_HOPS", 1)
    LOG_LEVEL = _env("JAKI_LOG_LEVEL", "INFO")

    # Observability: /metrics is open on the embedded default; production needs the token or an allowed address.
    METRICS_TOKEN = _env("JAKI_METRICS_TOKEN")
    METRICS_ALLOW = _env("JAKI_METRICS_ALLOW")  # comma-separated addresses or networks, e.g. 10.0.0.0/8
    # Set by gunicorn.conf.py (or the operator) so the workers' counters add up; read by prometheus-client too.
    PROMETHEUS_MULTIPROC_DIR = _env("PROMETHEUS_MULTIPROC_DIR")


class Development(Config):
    """The embedded default: SQLite under instance/, jobs in-process, recording senders."""

    ENV_NAME = "development"
    DEBUG = False  # the Werkzeug debugger is never on, even locally: it executes code


class Testing(Config):
    """The test suite: a throwaway database, fast password hashing, services from TEST_* variables."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite:///" + str(INSTANCE_DIR / "test.sqlite3"))
    REDIS_URL = _env("TEST_REDIS_URL")
    RATELIMIT_STORAGE_URI = _env("TEST_REDIS_URL") or "memory://"
    JOBS_BACKEND = "rq" if _env("TEST_REDIS_URL") else "inline"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    STORAGE_LOCAL_ROOT = str(INSTANCE_DIR / "test-media")
    # Notifications and hot reads: answers kept across tests would leak one test's data into the next; the tests
    # of these caches switch them on.
    PUBLIC_RESPONSE_CACHE_SECONDS = 0
    SERVICES_OVERVIEW_ANSWER_SECONDS = 0
    ME_ANSWER_SECONDS = 0
    INBOX_ANSWER_SECONDS = 0


class Production(Config):
    """PostgreSQL, Redis, rq workers, real senders. Refuses to start with any fake or weak setting (production.py)."""

    ENV_NAME = "production"
    JOBS_BACKEND = _env("JAKI_JOBS_BACKEND", "rq")
    PUSH_BACKEND = _env("JAKI_PUSH_BACKEND", "fcm")
    STORAGE_BACKEND = _env("JAKI_STORAGE_BACKEND", "s3")

    @classmethod
    def check(cls, settings=None) -> None:
        """Raise ConfigurationError naming every bad setting (of `settings`, a Flask config, or this class)."""
        from config.production import check, settings_of

        check(settings_of(cls) if settings is None else settings)


CONFIGS = {"development": Development, "testing": Testing, "production": Production}


def get_config(name: str | None = None) -> type[Config]:
    name = name or _env("JAKI_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        from config.production import ConfigurationError

        raise ConfigurationError(f"JAKI_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None
