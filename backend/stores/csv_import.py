"""Store import and export as CSV: every row is validated first, then all rows are written in one transaction,
or none are. A row whose code exists already updates that store; others are created."""

from __future__ import annotations

from typing import Any

import msgspec

from backend.auth.principal import Principal
from backend.csv_files import RowError, parse_flag, read_rows, reject_if_any, row_errors, write_rows
from backend.db import write_transaction
from backend.errors import DomainError, FieldError
from backend.orgs.tables import User
from backend.stores import fences, schemas
from backend.stores.services import check_shape, store_values, visible_stores
from backend.stores.tables import Store, Territory
from backend.stores.text_formats import (
    format_frequency,
    format_opening_hours,
    parse_frequency,
    parse_opening_hours,
)
from backend.sync_api.record import record_domain
from backend.tables_base import new_id, utcnow

COLUMNS = [
    "code", "name", "chain", "channel", "address", "district", "city", "postcode", "country", "lat", "lng",
    "fence_radius_m", "fence_polygon", "opening_hours", "frequency", "visit_minutes", "min_visit_minutes", "priority",
    "rep_email", "territory", "active",
]  # fmt: skip
REQUIRED = {"code", "name", "channel", "lat", "lng"}


def _convert_reporting_all(raw: dict[str, Any]) -> tuple[schemas.StoreCreate | None, list[RowError]]:
    """Convert to StoreCreate; msgspec stops at the first bad field, so drop it and retry to find the others."""
    errors: list[RowError] = []
    while True:
        try:
            data = msgspec.convert(raw, schemas.StoreCreate, strict=False)
            return (None if errors else data), errors
        except msgspec.ValidationError as exc:
            message, _, where = str(exc).partition(" - at `$.")
            field = where.rstrip("`").split(".")[0].split("[")[0] if where else ""
            column = {"geofence": "fence_radius_m", "visit_frequency": "frequency"}.get(field, field or "row")
            errors.append(RowError(column, message))
            if not field or field not in raw or field in REQUIRED:
                if field in REQUIRED and field in raw:
                    raw = {**raw, field: _PLACEHOLDERS[field]}
                    continue
                return None, errors
            raw = {k: v for k, v in raw.items() if k != field}


# Stand-ins for a bad required cell, so the rest of the row is still checked.
_PLACEHOLDERS: dict[str, Any] = {"code": "X", "name": "X", "channel": "other", "lat": 0.0, "lng": 0.0}


def _row_to_create(
    row: dict[str, str], reps: dict[str, Any], territories: dict[str, Any]
) -> tuple[schemas.StoreCreate | None, list[RowError]]:
    """The row as a StoreCreate, or every problem found in it."""
    errors: list[RowError] = []
    raw: dict[str, Any] = {k: row[k] for k in ("code", "name", "channel", "lat", "lng") if k in row}
    optional = ("chain", "address", "district", "city", "postcode", "country", "visit_minutes", "min_visit_minutes")
    for key in (*optional, "priority"):
        if row.get(key):
            raw[key] = row[key]
    if row.get("fence_polygon"):
        try:
            raw["geofence"] = {"kind": "polygon", "polygon": msgspec.json.decode(row["fence_polygon"])}
        except msgspec.DecodeError as exc:
            errors.append(RowError("fence_polygon", f"is not GeoJSON: {exc}"))
    elif row.get("fence_radius_m"):
        raw["geofence"] = {"kind": "circle", "radius_m": row["fence_radius_m"]}
    for key, parse, target in (
        ("opening_hours", parse_opening_hours, "opening_hours"),
        ("frequency", parse_frequency, "visit_frequency"),
    ):
        if row.get(key):
            try:
                raw[target] = msgspec.to_builtins(parse(row[key]))
            except (ValueError, msgspec.ValidationError, msgspec.DecodeError) as exc:
                errors.append(RowError(key, str(exc).split(" - at `$")[0]))
    if row.get("rep_email"):
        rep_id = reps.get(row["rep_email"].lower())
        if rep_id is None:
            errors.append(RowError("rep_email", f"no rep with email {row['rep_email']!r} in this organisation"))
        else:
            raw["assigned_rep_id"] = str(rep_id)
    if row.get("territory"):
        territory_id = territories.get(row["territory"])
        if territory_id is None:
            errors.append(RowError("territory", f"no territory named {row['territory']!r}"))
        else:
            raw["territory_id"] = str(territory_id)
    data, convert_errors = _convert_reporting_all(raw)
    errors.extend(convert_errors)
    if data is not None and not errors:
        try:
            check_shape(data.geofence, data.opening_hours, data.lat, data.lng)
        except DomainError as exc:
            error = exc.errors[0] if exc.errors else FieldError("row", exc.detail)
            column = "fence_polygon" if error.field.startswith("geofence") else error.field
            errors.append(RowError(column, error.message))
    return (None if errors else data), errors


