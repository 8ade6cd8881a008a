"""GET /api/v1/reports/inspections/...: shelf-inspection reports over a local date range, JSON or CSV."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery

from backend.auth.guards import EVERYONE
from backend.deps import Caller
from backend.inspections import report_schemas as s
from backend.inspections import reports

CSV = "text/csv"
Format = Literal["json", "csv"]
Filters = NamedDependency[s.ReportFilter]
RANGE = (
    "`date_from` and `date_to` are local dates of the organisation's time zone, both included, at most 366 days "
    "apart. Filters `rep_id`, `territory_id`, `store_id`, `chain` narrow the caller's scope (admin: the "
    "organisation; supervisor: their team's inspections and those at stores of territories they supervise; rep: "
    "their own); one outside it is a 404. JSON by default, CSV with `format=csv`."
)


def _answers(report: type[msgspec.Struct]) -> dict[int, ResponseSpec]:
    """Document the JSON answer (the handlers return a Response, which OpenAPI can't see into)."""
    return {200: ResponseSpec(data_container=report, description="The report; with format=csv, text/csv instead")}


def provide_filter(
    date_from: FromQuery[dt.date],
    date_to: FromQuery[dt.date],
    rep_id: FromQuery[uuid.UUID | None] = None,
    territory_id: FromQuery[uuid.UUID | None] = None,
    store_id: FromQuery[uuid.UUID | None] = None,
    chain: FromQuery[str | None] = None,
) -> s.ReportFilter:
    return s.ReportFilter(
        date_from=date_from, date_to=date_to, rep_id=rep_id, territory_id=territory_id, store_id=store_id, chain=chain
    )


def _csv(text: str, name: str, f: s.ReportFilter) -> Response[Any]:
    filename = f"inspections-{name}-{f.date_from}-{f.date_to}.csv"
    return Response(text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class InspectionReportController(Controller):
    path = "/api/v1/reports/inspections"
    tags = ["reports"]
    dependencies = {"filters": Provide(provide_filter, sync_to_thread=False)}

    @get(
        "/out-of-stock",
        guards=EVERYONE,
        responses=_answers(s.StockReport),
        summary="Out of stock per product, store, chain or territory, with its trend and hotspots",
        description=f"{RANGE} The trend is per local day up to 31 days, else per ISO week (Monday start). CSV "
        "exports the rows, or `part=trend` / `part=hotspots`.",
    )
    async def out_of_stock(
        self,
        principal: Caller,
        filters: Filters,
        by: FromQuery[s.StockBy] = "product",
        must_stock_only: FromQuery[bool] = False,
        format: FromQuery[Format] = "json",
        part: FromQuery[s.StockPart] = "rows",
    ) -> Response[Any]:
        report = await reports.out_of_stock(principal, filters, by, must_stock_only=must_stock_only)
        if format == "json":
            return Response(report)
        tables: dict[str, tuple[type[msgspec.Struct], list[Any]]] = {
            "rows": (s.StockRow, report.rows),
            "trend": (s.TrendPoint, report.trend),
            "hotspots": (s.Hotspot, report.hotspots),
        }
        kind, rows = tables[part]
        name = f"out-of-stock-by-{by}" if part == "rows" else f"out-of-stock-{part}"
        return _csv(reports.table_csv(kind, rows), name, filters)

    @get(
        "/compliance",
        guards=EVERYONE,
        responses=_answers(s.ComplianceReport),
        summary="Inspections and the averages of their six scores per store, chain, territory or rep",
        description=RANGE,
    )
    async def compliance(
        self,
        principal: Caller,
        filters: Filters,
        by: FromQuery[s.ComplianceBy] = "store",
        format: FromQuery[Format] = "json",
    ) -> Response[Any]:
        report = await reports.compliance(principal, filters, by)
        if format == "json":
            return Response(report)
        return _csv(reports.table_csv(s.ComplianceRow, report.rows), f"compliance-by-{by}", filters)

    @get(
        "/prices",
        guards=EVERYONE,
        responses=_answers(s.PriceReport),
        summary="Shelf prices against their reference per product, store, chain or territory",
        description=RANGE,
    )
    async def prices(
        self,
        principal: Caller,
        filters: Filters,
        by: FromQuery[s.PriceBy] = "product",
        format: FromQuery[Format] = "json",
    ) -> Response[Any]:
        report = await reports.prices(principal, filters, by)
        if format == "json":
            return Response(report)
        return _csv(reports.table_csv(s.PriceRow, report.rows), f"prices-by-{by}", filters)

    @get(
        "/expiring",
        guards=EVERYONE,
        responses=_answers(s.ExpiringReport),
        summary="Stock seen by the latest audit of each store and product that expires within N days",
        description=f"{RANGE} `within_days` is 0..365, by default the organisation's `expiry_warning_days`.",
    )
    async def expiring(
        self,
        principal: Caller,
        filters: Filters,
        within_days: FromQuery[int | None] = None,
        format: FromQuery[Format] = "json",
    ) -> Response[Any]:
        report = await reports.expiring(principal, filters, within_days)
        if format == "json":
            return Response(report)
        return _csv(reports.table_csv(s.ExpiringRow, report.rows), "expiring", filters)
