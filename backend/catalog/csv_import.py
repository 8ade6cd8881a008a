"""Product and must-stock assortment import and export as CSV, like the store import (backend/stores/csv_import.py):
every row is checked against the database as it is inside the write transaction, then all rows are written, or
none are. A column the header leaves out leaves that field of an updated row unchanged; an empty cell clears an
optional field (barcode, pack_size, rrp) and keeps the default or the stored value of the others."""

from __future__ import annotations

import uuid
from typing import Any, get_args

from backend.auth.principal import Principal
from backend.catalog import schemas
from backend.catalog.barcodes import barcode_problem
from backend.catalog.services import gtin13
from backend.catalog.tables import Assortment, Product
from backend.csv_files import (
    RowError,
    convert_cells,
    format_amount,
    parse_amount,
    parse_flag,
    read_rows,
    reject_if_any,
    row_errors,
    write_rows,
)
from backend.db import write_transaction
from backend.errors import FieldError
from backend.orgs.services import get_organization
from backend.stores.schemas import Channel, ImportResult
from backend.stores.tables import Store
from backend.sync_api.record import record_delete, record_domain
from backend.tables_base import new_id, utcnow

PRODUCT_COLUMNS = ["code", "name", "brand", "category", "pack_size", "barcode", "rrp", "own_brand", "active"]
PRODUCT_REQUIRED = {"code", "name", "brand", "category", "own_brand"}
ASSORTMENT_COLUMNS = ["product_code", "store_code", "chain", "channel", "min_facings", "rrp", "price_tolerance_pct"]
ASSORTMENT_REQUIRED = {"product_code"}
TARGETS = ("store_code", "chain", "channel")
CHANNELS: tuple[str, ...] = get_args(Channel)
BATCH = 500


def _amount(row: dict[str, str], currency: str, cells: dict[str, Any], errors: list[RowError]) -> None:
    if "rrp" in row:
        try:
            cells["rrp_minor"] = parse_amount(row["rrp"], currency) if row["rrp"] else None
        except ValueError as exc:
            errors.append(RowError("rrp", str(exc)))


def _product_values(row: dict[str, str], currency: str) -> tuple[dict[str, Any], list[RowError]]:
    """The product columns of one row as checked column values, or every problem found in it."""
    errors = [RowError(c, "is required") for c in ("code", "name", "brand", "category") if not row[c]]
    cells: dict[str, Any] = {c: row[c] for c in ("code", "name", "brand", "category") if row[c]}
    if "pack_size" in row:
        cells["pack_size"] = row["pack_size"]
    if row.get("barcode"):
        problem = barcode_problem(row["barcode"])
        if problem:
            errors.append(RowError("barcode", problem))
        else:
            cells["barcode"] = row["barcode"]
    elif "barcode" in row:
        cells["barcode"] = None
    _amount(row, currency, cells, errors)
    for column in ("own_brand", "active"):
        try:
            flag = parse_flag(row, column)
        except RowError as exc:
            errors.append(exc)
            continue
        if flag is not None:
            cells[column] = flag
        elif column == "own_brand":
            errors.append(RowError(column, "is required: true or false"))
    values, problems = convert_cells(cells, schemas.ProductUpdate, {"rrp_minor": "rrp"})
    return values, errors + problems


