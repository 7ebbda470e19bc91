"""A paid listing goes live only when its owner's payout account is ready (API and web)."""

from __future__ import annotations

import requests

from app.extensions import db
from app.inventory.models import Location
from app.payments import queries as payment_queries
from app.payments import services as payments


def _unpublished(listing: Location) -> Location:
    listing.publish = False
    db.session.flush()
    return listing


def test_api_publish_is_a_409_problem_until_payouts_are_set_up(client, listing, owner, token_for):
    _unpublished(listing)
    auth = token_for(owner)
    refused = client.post(f"/api/v1/listings/{listing.id}/publish", headers=auth)
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["reason"] == "payouts_not_ready"
    assert db.session.get(Location, listing.id).publish is False

    link = payments.onboard_owner(
        owner, country="NL", refresh_url="http://127.0.0.1:1/r", return_url="http://127.0.0.1:1/ok"
    )
    assert requests.post(link.url, allow_redirects=False, timeout=5).status_code == 303
    assert payments.refresh_owner_account(owner).payable is True

    published = client.post(f"/api/v1/listings/{listing.id}/publish", headers=auth)
    assert published.status_code == 200 and published.get_json()["published"] is True


def test_web_publish_sends_the_owner_to_payouts_with_the_reason(client, listing, owner):
    _unpublished(listing)
    with client.session_transaction() as session:
        session["_user_id"] = str(owner.id)
        session["_fresh"] = True
        session["csrf"] = "t"
    answer = client.post(f"/owner/listings/{listing.id}/publish", data={"csrf_token": "t"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/owner/payouts"
    page = client.get("/owner/payouts").get_data(as_text=True)
    assert "Set up payouts before publishing" in page and "Set up payouts" in page
    assert db.session.get(Location, listing.id).publish is False
    assert payment_queries.owner_account(owner.id) is None
