"""Production settings: everything secret comes from the environment."""

SECRET_KEY = ""
REQUIRE_SECRET_KEY = True
DATABASE_URL = "postgresql+psycopg://plugpool@127.0.0.1:5432/plugpool"
CELERY_ALWAYS_EAGER = False
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
