from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from backend.fields import Code, MinorUnits, Name
from backend.stores.schemas import Channel, ImportResult

Barcode = Annotated[str, Meta(min_length=12, max_length=13, description="EAN-13 or UPC-A with a valid check digit")]
Label = Annotated[str, Meta(min_length=1, max_length=100)]
PackSize = Annotated[str, Meta(max_length=50)]
Facings = Annotated[int, Meta(ge=0, le=100)]
Percent = Annotated[float, Meta(ge=0, le=100)]


class Product(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    code: str
    name: str
    brand: str
    category: str
    pack_size: str
    barcode: str | None
    rrp_minor: int | None
    own_brand: bool
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    name: Name
    brand: Label
    category: Label
    pack_size: PackSize = ""
    # Required: a competitor's product added without it must not count as our own on the shelf.
    own_brand: bool
    barcode: Barcode | None = None
    rrp_minor: MinorUnits | None = None


class ProductUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    brand: Label | UnsetType = UNSET
    category: Label | UnsetType = UNSET
    pack_size: PackSize | UnsetType = UNSET
    barcode: Barcode | UnsetType | None = UNSET
    rrp_minor: MinorUnits | UnsetType | None = UNSET
    own_brand: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class Assortment(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    product_id: uuid.UUID
    store_id: uuid.UUID | None
    chain: str | None
    channel: Channel | None
    min_facings: int
    price_tolerance_pct: float
    created_at: dt.datetime
    updated_at: dt.datetime
    # The shelf price for this target in minor units; None: the product's `rrp_minor`.
    rrp_minor: MinorUnits | None = None


class AssortmentCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A must-stock rule: give exactly one of `store_id`, `chain` or `channel`."""

    product_id: uuid.UUID
    store_id: uuid.UUID | None = None
    chain: Label | None = None
    channel: Channel | None = None
    min_facings: Facings = 1
    rrp_minor: MinorUnits | None = None
    price_tolerance_pct: Percent = 5.0


class AssortmentUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    min_facings: Facings | UnsetType = UNSET
    rrp_minor: MinorUnits | UnsetType | None = UNSET
    price_tolerance_pct: Percent | UnsetType = UNSET


class AssortmentImportResult(ImportResult):
    """An assortment import: with `replace`, `deleted` counts the rules removed because the file left them out."""

    deleted: int = 0
