"""The compliance report (the averages of the inspections' scores) and the price report (shelf prices against
their reference), each one GROUP BY in the database."""

from __future__ import annotations

from backend import db
from backend.auth.principal import Principal
from backend.inspections.report_schemas import (
    ComplianceBy,
    ComplianceReport,
    ComplianceRow,
    PriceBy,
    PriceReport,
    PriceRow,
    ReportFilter,
)
from backend.inspections.reports._groups import GROUPINGS, grouped
from backend.inspections.reports._scope import report_scope
from backend.inspections.reports._sql import as_key, rounded

SCORES = ("oos_rate", "assortment_compliance", "facings_compliance", "price_compliance", "share_of_shelf", "score")
DEVIATION = "it.price_deviation_pct"
PRICE_AGGREGATES = (
    f"COUNT(*) AS priced_audits, AVG({DEVIATION}) AS avg_deviation_pct, "
    f"AVG(ABS({DEVIATION})) AS avg_abs_deviation_pct, MIN({DEVIATION}) AS min_deviation_pct, "
    f"MAX({DEVIATION}) AS max_deviation_pct, SUM(CASE WHEN it.price_ok THEN 1 ELSE 0 END) AS within_tolerance, "
    "SUM(CASE WHEN NOT it.price_ok THEN 1 ELSE 0 END) AS out_of_tolerance"
)


async def compliance(principal: Principal, f: ReportFilter, by: ComplianceBy = "store") -> ComplianceReport:
    """Per group: the inspections and the average of each of their six scores (0..1), NULL scores left out (an
    average over none is null); sorted by label."""
    grouping = GROUPINGS[by]
    averages = ", ".join(f"AVG(i.{name}) AS {name}" for name in SCORES)
    async with db.read_transaction():
        scope = await report_scope(principal, f, needs_store=grouping.needs_store)
        query = grouped(grouping, f"COUNT(*) AS inspections, {averages}", scope.inspections())
        found = await db.fetch(query.text, *query.args)
    rows = [
        ComplianceRow(
            key=as_key(r["group_key"]),
            label=grouping.label_of(r),
            code=r["code"],
            inspections=int(r["inspections"]),
            **{name: rounded(r[name], 4) for name in SCORES},
        )
        for r in found
    ]
    rows.sort(key=lambda row: (row.label, row.key or ""))
    return ComplianceReport(date_from=f.date_from, date_to=f.date_to, time_zone=scope.time_zone, by=by, rows=rows)


async def prices(principal: Principal, f: ReportFilter, by: PriceBy = "product") -> PriceReport:
    """Per group, over the priced audits (items with a price deviation: a shelf price and a reference): the
    average, average absolute, lowest and highest deviation in percent, the audits within and outside the
    tolerance, and the share within it; sorted by audits outside the tolerance (most first), then label."""
    grouping = GROUPINGS[by]
    async with db.read_transaction():
        scope = await report_scope(principal, f, needs_store=grouping.needs_store)
        query = grouped(grouping, PRICE_AGGREGATES, scope.items(f"{DEVIATION} IS NOT NULL"))
        found = await db.fetch(query.text, *query.args)
    rows = []
    for r in found:
        priced, within = int(r["priced_audits"]), int(r["within_tolerance"])
        rows.append(
            PriceRow(
                key=as_key(r["group_key"]),
                label=grouping.label_of(r),
                code=r["code"],
                priced_audits=priced,
                avg_deviation_pct=round(float(r["avg_deviation_pct"]), 2),
                avg_abs_deviation_pct=round(float(r["avg_abs_deviation_pct"]), 2),
                min_deviation_pct=round(float(r["min_deviation_pct"]), 2),
                max_deviation_pct=round(float(r["max_deviation_pct"]), 2),
                within_tolerance=within,
                out_of_tolerance=int(r["out_of_tolerance"]),
                within_tolerance_rate=round(within / priced, 4),
            )
        )
    rows.sort(key=lambda row: (-row.out_of_tolerance, row.label, row.key or ""))
    return PriceReport(date_from=f.date_from, date_to=f.date_to, time_zone=scope.time_zone, by=by, rows=rows)
