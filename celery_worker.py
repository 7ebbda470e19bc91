"""Celery entry point: `celery -A celery_worker.celery worker -B` (needs Redis at REDIS_URL)."""

from app import create_app

app = create_app()
celery = app.extensions["celery"]
