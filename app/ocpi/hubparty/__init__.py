"""PlugPool as a party behind another OCPI hub: the parties the hub reports (hubclientinfo)."""