async def import_products(principal: Principal, body: bytes) -> ImportResult:
    """Create or update (by `code`) every product of the file, or none; see docs/api.md."""
    rows = read_rows(body, PRODUCT_COLUMNS, PRODUCT_REQUIRED)
    currency = (await get_organization(principal.org_id)).currency
    codes_in_file = {row["code"] for row in rows}
    async with write_transaction():
        stored = (
            await Product.select(Product.id, Product.code, Product.barcode)
            .where(Product.org_id == principal.org_id)
            .run()
        )
        existing = {r["code"]: r for r in stored}
        owner_of = {gtin13(r["barcode"]): r["code"] for r in stored if r["barcode"]}
        errors: list[FieldError] = []
        parsed: list[dict[str, Any]] = []
        code_line: dict[str, int] = {}
        barcode_line: dict[str, int] = {}
        for line, row in enumerate(rows, start=2):  # the header is line 1
            values, problems = _product_values(row, currency)
            code, barcode = row["code"], values.get("barcode")
            if code and code in code_line:
                problems.append(RowError("code", f"{code!r} appears already on line {code_line[code]}"))
            code_line.setdefault(code, line)
            if barcode:
                key = gtin13(barcode)
                owner = owner_of.get(key)
                if key in barcode_line:
                    problems.append(RowError("barcode", f"{barcode!r} appears already on line {barcode_line[key]}"))
                elif owner is not None and owner != code and owner not in codes_in_file:
                    problems.append(RowError("barcode", f"{barcode!r} is the barcode of product {owner!r} already"))
                barcode_line.setdefault(key, line)
            errors.extend(row_errors(line, problems))
            if not problems:
                parsed.append(values)
        reject_if_any(errors)
        updates = [(existing[v["code"]], v) for v in parsed if v["code"] in existing]
        # The barcodes are unique: clear the changing ones first, so products of the file may swap barcodes.
        moving = [old["id"] for old, v in updates if "barcode" in v and v["barcode"] != old["barcode"]]
        for start in range(0, len(moving), BATCH):
            await Product.update({Product.barcode: None}).where(Product.id.is_in(moving[start : start + BATCH])).run()
        now = utcnow()
        for old, values in updates:
            changes = {getattr(Product, k): v for k, v in values.items()}
            await Product.update({**changes, Product.updated_at: now}).where(Product.id == old["id"]).run()
        inserts = [Product(id=new_id(), org_id=principal.org_id, **v) for v in parsed if v["code"] not in existing]
        for start in range(0, len(inserts), BATCH):
            await Product.insert(*inserts[start : start + BATCH]).run()
        await record_domain(principal.org_id, "product", [old["id"] for old, _ in updates] + [p.id for p in inserts])
    return ImportResult(created=len(inserts), updated=len(updates))


async def export_products(principal: Principal) -> str:
    """Every product of the organisation in the import format, by code."""
    currency = (await get_organization(principal.org_id)).currency
    rows = await Product.select().where(Product.org_id == principal.org_id).order_by(Product.code).run()
    return write_rows(
        PRODUCT_COLUMNS,
        (
            {
                **{c: r[c] for c in ("code", "name", "brand", "category", "pack_size")},
                "barcode": r["barcode"] or "",
                "rrp": format_amount(r["rrp_minor"], currency),
                "own_brand": "true" if r["own_brand"] else "false",
                "active": "true" if r["active"] else "false",
            }
            for r in rows
        ),
    )


RuleKey = tuple[uuid.UUID, str, str]  # product id, target column ("store_id", "chain", "channel"), its value


def _target(
    row: dict[str, str], stores: dict[str, uuid.UUID], cells: dict[str, Any], errors: list[RowError]
) -> str | None:
    """The one target column of the row (store_code, chain or channel), its checked value put in `cells`."""
    given = [c for c in TARGETS if row.get(c)]
    if not given:
        errors.append(RowError("store_code", "give exactly one of store_code, chain or channel"))
        return None
    for extra in given[1:]:
        errors.append(RowError(extra, f"give only one of store_code, chain or channel ({given[0]} is set)"))
    column = given[0]
    if column == "store_code":
        store_id = stores.get(row[column])
        if store_id is None:
            errors.append(RowError(column, f"no store with code {row[column]!r}"))
        else:
            cells["store_id"] = store_id
    elif column == "channel" and row[column] not in CHANNELS:
        errors.append(RowError(column, f"{row[column]!r} is not a channel: use one of {', '.join(CHANNELS)}"))
    else:
        cells[column] = row[column]
    return None if len(given) > 1 else column


def _assortment_values(
    row: dict[str, str], currency: str, products: dict[str, uuid.UUID], stores: dict[str, uuid.UUID]
) -> tuple[dict[str, Any], str | None, list[RowError]]:
    """One row as checked column values and its target column, or every problem found in it."""
    errors: list[RowError] = []
    cells: dict[str, Any] = {}
    code = row["product_code"]
    if not code:
        errors.append(RowError("product_code", "is required"))
    elif code not in products:
        errors.append(RowError("product_code", f"no product with code {code!r}"))
    else:
        cells["product_id"] = products[code]
    target = _target(row, stores, cells, errors)
    cells.update({c: row[c] for c in ("min_facings", "price_tolerance_pct") if row.get(c)})
    _amount(row, currency, cells, errors)
    values, problems = convert_cells(cells, schemas.AssortmentCreate, {"rrp_minor": "rrp"})
    return values, target, errors + problems