async def import_stores(principal: Principal, body: bytes) -> schemas.ImportResult:
    rows = read_rows(body, COLUMNS, REQUIRED)
    reps = {
        r["email"]: r["id"]
        for r in await User.select(User.id, User.email)
        .where((User.org_id == principal.org_id) & (User.role == "rep"))
        .run()
    }
    territories = {
        r["name"]: r["id"]
        for r in await Territory.select(Territory.id, Territory.name).where(Territory.org_id == principal.org_id).run()
    }
    errors: list[FieldError] = []
    parsed: list[tuple[schemas.StoreCreate, bool | None]] = []
    first_line: dict[str, int] = {}
    for index, row in enumerate(rows):
        line = index + 2  # the header is line 1
        data, problems = _row_to_create(row, reps, territories)
        try:
            active = parse_flag(row, "active")
        except RowError as exc:
            problems.append(exc)
        code = row.get("code", "")
        if code and code in first_line:
            problems.append(RowError("code", f"{code!r} appears already on line {first_line[code]}"))
        first_line.setdefault(code, line)
        errors.extend(row_errors(line, problems))
        if data is not None and not problems:
            parsed.append((data, active))
    reject_if_any(errors)
    existing = {
        r["code"]: r["id"]
        for r in await Store.select(Store.id, Store.code).where(Store.org_id == principal.org_id).run()
    }
    created = updated = 0
    now = utcnow()
    async with write_transaction():
        inserts = []
        for data, active in parsed:
            values = store_values(data)
            if active is not None:
                values["active"] = active
            if data.code in existing:
                values["updated_at"] = now
                await (
                    Store.update({getattr(Store, k): v for k, v in values.items()})
                    .where((Store.id == existing[data.code]) & (Store.org_id == principal.org_id))
                    .run()
                )
                updated += 1
            else:
                inserts.append(Store(id=new_id(), org_id=principal.org_id, **values))
                created += 1
        for start in range(0, len(inserts), 500):
            await Store.insert(*inserts[start : start + 500]).run()
        written = [existing[data.code] for data, _ in parsed if data.code in existing] + [s.id for s in inserts]
        await record_domain(principal.org_id, "store", written)
        await fences.remember(principal.org_id, written)
    return schemas.ImportResult(created=created, updated=updated)


async def export_stores(principal: Principal) -> str:
    condition = await visible_stores(principal)
    rows = await Store.select().where(condition).order_by(Store.code).output(load_json=True).run()
    emails = {
        r["id"]: r["email"] for r in await User.select(User.id, User.email).where(User.org_id == principal.org_id).run()
    }
    names = {
        r["id"]: r["name"]
        for r in await Territory.select(Territory.id, Territory.name).where(Territory.org_id == principal.org_id).run()
    }
    out: list[dict[str, Any]] = []
    for row in rows:
        store = msgspec.convert(row, schemas.Store, strict=False)
        fence = store.geofence
        out.append(
            {
                **{k: getattr(store, k) or "" for k in ("code", "name", "chain", "channel", "address", "district")},
                **{k: getattr(store, k) for k in ("city", "postcode", "country", "lat", "lng")},
                "fence_radius_m": fence.radius_m if isinstance(fence, schemas.CircleFence) else "",
                "fence_polygon": msgspec.json.encode(fence.polygon).decode()
                if isinstance(fence, schemas.PolygonFence)
                else "",
                "opening_hours": format_opening_hours(store.opening_hours),
                "frequency": format_frequency(store.visit_frequency),
                "visit_minutes": store.visit_minutes,
                "min_visit_minutes": store.min_visit_minutes,
                "priority": store.priority,
                "rep_email": emails.get(store.assigned_rep_id, ""),
                "territory": names.get(store.territory_id, ""),
                "active": "true" if store.active else "false",
            }
        )
    return write_rows(COLUMNS, out)
