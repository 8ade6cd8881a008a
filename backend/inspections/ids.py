"""Ids that every device derives the same way, so two devices creating "the same" row write one row.

An inspection item is the product audited in an inspection: its id is a UUIDv5 (RFC 9562 section 5.5) of the
inspection and the product. Two phones auditing one product of one inspection offline therefore edit the same row,
field by field, and the merge keeps the latest value of each field instead of two rows (docs/sync-protocol.md 8).
The out-of-stock reminder and alert of an item are derived the same way, so pushing the item twice, or marking it
out of stock, in stock and out of stock again, never makes a second one.
"""

from __future__ import annotations

import uuid

# Fixed forever: changing it would change every item id.
NAMESPACE = uuid.UUID("0d4c3f8e-6b1a-5e0f-9c2d-7a4b8e1f3c55")


def item_id(inspection_id: uuid.UUID | str, product_id: uuid.UUID | str) -> uuid.UUID:
    """The id of the item for `product_id` in `inspection_id`."""
    return uuid.uuid5(NAMESPACE, f"{uuid.UUID(str(inspection_id))}/{uuid.UUID(str(product_id))}")


def out_of_stock_reminder_id(inspection_id: uuid.UUID, product_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"oos-reminder/{inspection_id}/{product_id}")


def out_of_stock_alert_id(inspection_id: uuid.UUID, product_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"oos-alert/{inspection_id}/{product_id}")
