"""Geographic search over the one inventory (own and roaming chargers), priced by the engine.

How a search runs (services.search_chargers):
1. One SQL query ranks the next batch of locations in the area by distance through the
   spatial index (app.core.spatial picks the PostGIS or SpatiaLite SQL; published, not
   deleted, network), and joins only those to their EVSEs (status, connector filters as an
   EXISTS on one connector, the unavailability hooks other domains register, e.g. bookings)
   and connectors. Pages are keyset on (distance, location id, evse id), in an opaque cursor.
   `nearest=N` walks the index nearest-first instead (KNN `<->` on PostGIS).
2. For a window, one more query loads the batch's weekly slots and blackouts, checked in the
   location's time zone in Python (availability.py), DST-exact on both dialects.
3. Every tariff the page needs comes in one query; each distinct (tariff, window, zone,
   energy, power) is priced once by the engine (pricing.py); parsed tariffs are cached by
   (tariff id, last_updated).
When the Python-side filters drop rows, the next batch is fetched until the page is full.
"""
