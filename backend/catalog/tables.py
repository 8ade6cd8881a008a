from piccolo.columns import Boolean, DoublePrecision, ForeignKey, Integer, OnDelete, Varchar
from piccolo.table import Table

from backend.orgs.tables import Organization
from backend.stores.tables import Store
from backend.tables_base import created_column, id_column, updated_column


class Product(Table):
    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    code = Varchar(length=64)
    name = Varchar(length=200)
    brand = Varchar(length=100)
    category = Varchar(length=100, index=True)
    pack_size = Varchar(length=50, default="")
    # EAN-13 or UPC-A, check digit verified on the way in.
    barcode = Varchar(length=13, null=True, default=None)
    # Recommended retail price in minor units of the organisation's currency (cents, fen): exact everywhere.
    rrp_minor = Integer(null=True, default=None)
    own_brand = Boolean(default=False)
    active = Boolean(default=True)
    created_at = created_column()
    updated_at = updated_column()


class Assortment(Table):
    """A product that must be stocked by one store, by every store of a chain, or by every store of a channel."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    product_id = ForeignKey(Product, null=False, index=True, on_delete=OnDelete.restrict)
    store_id = ForeignKey(Store, null=True, index=True, on_delete=OnDelete.restrict)
    chain = Varchar(length=100, null=True, default=None)
    channel = Varchar(length=32, null=True, default=None)
    min_facings = Integer(default=1)
    # The price the shelf should show for this target; None falls back to the product's RRP.
    rrp_minor = Integer(null=True, default=None)
    price_tolerance_pct = DoublePrecision(default=5.0)
    created_at = created_column()
    updated_at = updated_column()
