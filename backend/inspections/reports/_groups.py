"""What a report groups by: the SQL key of each grouping and where its label comes from.

The aggregate groups by the bare key (an id or the chain), then the few groups are joined to their labels, so a
report over a million items joins the product or store tables once per group, not once per item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.inspections.reports._sql import Sql, sql


@dataclass(frozen=True)
class Grouping:
    key: str  # an expression over the scope's aliases: i (inspection), it (item), s (store)
    needs_store: bool
    of_inspection: bool  # one value per inspection (all but the product)
    join: str  # joins the group `g` to its label row `l`
    label: str
    code: str
    no_key: str  # the label of the group whose key is NULL

    def label_of(self, row: Any) -> str:
        return str(row["label"]) if row["label"] is not None else self.no_key


def _labelled(table: str, code: str = "NULL", no_key: str = "") -> dict[str, str]:
    """The label of a group keyed by an id: the name of that row of `table`."""
    return {"join": f"LEFT JOIN {table} l ON l.id = g.group_key", "label": "l.name", "code": code, "no_key": no_key}


GROUPINGS = {
    "product": Grouping("it.product_id", needs_store=False, of_inspection=False, **_labelled("product", "l.code")),
    "store": Grouping("i.store_id", needs_store=False, of_inspection=True, **_labelled("store", "l.code")),
    "chain": Grouping(
        "s.chain", needs_store=True, of_inspection=True, join="", label="g.group_key", code="NULL", no_key="(no chain)"
    ),
    "territory": Grouping(
        "s.territory_id", needs_store=True, of_inspection=True, **_labelled("territory", no_key="(no territory)")
    ),
    "rep": Grouping("i.rep_id", needs_store=False, of_inspection=True, **_labelled("app_user")),
}


def grouped(grouping: Grouping, aggregates: str, source: Sql, key: str | None = None) -> Sql:
    """One statement: `aggregates` over `source` (a FROM ... WHERE ...) per group, with each group's label. The
    group is `key` when given (a column of a derived table in `source`), else the grouping's own key."""
    key = key or grouping.key
    inner = sql(f"SELECT {key} AS group_key, {aggregates}", source, f"GROUP BY {key}")
    return sql(f"SELECT g.*, {grouping.label} AS label, {grouping.code} AS code FROM (", inner, f") g {grouping.join}")
