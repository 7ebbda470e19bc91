"""WSGI entry point: `gunicorn wsgi:app`."""

import gc

from app import create_app

app = create_app()
# What start-up made (modules, the app, the mappers: ~245,000 objects) lives as long as the
# worker. Frozen, it is left out of every later collection; a full one walked it, a stall of
# ~130 ms (more on a busy machine) for whatever requests the worker was serving.
gc.freeze()
