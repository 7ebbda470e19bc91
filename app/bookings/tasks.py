"""Booking and payment jobs: thin wrappers over services (Celery, broker REDIS_URL)."""

from __future__ import annotations

from app.bookings import services
from app.core.celery import celery_app
from app.payments import services as payments


@celery_app.task
def expire_holds() -> int:
    """Expire unpaid holds whose time ran out."""
    return services.expire_holds()


@celery_app.task
def mark_no_shows() -> list[int]:
    """Mark confirmed bookings that never started as no-shows."""
    return services.mark_due_no_shows()


@celery_app.task
def decline_unanswered() -> list[int]:
    """Decline booking requests the owner did not answer before the start."""
    return services.decline_unanswered_requests()


@celery_app.task
def auto_complete() -> list[int]:
    """Complete active bookings well past their end."""
    return services.complete_due_bookings()


@celery_app.task
def authorise_upcoming() -> list[int]:
    """Place card holds for bookings that start within the authorisation window."""
    return payments.authorise_upcoming()


@celery_app.task
def retry_failed_captures() -> list[int]:
    """Retry failed captures and releases."""
    return payments.retry_settlements()


@celery_app.task
def pay_out_owners() -> list[int]:
    """Transfer owners' shares after the problem-report window."""
    return payments.pay_out_due()
