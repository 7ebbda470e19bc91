"""Charging sessions and CDRs: the business side behind the OCPP gateway's StationPort."""
