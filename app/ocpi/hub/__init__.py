"""PlugPool as an OCPI hub: parties, routing rules, forwarding, broadcast, hubclientinfo, log.

The hub is routing, not a third copy of the modules: it keeps no Location, Session or CDR of
its own. A request is a hub request by where it arrives (`/ocpi/hub/...`, with a hub party's
token); its `OCPI-to-*` headers name the receiving party, or the hub itself for a broadcast
push or a GET all. PlugPool's own CPO/eMSP parties connect to the hub like any network.
"""
