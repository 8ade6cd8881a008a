"""Fieldbook's server: a Litestar app over Piccolo tables, with the sync protocol from `sync/`."""

import os

# Piccolo finds its engine (and the migrations app registry) through this module. Set before any table is
# imported, so every table and the migration runner agree on one engine; see backend/db.py.
os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
