from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class InspectionSummary(msgspec.Struct):
    id: uuid.UUID
    visit_id: uuid.UUID
    store_id: uuid.UUID
    store_name: str
    rep_id: uuid.UUID
    rep_name: str
    started_at: dt.datetime | None
    items: int
    out_of_stock: int
    must_stock_out_of_stock: int
    # Scores 0..1 (null when nothing could be measured): docs/inspections.md.
    oos_rate: float | None
    assortment_compliance: float | None
    facings_compliance: float | None
    price_compliance: float | None
    share_of_shelf: float | None
    score: float | None


class InspectionItem(msgspec.Struct):
    id: uuid.UUID
    product_id: uuid.UUID
    product_code: str
    product_name: str
    brand: str
    barcode: str | None
    own_brand: bool
    present: bool
    quantity: int | None
    facings: int | None
    shelf_price_minor: int | None
    promotion: bool
    expiry_date: dt.date | None
    note: str
    photos: list[uuid.UUID]
    must_stock: bool
    min_facings: int | None
    reference_price_minor: int | None
    price_tolerance_pct: float | None
    price_deviation_pct: float | None
    price_ok: bool | None


class InspectionDetail(msgspec.Struct):
    inspection: InspectionSummary
    items: list[InspectionItem]
    # Must-stock products of the store that the inspection did not look at (they count as not found).
    not_audited: list[uuid.UUID]
