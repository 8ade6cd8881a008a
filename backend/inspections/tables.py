from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
)
from piccolo.table import Table

from backend.catalog.tables import Product
from backend.orgs.tables import Organization, User
from backend.stores.tables import Store
from backend.tables_base import created_column, id_column, updated_column
from backend.visits.tables import Visit


class Inspection(Table):
    """A shelf audit made during a visit: one item per product looked at, scored by the server."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    visit_id = ForeignKey(Visit, null=False, index=True, on_delete=OnDelete.restrict)
    store_id = ForeignKey(Store, null=False, index=True, on_delete=OnDelete.restrict)
    rep_id = ForeignKey(User, null=False, index=True, on_delete=OnDelete.restrict)
    started_at = Timestamptz(null=True, default=None, index=True)
    # Server-owned scores, 0..1, recomputed when items change (backend/inspections/scores.py).
    oos_rate = DoublePrecision(null=True, default=None)
    assortment_compliance = DoublePrecision(null=True, default=None)
    facings_compliance = DoublePrecision(null=True, default=None)
    price_compliance = DoublePrecision(null=True, default=None)
    share_of_shelf = DoublePrecision(null=True, default=None)
    score = DoublePrecision(null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()


class InspectionItem(Table):
    """One product audited in an inspection. Its id is derived from the inspection and the product
    (backend/inspections/ids.py), so two devices auditing the same product write the same row."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    inspection_id = ForeignKey(Inspection, null=False, index=True, on_delete=OnDelete.restrict)
    product_id = ForeignKey(Product, null=False, index=True, on_delete=OnDelete.restrict)
    present = Boolean(default=True)
    quantity = Integer(null=True, default=None)
    facings = Integer(null=True, default=None)
    shelf_price_minor = Integer(null=True, default=None)
    promotion = Boolean(default=False)
    expiry_date = Date(null=True, default=None)
    note = Text(default="")
    # Ids of photos of the visit that show this product.
    photos = JSON(default=[])
    # Server-owned, from the store's assortment when the item was last scored: what the shelf should show.
    must_stock = Boolean(default=False)
    min_facings = Integer(null=True, default=None)
    reference_price_minor = Integer(null=True, default=None)
    price_tolerance_pct = DoublePrecision(null=True, default=None)
    # Server-owned: (shelf - reference) / reference in percent, and whether that is within the tolerance.
    price_deviation_pct = DoublePrecision(null=True, default=None)
    price_ok = Boolean(null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()
