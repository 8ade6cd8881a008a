"""Products, rules and an inspection typed on a phone, for the inspection tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from backend.catalog import services as catalog
from backend.catalog.barcodes import with_check_digit
from backend.catalog.schemas import AssortmentCreate, ProductCreate
from backend.inspections.ids import item_id
from backend.tables_base import utcnow
from tests.backend.visits.test_judging import STORE_LAT, STORE_LNG, check_in, iso
from tests.sync_device import Device
from tests.world import Tenant

_SERIAL = [0]


async def product(
    tenant: Tenant,
    *,
    own_brand: bool = True,
    rrp_minor: int | None = 450,
    must_stock: bool = True,
    min_facings: int = 2,
    price_tolerance_pct: float = 5.0,
) -> str:
    """A new product; must-stock for the tenant's "store" (by its chain) unless told otherwise."""
    _SERIAL[0] += 1
    admin = tenant.principal("admin", "admin")
    body = str(tenant.org_id.int % 10**6).zfill(6) + str(_SERIAL[0]).zfill(5)
    created = await catalog.create_product(
        admin,
        ProductCreate(
            code=f"T-{uuid.uuid4().hex[:8]}",
            name=f"Product {_SERIAL[0]}",
            brand="Demo" if own_brand else "Rival",
            category="Beverages",
            own_brand=own_brand,
            barcode=with_check_digit(body + "0"),
            rrp_minor=rrp_minor,
        ),
    )
    if must_stock:
        rule = AssortmentCreate(
            product_id=created.id,
            store_id=tenant.ids["store"],
            min_facings=min_facings,
            price_tolerance_pct=price_tolerance_pct,
        )
        await catalog.create_assortment(admin, rule)
    return str(created.id)


def start_inspection(phone: Device, tenant: Tenant, at: dt.datetime | None = None) -> tuple[str, str]:
    """A check-in at the tenant's "store" and an inspection in it: (visit, inspection)."""
    at = at or utcnow()
    visit = phone.create("visit", **check_in(tenant.ids["store"], at, STORE_LAT, STORE_LNG))
    inspection = phone.create(
        "inspection", visit_id=visit, store_id=str(tenant.ids["store"]), started_at=iso(at + dt.timedelta(minutes=1))
    )
    return visit, inspection


def audit(phone: Device, inspection: str, product_id: str, **values: Any) -> str:
    """Create or edit the item of `product_id` (its id is derived, so any device finds the same row)."""
    row = str(item_id(inspection, product_id))
    if phone.replica.causal_length("inspection_item", row) is None:
        phone.edit("inspection_item", row, _cl=1, inspection_id=inspection, product_id=product_id, **values)
    else:
        phone.edit("inspection_item", row, **values)
    return row
