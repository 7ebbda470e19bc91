"""OCPP gateway: the asyncio process chargers connect to (`python -m app.gateway`)."""
