"""Not a test (not collected): an in-process profile of routed GETs through the hub.

    .venv/bin/python -m pytest tests/ocpi/hub/profile_routed.py -s -q -p no:cacheprovider

Thread CPU per request of this thread only (test client + hub; the receiving party's server
thread is not counted), steadier than wall-clock on a shared machine. PROFILE_N requests,
PROFILE_SORT / PROFILE_LINES for the table, PROFILE_CALLERS=name,... for who calls what.
The last line is one JSON object.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import time

from tests.ocpi.hub.conftest import hub_headers

N = int(os.environ.get("PROFILE_N", "400"))


def test_profile_routed_get(client, make_party):
    sender, token, _ = make_party(role="EMSP")
    receiver, _, _ = make_party()
    headers = hub_headers(token, sender, receiver)
    url = "/ocpi/hub/2.2.1/sender/locations/LOC1"
    for _ in range(50):
        assert client.get(url, headers=headers).status_code == 200
    start = time.thread_time()
    for _ in range(N):
        client.get(url, headers=headers)
    plain = (time.thread_time() - start) / N * 1000
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    for _ in range(N):
        client.get(url, headers=headers)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
    stats.print_stats(int(os.environ.get("PROFILE_LINES", "45")))
    for name in filter(None, os.environ.get("PROFILE_CALLERS", "").split(",")):
        stats.print_callers(name)
    wsgi = next(v for k, v in stats.stats.items() if k[2] == "wsgi_app" and "flask" in k[0])
    figures = {
        "requests": N,
        "thread_cpu_ms": round(plain, 3),  # client + hub, not profiled
        "profiled_hub_wsgi_ms": round(wsgi[3] / N * 1000, 3),  # the hub alone, under cProfile
    }
    print(json.dumps(figures))
