"""Geographic search over the one inventory (own and roaming chargers), priced by the engine.

How a search runs (services.search_chargers):
1. One SQL query finds candidate EVSEs, nearest first, keyset-paged on (distance, evse id):
   area through the spatial index (app.core.spatial picks PostGIS or SpatiaLite SQL),
   published and not deleted, network, status, connector filters (EXISTS on one connector),
   and the unavailability hooks other domains register (bookings) for a window.
2. For a window, one more query loads the batch's weekly slots and blackouts, checked in the
   location's time zone in Python (availability.py), DST-exact on both dialects.
3. Connectors of the page, then every needed tariff in one query; each distinct
   (tariff, window, zone, energy, power) is priced once (pricing.py), parsed tariffs are cached
   by (tariff id, last_updated).
When Python-side filters drop rows, the next keyset batch is fetched until the page is full.
"""
