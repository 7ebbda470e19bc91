"""Geographic search over the one inventory (own and roaming chargers), priced by the engine.

How a search runs (services.search_chargers):
1. One SQL query per page: it sorts the area's published locations by distance through the
   spatial index (app.core.spatial picks the PostGIS or SpatiaLite SQL), keeps them in that
   order while they have a usable EVSE (status, connector filters, the unavailability hooks
   other domains register, e.g. bookings) until the batch is full, and joins those to their
   EVSEs, connectors, the network, the live tariff versions each connector names and, for a
   window, the weekly slots and blackouts. Pages are keyset on (distance, location id, evse
   id), in an opaque cursor. `nearest=N` walks the index nearest-first instead (KNN `<->`).
   On PostgreSQL the statement is compiled once per shape (which filters are set) and runs
   as a psycopg prepared statement, outside a transaction when it is the request's first
   query (no BEGIN/ROLLBACK round trips).
2. Schedules and blackouts are checked in the location's time zone in Python
   (availability.py), DST-exact on both dialects, once per distinct (schedule, zone).
3. Prices come from the one engine (pricing.py): parsed tariffs are cached by (tariff id,
   last_updated), quotes by (version, window, zone, energy, power), and engine results are
   shared between windows the engine cannot tell apart (pricing.shared_key).
When the Python-side filters drop rows, the next batch is fetched until the page is full.
"""
