"""The wire shapes of the shelf-inspection reports (GET /api/v1/reports/inspections/...).

Rates are 0..1 rounded to 4 places, price deviations are percent (signed) rounded to 2; an average over no values
is null. A group's `key` is the id of what it groups by (product, store, territory, rep) or the chain's name, null
for stores without a chain or a territory.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import msgspec

StockBy = Literal["product", "store", "chain", "territory"]
ComplianceBy = Literal["store", "chain", "territory", "rep"]
PriceBy = Literal["product", "store", "chain", "territory"]
Period = Literal["day", "week"]
StockPart = Literal["rows", "trend", "hotspots"]


class ReportFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What every inspection report takes: local dates (inclusive, in the organisation's time zone) and filters
    that narrow the caller's scope; a rep, store or territory outside it is a 404."""

    date_from: dt.date
    date_to: dt.date
    rep_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    store_id: uuid.UUID | None = None
    chain: str | None = None


class StockRow(msgspec.Struct, kw_only=True):
    key: str | None
    label: str
    code: str | None
    audits: int
    out_of_stock: int
    oos_rate: float
    stores_audited: int
    stores_out: int


class TrendPoint(msgspec.Struct, kw_only=True):
    period_start: dt.date
    audits: int
    out_of_stock: int
    oos_rate: float | None


class Hotspot(msgspec.Struct, kw_only=True):
    product_id: uuid.UUID
    product_code: str
    product_name: str
    territory_id: uuid.UUID
    territory_name: str
    stores_out: int
    stores_audited: int


class StockReport(msgspec.Struct, kw_only=True):
    date_from: dt.date
    date_to: dt.date
    time_zone: str
    by: StockBy
    must_stock_only: bool
    period: Period
    hotspot_min_stores: int
    rows: list[StockRow]
    trend: list[TrendPoint]
    hotspots: list[Hotspot]


class ComplianceRow(msgspec.Struct, kw_only=True):
    key: str | None
    label: str
    code: str | None
    inspections: int
    oos_rate: float | None
    assortment_compliance: float | None
    facings_compliance: float | None
    price_compliance: float | None
    share_of_shelf: float | None
    score: float | None


class ComplianceReport(msgspec.Struct, kw_only=True):
    date_from: dt.date
    date_to: dt.date
    time_zone: str
    by: ComplianceBy
    rows: list[ComplianceRow]


class PriceRow(msgspec.Struct, kw_only=True):
    key: str | None
    label: str
    code: str | None
    priced_audits: int
    avg_deviation_pct: float
    avg_abs_deviation_pct: float
    min_deviation_pct: float
    max_deviation_pct: float
    within_tolerance: int
    out_of_tolerance: int
    within_tolerance_rate: float


class PriceReport(msgspec.Struct, kw_only=True):
    date_from: dt.date
    date_to: dt.date
    time_zone: str
    by: PriceBy
    rows: list[PriceRow]


class ExpiringRow(msgspec.Struct, kw_only=True):
    store_id: uuid.UUID
    store_code: str
    store_name: str
    product_id: uuid.UUID
    product_code: str
    product_name: str
    expiry_date: dt.date
    days_left: int
    quantity: int | None
    audited_at: dt.datetime
    rep_id: uuid.UUID
    rep_name: str


class ExpiringReport(msgspec.Struct, kw_only=True):
    date_from: dt.date
    date_to: dt.date
    time_zone: str
    today: dt.date
    within_days: int
    rows: list[ExpiringRow]
