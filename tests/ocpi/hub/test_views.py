"""The hub operator's pages: parties, traffic, rules, suspend/resume, the message log."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.ocpi.hub.models import ConnectionStatus, HubMember, HubRule
from tests.ocpi.hub.conftest import hub_headers


def test_only_admins_see_the_hub_pages(client, make_user, log_in):
    log_in(make_user(role=Role.OWNER.value))
    assert client.get("/admin/hub").status_code == 403
    assert client.get("/admin/hub/messages").status_code == 403


def test_parties_page_shows_roles_version_modules_status_and_traffic(
    client, make_user, log_in, make_party
):
    emsp, token, _ = make_party(role="EMSP", country_code="DE", party_id="EMS", version="2.3.0")
    cpo, _, _ = make_party(role="CPO", party_id="CPA", modules=("locations", "tariffs"))
    client.get("/ocpi/hub/2.3.0/sender/locations/L1", headers=hub_headers(token, emsp, cpo))
    client.get(
        "/ocpi/hub/2.3.0/sender/locations/L1", headers=hub_headers(token, emsp, ("XX", "NOP"))
    )
    log_in(make_user(role=Role.ADMIN.value))
    html = client.get("/admin/hub").get_data(as_text=True)
    assert "EMSP DE*EMS" in html and "CPO NL*CPA" in html and "2.3.0" in html
    assert "locations, tariffs" in html and "CONNECTED" in html
    # The eMSP sent two requests, one refused (4001): 2 requests, 1 error in the last hour.
    emsp_row = html[html.index("EMSP DE*EMS") :]
    assert "2 / 1" in emsp_row.split("</tr>")[0]
    assert "<svg" in html


def test_operator_suspends_resumes_and_sets_rules_from_the_party_page(
    client, make_user, log_in, make_party
):
    cpo, _, _ = make_party(role="CPO", party_id="CPA")
    csrf = log_in(make_user(role=Role.ADMIN.value))
    page = f"/admin/hub/parties/{cpo.id}"
    assert client.post(f"{page}/suspend", data={"csrf_token": csrf}).status_code == 302
    member = db.session.get(HubMember, cpo.id)
    assert member.suspended and member.status == ConnectionStatus.SUSPENDED
    client.post(f"{page}/resume", data={"csrf_token": csrf})
    assert db.session.get(HubMember, cpo.id).status == ConnectionStatus.CONNECTED
    client.post(f"{page}/rules", data={"csrf_token": csrf, "kind": "deny", "party": "de*ems"})
    (rule,) = db.session.scalars(select(HubRule)).all()
    assert (rule.kind, rule.country_code, rule.party_id) == ("deny", "DE", "EMS")
    assert "DE*EMS" in client.get(page).get_data(as_text=True)
    client.post(f"{page}/rules", data={"csrf_token": csrf, "kind": "deny", "party": "nonsense!"})
    assert len(db.session.scalars(select(HubRule)).all()) == 1
    client.post(f"{page}/rules/remove", data={"csrf_token": csrf, "party": "DE*EMS"})
    assert db.session.scalars(select(HubRule)).all() == []
    # Without the CSRF token nothing changes.
    assert client.post(f"{page}/suspend", data={}).status_code in (400, 403)
    assert not db.session.get(HubMember, cpo.id).suspended


def test_message_log_shows_metadata_and_never_the_body(client, make_user, log_in, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, _ = make_party(role="CPO", party_id="CPA")
    headers = hub_headers(token, emsp, cpo)
    client.put(
        "/ocpi/hub/2.2.1/receiver/tokens/NL/EMS/U1",
        json={"uid": "U1", "contract_id": "NL-EMS-SECRET-CONTRACT"},
        headers=headers,
    )
    log_in(make_user(role=Role.ADMIN.value))
    html = client.get("/admin/hub/messages").get_data(as_text=True)
    assert headers["X-Correlation-ID"] in html and "NLCPA" in html and "tokens" in html
    assert "SECRET-CONTRACT" not in html


def test_log_rows_past_the_retention_are_purged(client, app, make_party, monkeypatch):
    from datetime import timedelta

    from app.core.clock import utcnow
    from app.ocpi.hub.messages import purge
    from app.ocpi.hub.models import HubMessage

    monkeypatch.setitem(app.config, "HUB_MESSAGE_RETENTION_DAYS", 30)
    emsp, _, _ = make_party(role="EMSP", party_id="EMS")
    for age in (31, 29):
        db.session.add(
            HubMessage(
                created_at=utcnow() - timedelta(days=age),
                kind="forward",
                method="GET",
                module="locations",
                sender_partner_id=emsp.id,
            )
        )
    db.session.flush()
    assert purge() == 1
    (kept,) = db.session.scalars(select(HubMessage)).all()
    assert utcnow() - kept.created_at < timedelta(days=30)
