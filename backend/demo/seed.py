"""Seed a realistic demo organisation: Demo Foods, a Shanghai food & beverage company with two weeks of history.

The organisation, users and territories go through the real services; the bulk (stores, products, rules, visits,
inspections) is validated the way the API validates it and then inserted in batches, because one service call per
row would take minutes. It all happens in one write transaction: a failed seeding leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from msgspec.structs import asdict
from piccolo.table import Table

from backend.catalog.tables import Assortment, Product
from backend.db import write_transaction
from backend.demo.catalogue import plan_assortments, plan_products
from backend.demo.history import plan_history
from backend.demo.inspections import plan_inspections
from backend.demo.places import Places, load_places
from backend.demo.stores import WEEK, DemoStore, plan_stores
from backend.demo.summary import DEMO_ORG_NAME, DatabaseNotEmpty, DemoSummary
from backend.demo.team import ZONE, Team, create_team
from backend.errors import Conflict
from backend.inspections.scoring import score_inspections
from backend.inspections.tables import Inspection, InspectionItem
from backend.orgs.services import create_organization
from backend.orgs.tables import Organization
from backend.planning.rules import PlanningRules, set_planning_rules
from backend.planning.schemas import DayRequest
from backend.planning.services import plan_day
from backend.settings import Settings
from backend.stores import fences
from backend.stores.schemas import TerritoryCreate
from backend.stores.services import store_values
from backend.stores.tables import Store
from backend.stores.territories import create_territory
from backend.sync_api.record import record_domain
from backend.visits.tables import Visit

BATCH_SIZE = 500


async def insert_in_batches(table: type[Table], rows: Sequence[Table]) -> None:
    """Insert rows `BATCH_SIZE` at a time (one statement per batch keeps under every driver's parameter limit)."""
    for start in range(0, len(rows), BATCH_SIZE):
        await table.insert(*rows[start : start + BATCH_SIZE]).run()


async def _check_room(force: bool) -> None:
    if not force and await Organization.exists().run():
        raise DatabaseNotEmpty("The database holds data already; pass --force to seed the demo alongside it")
    if await Organization.exists().where(Organization.name == DEMO_ORG_NAME).run():
        raise Conflict(f"An organisation named {DEMO_ORG_NAME!r} exists already", code="demo.exists")


async def _create_territories(team: Team, places: Places) -> dict[str, uuid.UUID]:
    admin = team.admin_principal()
    ids = {}
    for outline in places.territories:
        supervisor = team.supervisor_of(outline.key)
        territory = await create_territory(
            admin, TerritoryCreate(name=outline.name, polygon=outline.geojson(), supervisor_id=supervisor.user_id)
        )
        ids[outline.key] = territory.id
    return ids


async def seed_demo(
    *, force: bool = False, today: dt.date | None = None, seed: int = 2026, settings: Settings | None = None
) -> DemoSummary:
    """Create the Demo Foods organisation with its team, stores, catalogue and the two weeks before `today`.

    Refuses with `DatabaseNotEmpty` when any organisation exists, unless `force`; even then it never touches
    other data, and refuses with a `Conflict` (demo.exists) when a Demo Foods organisation exists already.
    The same `seed` and `today` always give the same data (apart from the generated ids and password hashes).
    """
    zone = ZoneInfo(ZONE)
    today = today or dt.datetime.now(zone).date()
    rng = random.Random(seed)
    places = load_places()
    async with write_transaction():
        await _check_room(force)
        org = await create_organization(DEMO_ORG_NAME, time_zone=ZONE, locale="en", currency="CNY")
        team = await create_team(org.id, places)
        territory_ids = await _create_territories(team, places)

        stores = plan_stores(rng, places, team, territory_ids)
        await insert_in_batches(Store, [Store(id=s.id, org_id=org.id, **store_values(s.data)) for s in stores])

        products = plan_products(rng)
        await insert_in_batches(Product, [Product(id=p.id, org_id=org.id, **asdict(p.data)) for p in products])
        rules = plan_assortments(rng, products, stores)
        assortments = [Assortment(org_id=org.id, **asdict(r)) for r in rules]
        await insert_in_batches(Assortment, assortments)

        visits = plan_history(rng, org_id=org.id, team=team, stores=stores, today=today, zone=zone)
        await insert_in_batches(Visit, visits)
        inspections, items = plan_inspections(
            rng, visits=visits, stores=stores, products=products, rules=rules, zone=zone
        )
        await insert_in_batches(Inspection, inspections)
        await insert_in_batches(InspectionItem, items)
        # Devices pull the demo like anything else written on the server.
        await record_domain(org.id, "store", [s.id for s in stores])
        await fences.remember(org.id, [s.id for s in stores])
        await record_domain(org.id, "product", [p.id for p in products])
        await record_domain(org.id, "assortment", [a.id for a in assortments])
        await record_domain(org.id, "visit", [v.id for v in visits])
        await record_domain(org.id, "inspection", [i.id for i in inspections])
        await record_domain(org.id, "inspection_item", [i.id for i in items])
        # Scored by the server as any synced inspection is (and the latest days' shortages raise follow-ups).
        await score_inspections(org.id, [str(i.id) for i in inspections])
        # The demo's reps work Monday to Saturday, as its history does.
        await set_planning_rules(org.id, PlanningRules(working_weekdays=["mon", "tue", "wed", "thu", "fri", "sat"]))
    # Today's route for every rep, as the planner makes it (straight-line travel unless settings name an OSRM).
    planned = 0
    for rep in team.reps:
        extra = _light_day_fill(rep.user_id, stores, visits, today)
        request = DayRequest(rep_id=rep.user_id, date=today, store_ids=extra)
        plan = await plan_day(team.admin_principal(), request, settings or Settings())
        planned += len(plan.stops)
    return DemoSummary(
        organization=org.name,
        logins=team.logins(),
        stores=len(stores),
        products=len(products),
        assortments=len(rules),
        visits=len(visits),
        inspections=len(inspections),
        planned_today=planned,
    )


FILL = 4


def _light_day_fill(
    rep_id: uuid.UUID, stores: Sequence[DemoStore], visits: Sequence[Visit], today: dt.date
) -> list[uuid.UUID]:
    """The rep's stores open today that were seen longest ago, offered to the planner besides those due: as a
    supervisor fills a rep's light day (the demo's history does not keep every beat to its weekday)."""
    weekday = WEEK[today.weekday()]
    last: dict[uuid.UUID, dt.datetime] = {}
    for visit in visits:
        if visit.rep_id == rep_id and visit.check_in_at is not None:
            last[visit.store_id] = max(last.get(visit.store_id, visit.check_in_at), visit.check_in_at)
    own = [s for s in stores if s.data.assigned_rep_id == rep_id and weekday in (s.data.opening_hours or {weekday: []})]
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    own.sort(key=lambda s: (last.get(s.id, oldest), s.data.code))
    return [s.id for s in own[:FILL]]
