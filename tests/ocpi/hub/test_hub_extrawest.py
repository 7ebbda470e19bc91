"""The independent extrawest-ocpi package as an eMSP party on PlugPool's hub (issue 12).

Three processes over real HTTP: the hub (PlugPool), a PlugPool CPO (OCPI 2.3.0) and extrawest-ocpi
2025.7.16 as an eMSP (OCPI 2.2.1, its own virtual environment, tests/support/extrawest_peer).

Gaps of the peer, recorded here rather than bent around in the hub:
- It never calls anyone by itself (its only client is the credentials handshake's GET of the
  caller's versions): it cannot register with a hub, push tokens, send commands or GET lists.
  The hub registers with it (`flask ocpi connect --hub-party`), as a hub operator would.
- It sends no routing headers in its answers (extrawest_ocpi issue #36); the hub takes its 2xx
  with an OCPI 1000 as delivered all the same.
- Sessions and CDRs to it need a token of its party known to the CPO; with no token push from it
  they are not exercised here (tests/ocpi/hub/test_hub_e2e.py routes them to another eMSP).
"""

from __future__ import annotations

import pytest

from app.ocpi.hub.clientinfo import check_members
from app.ocpi.hub.delivery import deliver_all
from app.ocpi.tasks import deliver_outbox
from tests.charging.support import seed_site
from tests.ocpi.hub.serve import Instance
from tests.ocpi.hub.test_hub_e2e import _announce_inventory, cpo  # noqa: F401 (a fixture)
from tests.support.extrawest import Extrawest, running_extrawest

pytestmark = pytest.mark.slow

TOKEN_A = "extrawest-hub-token-a"


def test_extrawest_as_an_emsp_on_the_hub_receives_broadcasts_and_client_info(
    hub: Instance,
    cpo: Instance,  # noqa: F811
) -> None:
    with running_extrawest(TOKEN_A, "UA", "XWE", "emsp") as peer:
        # The hub registers with the peer: the peer now holds the hub's credentials (role HUB).
        output = hub.cli(
            "ocpi", "connect", peer.versions_url, TOKEN_A, "--name", "extrawest", "--hub-party"
        )
        assert "registered with extrawest on OCPI 2.2.1" in output
        (role,) = peer.store()["client"]["credentials"]["roles"]
        # CiStrings come back in lower case (it writes them so; OCPI compares them ignoring case).
        assert (role["role"], role["country_code"].upper(), role["party_id"].upper()) == (
            "HUB",
            "NL",
            "HUB",
        )

        # A PlugPool CPO joins on 2.3.0 and broadcasts its location and tariff.
        token_a = hub.cli("ocpi", "partner-add", "plugpool-cpo", "--hub-party")
        hub_versions = f"{hub.base}/ocpi/hub/versions"
        cpo.cli("ocpi", "connect", "--", hub_versions, token_a.split("TOKEN_A: ")[1].strip())
        seed_site(cpo.app, prefix="XB")
        _announce_inventory(cpo)
        cpo.job(lambda: [deliver_outbox(50) for _ in range(3)])
        hub.job(deliver_all)

        locations = peer.received("locations")
        assert set(locations) == {"nl*plg*xb-loc"}, locations
        location = locations["nl*plg*xb-loc"]
        assert [evse["uid"].lower() for evse in location["evses"]] == ["xb-evse-1"]
        tariffs = peer.received("tariffs")
        assert set(tariffs) == {"nl*plg*xb-t1"}, tariffs
        # The 2.3.0 tariff crossed the version bridge: no tax_included for a 2.2.1 party.
        assert tariffs["nl*plg*xb-t1"].get("tax_included") is None
        # The hub told it of the CPO joining (PlugPool's party NL*PLG has both roles).
        assert ("plg", "CPO", "CONNECTED") in _client_infos(peer)

        # The CPO goes down: the hub's still-alive check finds it and the peer hears OFFLINE.
        cpo.process.terminate()
        cpo.process.wait(timeout=10)
        hub.app.config["HUB_CHECK_INTERVAL"] = 0
        assert hub.job(check_members)["offline"] == 1
        hub.job(deliver_all)
        assert _client_infos(peer)[-1][0] == "plg"
        assert ("plg", "CPO", "OFFLINE") in _client_infos(peer)


def _client_infos(peer: Extrawest) -> list[tuple[str, str, str]]:
    log = peer.received("hubclientinfo_log")
    return [(i["party_id"].lower(), i["role"], i["status"]) for i in log]
