"""Embedded defaults: what `make run` uses on a laptop with nothing configured."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = str(ROOT / "var")

SECRET_KEY = "dev-only-not-secret"  # noqa: S105 -- replaced in production, which refuses to start without one
REQUIRE_SECRET_KEY = False

DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'plugpool.sqlite'}"
SPATIALITE_LIBRARY_PATH = "mod_spatialite"
SQL_ECHO = False
# Seconds a pooled connection may idle before checkout pings it (one round trip).
DATABASE_PING_AFTER_IDLE = 10.0
# PostgreSQL connections a process keeps pooled, and how many more it may open for a burst
# (closed again when returned). The gateway keeps all 30 (app/charging/port.py): in a
# reconnect storm a connection opened per call cost more than the call.
DATABASE_POOL_SIZE = 10
DATABASE_MAX_OVERFLOW = 20
# A PostgreSQL streaming replica for reads that may be a second stale (search, OCPI lists, hub
# GET all); empty: every read on the primary. It is read only while at most MAX_LAG seconds
# behind (checked every CHECK_SECONDS per process); a client that wrote reads the primary for
# STICKY_SECONDS after (app/core/replica.py).
DATABASE_REPLICA_URL = ""
DATABASE_REPLICA_MAX_LAG = 1.0
DATABASE_REPLICA_CHECK_SECONDS = 1.0
DATABASE_REPLICA_STICKY_SECONDS = 5.0

REDIS_URL = "redis://127.0.0.1:6379/0"
CELERY_BROKER_URL = ""  # empty: derived from REDIS_URL
CELERY_ALWAYS_EAGER = True

PUBLIC_BASE_URL = ""  # empty: http://127.0.0.1:<PORT>
PORT = 5000

# PlugPool's own OCPI party.
OWN_COUNTRY_CODE = "NL"
OWN_PARTY_ID = "PLG"
OWN_PARTY_NAME = "PlugPool"

GATEWAY_HOST = "127.0.0.1"
GATEWAY_PORT = 9000
GATEWAY_PUBLIC_URL = ""  # empty: ws://<GATEWAY_HOST>:<GATEWAY_PORT>/ocpp
GATEWAY_BUS = "local"  # "redis": web and jobs reach the gateway nodes through Redis
GATEWAY_REDIS_PREFIX = "plugpool:gw:"
GATEWAY_COMMAND_TIMEOUT = 30.0  # seconds a caller waits for a station's answer
GATEWAY_NODE_TTL = 5.0  # seconds a dead gateway node still looks alive to command callers
GATEWAY_TLS_CERT = ""  # PEM certificate chain: TLS in the gateway itself (wss://, profile 2)
GATEWAY_TLS_KEY = ""  # PEM private key of GATEWAY_TLS_CERT
GATEWAY_TLS_CLIENT_CA = ""  # PEM CA of stations' client certificates (security profile 3)
GATEWAY_TLS_REQUIRE_CLIENT_CERT = False  # refuse stations without a client certificate
BOOKING_DISPATCH_INTERVAL = 30.0  # seconds between the gateway's looks for bookings that start

STRIPE_SECRET_KEY = ""
STRIPE_PUBLISHABLE_KEY = ""
STRIPE_WEBHOOK_SECRET = ""
STRIPE_API_BASE = ""  # empty: Stripe's own API; a URL points the SDK at a local stand-in
PLATFORM_FEE_PERCENT = "15"

# Web hardening: cookies are not sent on cross-site posts in any profile; request bodies above
# MAX_CONTENT_LENGTH bytes get 413; PROXY_COUNT proxies in front set X-Forwarded-For/-Proto/-Host
# (0: none, the headers are ignored; a wrong count lets clients pick their address).
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
PROXY_COUNT = 0

PASSWORD_MIN_LENGTH = 10
LOGIN_MAX_ATTEMPTS = 5
LOGIN_WINDOW_SECONDS = 300
# Past LOGIN_MAX_ATTEMPTS failures an e-mail is slowed down (2, 4, 8... s), never locked out.
LOGIN_SLOWDOWN_MAX_SECONDS = 60
API_TOKEN_TTL_DAYS = 30

API_TITLE = "PlugPool API"
API_VERSION = "v1"
OPENAPI_VERSION = "3.0.3"
OPENAPI_URL_PREFIX = "/api/v1"
OPENAPI_JSON_PATH = "openapi.json"
OPENAPI_SWAGGER_UI_PATH = "docs"
OPENAPI_SWAGGER_UI_URL = "/vendor/swagger-ui/"  # served by the app (PyPI swagger-ui-bundle)

# Bookings
BOOKING_HOLD_MINUTES = 15  # an unpaid hold keeps the slot this long
BOOKING_MIN_LEAD_MINUTES = 30  # earliest start, counted from now
BOOKING_MAX_HOURS = 12  # longest booking, extensions included
BOOKING_MIN_MINUTES = 15  # shortest booking
BOOKING_NO_SHOW_GRACE_MINUTES = 15  # after the start, a booking that never started is a no-show
BOOKING_AUTO_COMPLETE_MINUTES = 30  # after the end, an active booking is completed by a job
BOOKING_AUTHORISE_AHEAD_DAYS = 6  # card holds last ~7 days: authorise no earlier than this
BOOKING_PROBLEM_WINDOW_HOURS = 24  # after completion, the owner is paid once this has passed
BOOKING_MAX_CAPTURE_ATTEMPTS = 5

# OCPI: page size cap (X-Limit), outbound timeouts (seconds), GET retries, and whether partner
# URLs may be plain HTTP or private addresses (only for tests and local peers: SSRF guard).
OCPI_PAGE_LIMIT = 1000
OCPI_HTTP_TIMEOUT = 10.0
OCPI_RTA_TIMEOUT = 2.0
OCPI_GET_RETRIES = 2
OCPI_ALLOW_INSECURE_URLS = False
# Seconds we promise in a CommandResponse and give a station to answer.
OCPI_COMMAND_TIMEOUT = 30
# Days ahead an OCPI 2.3.0 booking Calendar lists free timeslots for.
OCPI_BOOKING_CALENDAR_DAYS = 14
# Seconds between two rounds of the Celery outbox delivery (beat).
OCPI_PUSH_INTERVAL = 10.0
# How long a push round holds its batch; a killed worker's rest goes out after it.
OCPI_PUSH_LEASE_SECONDS = 120

# OCPI hub: the hub's own party (OCPI-to for broadcasts and GET all; 2.3.0 hub_party_id), how
# long a forwarded request may take (then 4002), delivery of broadcasts and ClientInfo pushes
# (attempts per delivery, seconds before a retry, parallel senders, rows per round), the
# still-alive check of each party's versions endpoint, and how long the message log is kept.
HUB_COUNTRY_CODE = "NL"
HUB_PARTY_ID = "HUB"
HUB_NAME = "PlugPool Hub"
HUB_FORWARD_TIMEOUT = 10.0
HUB_DELIVERY_ATTEMPTS = 5
HUB_DELIVERY_RETRY_SECONDS = 30.0
HUB_DELIVERY_WORKERS = 16
HUB_DELIVERY_BATCH = 2000
HUB_CHECK_INTERVAL = 300.0
HUB_MESSAGE_RETENTION_DAYS = 90
# The message log is written in batches: every this many seconds, or at once when this many
# rows wait (0 seconds: each row in its request's transaction).
HUB_MESSAGE_FLUSH_SECONDS = 0.1
HUB_MESSAGE_FLUSH_ROWS = 500

# PlugPool as eMSP (drivers on partner networks): the card hold placed before START_SESSION
# (minor units of the charger's tariff currency), PlugPool's roaming fee added to each CDR
# (shown to the driver before the start), and the seconds a CommandResult may take when the
# partner's CommandResponse names no timeout.
EMSP_HOLD_MINOR = 3000
EMSP_ROAMING_FEE_MINOR = 50
EMSP_COMMAND_TIMEOUT = 60
# A started-but-silent roaming start gives its hold back after this (no Session, no CDR).
EMSP_HOLD_STALE_MINUTES = 120

# PlugPool as eMSP: seconds between incremental pulls of each partner CPO's locations and
# tariffs (the beat job checks every 30 s at most), and the backoff of a failing partner:
# the first retry after OCPI_SYNC_RETRY_BASE seconds, doubling up to OCPI_SYNC_RETRY_MAX.
OCPI_SYNC_INTERVAL = 300.0
OCPI_SYNC_RETRY_BASE = 30.0
OCPI_SYNC_RETRY_MAX = 3600.0

# PlugPool behind another OCPI hub (issue 16): per hub partner name, the parties behind it we
# accept, e.g. {"gireve": {"allow": [], "deny": ["FR*BAD"]}} (an empty allow list = all).
OCPI_HUB_PARTY_RULES: dict = {}
# Seconds between two pulls of every hub partner's hubclientinfo list (the beat job); the hub's
# own PUTs keep it current in between, this catches what a missed PUT left stale.
OCPI_HUB_PARTY_PULL_INTERVAL = 900.0

# Web app (issue 14)
MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
MAP_TILE_ATTRIBUTION = "&copy; OpenStreetMap contributors"
GEOCODER_URL = (
    ""  # empty: the offline gazetteer of the demo area; else a Nominatim-style /search URL
)
PHOTO_DIR = str(ROOT / "var" / "photos")
PHOTO_MAX_BYTES = 5_000_000
STRIPE_JS_URL = ""  # empty: Stripe's own https://js.stripe.com/v3/, or the local stand-in's copy

# Hubject (OICP 2.3): PlugPool as CPO (operator id) and as EMP (provider id), over mutual TLS.
OICP_ENABLED = False
OICP_BASE_URL = "https://service.hubject.com/api/oicp"
OICP_OPERATOR_ID = "NL*PLG"
OICP_OPERATOR_NAME = "PlugPool"
OICP_PROVIDER_ID = "NL-PLG"
OICP_CLIENT_CERT = ""  # PEM file of PlugPool's client certificate
OICP_CLIENT_KEY = ""  # PEM file of its private key
OICP_CA_BUNDLE = ""  # PEM file of Hubject's CA (empty: the system's trust store)
OICP_HTTP_TIMEOUT = 10.0
OICP_HOTLINE = "+31200000000"  # HotlinePhoneNumber on every pushed EVSE record
OICP_PUSH_BATCH = 10000  # EVSE records per push request (Hubject's body limit)
OICP_PULL_PAGE_SIZE = 2000  # records per pull page (Hubject's maximum)
OICP_REMOTE_START_TIMEOUT = 7.0  # seconds we wait for the charger (Hubject allows 10 in all)

# Operations (issue 15): log lines as text or one JSON object each ("json"), both with the
# request id. Prometheus metrics are on GET /metrics; under gunicorn set the environment
# variable PROMETHEUS_MULTIPROC_DIR (not a setting: prometheus-client reads it at import).
LOG_FORMAT = "text"

# `make cluster` (scripts/cluster.py): nodes on this machine behind nginx on CLUSTER_HTTP_PORT;
# node N listens on the base port + N - 1 (loopback only).
CLUSTER_HTTP_PORT = 8080
CLUSTER_WEB_NODES = 2
CLUSTER_WEB_BASE_PORT = 8101
CLUSTER_GATEWAY_NODES = 2
CLUSTER_GATEWAY_BASE_PORT = 9101
CLUSTER_GATEWAY_METRICS_BASE_PORT = 9201
CLUSTER_WORKERS = 2
CLUSTER_REPLICA = False  # also run a streaming read replica for the web nodes (REPLICA=1)
CLUSTER_REPLICA_PORT = 5433
