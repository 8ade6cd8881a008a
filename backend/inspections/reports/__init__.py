"""Shelf-inspection reports over a local date range, scoped to the caller: out of stock (with its trend and
hotspots), compliance scores, shelf prices, expiring stock; and their CSV exports.

Every figure is one SQL statement with its GROUP BY in the database (`db.fetch`, the same text on SQLite and
PostgreSQL), so a report costs a few scans of the items in range and never a Python loop over them.
"""

from backend.inspections.reports._csv import table_csv
from backend.inspections.reports._expiring import MAX_WITHIN_DAYS, expiring
from backend.inspections.reports._figures import compliance, prices
from backend.inspections.reports._scope import local_midnight
from backend.inspections.reports._stock import out_of_stock, periods

__all__ = [
    "MAX_WITHIN_DAYS",
    "compliance",
    "expiring",
    "local_midnight",
    "out_of_stock",
    "periods",
    "prices",
    "table_csv",
]
