"""The expiring-stock report: for each store and product, its latest audit in the range, listed when the stock it
saw expires within N days of today (the organisation's local day) or has expired."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from backend import db
from backend.auth.principal import Principal
from backend.errors import Invalid
from backend.inspections.report_schemas import ExpiringReport, ExpiringRow, ReportFilter
from backend.inspections.reports._scope import report_scope
from backend.inspections.reports._sql import AT, Sql, as_date, as_instant, as_uuid, sql
from backend.inspections.rules import inspection_rules
from backend.tables_base import utcnow

MAX_WITHIN_DAYS = 365


async def expiring(principal: Principal, f: ReportFilter, within_days: int | None = None) -> ExpiringReport:
    """Rows sorted by expiry date (then store and product name); `days_left` is negative once expired. A latest
    audit that found the product out of stock, or noted no expiry date, lists nothing: it supersedes older ones.
    `within_days` defaults to the organisation's `expiry_warning_days`."""
    if within_days is not None and not 0 <= within_days <= MAX_WITHIN_DAYS:
        raise Invalid.field("within_days", f"must be 0..{MAX_WITHIN_DAYS}")
    async with db.read_transaction():
        scope = await report_scope(principal, f)
        if within_days is None:
            within_days = (await inspection_rules(principal.org_id)).expiry_warning_days
        today = utcnow().astimezone(ZoneInfo(scope.time_zone)).date()
        # The latest audit of each (store, product): ROW_NUMBER() runs on SQLite >= 3.25 and PostgreSQL alike.
        latest = sql(
            "SELECT i.store_id, it.product_id, it.present, it.expiry_date, it.quantity, i.rep_id,",
            f"{AT} AS audited_at, ROW_NUMBER() OVER (PARTITION BY i.store_id, it.product_id",
            f"ORDER BY {AT} DESC, i.id DESC) AS latest",
            scope.items(),
        )
        query = sql(
            "SELECT x.*, s.code AS store_code, s.name AS store_name, p.code AS product_code,",
            "p.name AS product_name, u.name AS rep_name FROM (",
            latest,
            ") x JOIN store s ON s.id = x.store_id JOIN product p ON p.id = x.product_id",
            "JOIN app_user u ON u.id = x.rep_id",
            Sql(
                "WHERE x.latest = 1 AND x.present AND x.expiry_date IS NOT NULL AND x.expiry_date <= {}",
                (today + dt.timedelta(days=within_days),),
            ),
            "ORDER BY x.expiry_date, s.name, p.name, s.id, p.id",
        )
        found = await db.fetch(query.text, *query.args)
    rows = []
    for r in found:
        expiry = as_date(r["expiry_date"])
        rows.append(
            ExpiringRow(
                store_id=as_uuid(r["store_id"]),
                store_code=r["store_code"],
                store_name=r["store_name"],
                product_id=as_uuid(r["product_id"]),
                product_code=r["product_code"],
                product_name=r["product_name"],
                expiry_date=expiry,
                days_left=(expiry - today).days,
                quantity=None if r["quantity"] is None else int(r["quantity"]),
                audited_at=as_instant(r["audited_at"]),
                rep_id=as_uuid(r["rep_id"]),
                rep_name=r["rep_name"],
            )
        )
    return ExpiringReport(
        date_from=f.date_from,
        date_to=f.date_to,
        time_zone=scope.time_zone,
        today=today,
        within_days=within_days,
        rows=rows,
    )
