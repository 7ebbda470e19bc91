"""Settings for the test suite: a throwaway PostgreSQL + PostGIS database."""

TESTING = True
SECRET_KEY = "test-secret"  # noqa: S105 -- test profile only
DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/plugpool_test"
REDIS_URL = "redis://127.0.0.1:6379/15"
LOGIN_MAX_ATTEMPTS = 5
PUBLIC_BASE_URL = "http://localhost"
# OCPI peers in tests run on loopback over plain HTTP.
OCPI_ALLOW_INSECURE_URLS = True
OCPI_GET_RETRIES = 0
