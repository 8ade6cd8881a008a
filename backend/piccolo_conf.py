"""Piccolo's configuration module (found through PICCOLO_CONF, set in backend/__init__.py).

`DB` is built from the settings; backend.db.use_engine() replaces it when the app or a test picks a database.
"""

from piccolo.conf.apps import AppRegistry

from backend.db import build_engine
from backend.settings import get_settings

DB = build_engine(get_settings().database_url_resolved())

APP_REGISTRY = AppRegistry(apps=["backend.piccolo_app"])