async def import_assortments(principal: Principal, body: bytes, *, replace: bool) -> schemas.AssortmentImportResult:
    """Create or update (by product and target) every rule of the file, or none; with `replace`, delete the
    organisation's rules the file leaves out, in the same transaction."""
    rows = read_rows(body, ASSORTMENT_COLUMNS, ASSORTMENT_REQUIRED)
    currency = (await get_organization(principal.org_id)).currency
    org_id = principal.org_id
    async with write_transaction():
        products = {
            r["code"]: r["id"]
            for r in await Product.select(Product.id, Product.code).where(Product.org_id == org_id).run()
        }
        stores = {
            r["code"]: r["id"] for r in await Store.select(Store.id, Store.code).where(Store.org_id == org_id).run()
        }
        rules: dict[RuleKey, uuid.UUID] = {}
        for rule in await Assortment.select().where(Assortment.org_id == org_id).run():
            for column in ("store_id", "chain", "channel"):
                if rule[column] is not None:
                    rules[(rule["product_id"], column, str(rule[column]))] = rule["id"]
                    break
        errors: list[FieldError] = []
        parsed: list[tuple[RuleKey, dict[str, Any]]] = []
        first_line: dict[tuple[str, str, str], int] = {}
        for line, row in enumerate(rows, start=2):  # the header is line 1
            values, target, problems = _assortment_values(row, currency, products, stores)
            if target is not None:
                seen = (row["product_code"], target, row[target])
                if seen in first_line:
                    problems.append(
                        RowError(
                            target,
                            f"product {seen[0]!r} with {target} {seen[2]!r} appears already on line {first_line[seen]}",
                        )
                    )
                first_line.setdefault(seen, line)
            errors.extend(row_errors(line, problems))
            if not problems and target is not None:
                column = "store_id" if target == "store_code" else target
                parsed.append(((values["product_id"], column, str(values[column])), values))
        reject_if_any(errors)
        now = utcnow()
        updated: list[uuid.UUID] = []
        inserts: list[Assortment] = []
        for key, values in parsed:
            if key in rules:
                changes = {getattr(Assortment, k): v for k, v in values.items()}
                await (
                    Assortment.update({**changes, Assortment.updated_at: now}).where(Assortment.id == rules[key]).run()
                )
                updated.append(rules[key])
            else:
                inserts.append(Assortment(id=new_id(), org_id=org_id, **values))
        for start in range(0, len(inserts), BATCH):
            await Assortment.insert(*inserts[start : start + BATCH]).run()
        await record_domain(org_id, "assortment", updated + [a.id for a in inserts])
        kept = {key for key, _ in parsed}
        gone = [rule_id for key, rule_id in rules.items() if replace and key not in kept]
        for start in range(0, len(gone), BATCH):
            await Assortment.delete().where(Assortment.id.is_in(gone[start : start + BATCH])).run()
        for rule_id in gone:
            await record_delete(org_id, "assortment", rule_id)
    return schemas.AssortmentImportResult(created=len(inserts), updated=len(updated), deleted=len(gone))


def _export_order(line: dict[str, Any]) -> tuple[str, int, str]:
    """Product code, then the target: stores, chains, channels, each by name."""
    kind = next((i for i, c in enumerate(TARGETS) if line[c]), len(TARGETS))
    return line["product_code"], kind, line[TARGETS[kind]] if kind < len(TARGETS) else ""


async def export_assortments(principal: Principal) -> str:
    """Every must-stock rule of the organisation in the import format, by product code, then target."""
    currency = (await get_organization(principal.org_id)).currency
    org_id = principal.org_id
    products = {
        r["id"]: r["code"] for r in await Product.select(Product.id, Product.code).where(Product.org_id == org_id).run()
    }
    stores = {r["id"]: r["code"] for r in await Store.select(Store.id, Store.code).where(Store.org_id == org_id).run()}
    lines = [
        {
            "product_code": products[r["product_id"]],
            "store_code": stores[r["store_id"]] if r["store_id"] is not None else "",
            "chain": r["chain"] or "",
            "channel": r["channel"] or "",
            "min_facings": r["min_facings"],
            "rrp": format_amount(r["rrp_minor"], currency),
            "price_tolerance_pct": r["price_tolerance_pct"],
        }
        for r in await Assortment.select().where(Assortment.org_id == org_id).run()
    ]
    lines.sort(key=_export_order)
    return write_rows(ASSORTMENT_COLUMNS, lines)
