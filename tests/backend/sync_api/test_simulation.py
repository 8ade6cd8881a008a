"""A seeded simulation of a sales team syncing through the real app: nothing acknowledged is lost, all converge.

Reps with several devices each, supervisors and admins edit offline, sync through a network that loses, duplicates
and reorders messages, some with clocks ten minutes fast; an admin moves stores between reps and territories and
reps between supervisors (scope changes), and the server restarts twice. At the end every replica must equal a
fresh download of its user's scope, every change the server acknowledged must still be its field's winner or beaten
by a later one, and the domain tables must hold exactly the live rows the replicas show (docs/sync-protocol.md
section 1). Set FIELDBOOK_SIM_SEED to replay another run.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
import uuid
from collections import Counter
from random import Random
from typing import Any

import httpx
import msgspec

from backend import db
from backend.app import create_app
from backend.orgs import services as orgs
from backend.orgs.schemas import UserCreate
from backend.settings import Settings
from backend.stores import services as stores
from backend.stores.schemas import StoreCreate
from backend.sync_api.clock import server_clock
from backend.sync_api.tables import SyncCounter, SyncField
from backend.visits.tables import Reminder, Visit
from sync.changes import Change, wins
from sync.clock import Clock, physical_ms
from sync.merge import Replica
from tests.backend.sync_api.faults import FAULTS, SimDevice, Tally
from tests.sync_device import Device
from tests.world import PASSWORD, Tenant, World, login

SEED = int(os.environ.get("FIELDBOOK_SIM_SEED", "1"))
ROUNDS = 240
FAST_CLOCK_MS = 10 * 60 * 1000
# Extra reps beyond the world's three, with their supervisor (None: a rep nobody supervises).
EXTRA_REPS = {"rep4": "supervisor", "rep5": "supervisor", "rep6": "supervisor2", "rep7": None}
# Devices per user; the named devices run ten minutes fast.
DEVICES = {"rep": 3, "rep2": 2, "rep3": 3, "rep4": 2, "rep5": 2, "rep6": 2, "rep7": 2}
DEVICES |= {"supervisor": 2, "supervisor2": 2, "admin": 2}
FAST = {"rep2-tablet", "rep5-phone"}
KINDS = ("phone", "tablet", "laptop")
SMALL_PAGE = 40  # every third device pulls in pages this small

STATES = ("planned", "checked_in", "checked_out", "skipped")
OUTCOMES = (None, "order_taken", "no_order", "store_closed", "manager_absent", "other")


class Simulation:
    def __init__(self, world: World, client: httpx.AsyncClient, settings: Settings) -> None:
        self.t: Tenant = world.own
        self.client = client
        self.settings = settings
        self.rng = Random(SEED)
        self.tally = Tally()
        self.devices: list[SimDevice] = []
        self.roles: dict[str, str] = {}
        self.stores: list[uuid.UUID] = []
        self.round = 0
        self.restarts = 0
        self.scope_changes: Counter[str] = Counter()
        self.clients: list[httpx.AsyncClient] = []

    # -- the world ----------------------------------------------------------------------------------------------

    async def build(self) -> None:
        t = self.t
        self.roles = {"admin": "admin", "supervisor": "supervisor", "supervisor2": "supervisor"}
        self.roles |= {name: "rep" for name in ("rep", "rep2", "rep3", *EXTRA_REPS)}
        for name, supervisor in EXTRA_REPS.items():
            email = f"{name}@sim.test"
            created = await orgs.create_user(
                t.org_id,
                UserCreate(
                    email=email,
                    password=PASSWORD,
                    name=name.title(),
                    role="rep",
                    supervisor_id=t.users[supervisor] if supervisor else None,
                ),
            )
            t.users[name], t.emails[name] = created.id, email
            t.tokens[name] = await login(self.client, email)
        admin = t.principal("admin", "admin")
        self.stores = [t.ids["store"], t.ids["store2"], t.ids["store3"]]
        reps = self.reps
        for n in range(9):
            store = await stores.create_store(
                admin,
                StoreCreate(
                    code=f"SIM-{n}",
                    name=f"Simulated store {n}",
                    channel="convenience",
                    lat=31.22 + n / 1000,
                    lng=121.44,
                    assigned_rep_id=t.users[reps[n % len(reps)]],
                    territory_id=t.ids["territory"] if n % 3 == 0 else None,
                ),
            )
            self.stores.append(store.id)
        for user, count in DEVICES.items():
            for kind in KINDS[:count]:
                name = f"{user}-{kind}"
                self.devices.append(
                    SimDevice(
                        self.client,
                        t.tokens[user],
                        name=name,
                        tally=self.tally,
                        rng=self.rng,
                        skew_ms=FAST_CLOCK_MS if name in FAST else 0,
                        page=SMALL_PAGE if len(self.devices) % 3 == 0 else None,
                        last_seq=self.last_seq,
                    )
                )
        for device in self.devices:
            await device.sync()

    async def last_seq(self) -> int:
        row = await SyncCounter.select(SyncCounter.last_seq).where(SyncCounter.org_id == self.t.org_id).first().run()
        return int(row["last_seq"]) if row else 0

    @property
    def reps(self) -> list[str]:
        return [u for u, role in self.roles.items() if role == "rep"]

    def user_of(self, device: Device) -> str:
        return device.node.rsplit("-", 1)[0]

    # -- one round ----------------------------------------------------------------------------------------------

    async def play_round(self) -> None:
        rng = self.rng
        if self.round in (ROUNDS // 3, 2 * ROUNDS // 3):
            await self.restart()
        if rng.random() < 0.08:
            await self.change_scope()
        for _ in range(rng.randint(1, 3)):
            self.edit_offline(rng.choice(self.devices))
        back = [d for d in self.devices if d.offline_until == self.round]
        for device in back + rng.sample(self.devices, 2):
            if device.offline_until <= self.round:
                fault = rng.choice(FAULTS) if rng.random() < 0.3 else None
                await device.sync(fault=fault)
        if rng.random() < 0.08:
            rng.choice(self.devices).offline_until = self.round + rng.randint(3, 30)
        self.round += 1

    def edit_offline(self, device: SimDevice) -> None:
        rng = self.rng
        if self.roles[self.user_of(device)] == "rep" and rng.random() < 0.75:
            self.edit_visits(device)
        else:
            self.edit_reminders(device)

    def edit_visits(self, device: SimDevice) -> None:
        rng = self.rng
        me = str(self.t.users[self.user_of(device)])
        stores_ = [s for s, f in device.replica.rows("store").items() if f.get("assigned_rep_id") == me]
        live = list(device.replica.rows("visit"))
        deleted = [r for (tbl, r) in device.replica.fields if tbl == "visit" and r not in live]
        action = rng.choices(("create", "edit", "delete", "restore"), (3, 5, 1, 1))[0]
        if action == "create" and stores_:
            device.create("visit", **visit_values(rng, rng.choice(stores_)))
        elif action == "edit" and live:
            device.edit("visit", rng.choice(live), **visit_edit(rng))
        elif action == "delete" and live:
            device.delete("visit", rng.choice(live))
        elif action == "restore" and deleted:
            device.restore("visit", rng.choice(deleted))

    def edit_reminders(self, device: SimDevice) -> None:
        rng = self.rng
        me = str(self.t.users[self.user_of(device)])
        mine = [r for r, f in device.replica.rows("reminder").items() if f.get("user_id") in (me, None)]
        if not mine or rng.random() < 0.4:
            values: dict[str, Any] = {"text": f"call back {rng.randint(1, 999)}", "due_at": instant(rng)}
            if self.roles[self.user_of(device)] == "rep":
                stores_ = [s for s, f in device.replica.rows("store").items() if f.get("assigned_rep_id") == me]
                visits = list(device.replica.rows("visit"))
                if stores_ and rng.random() < 0.5:
                    values["store_id"] = rng.choice(stores_)
                if visits and rng.random() < 0.3:
                    values["visit_id"] = rng.choice(visits)
            device.create("reminder", **values)
        elif rng.random() < 0.1:
            device.delete("reminder", rng.choice(mine))
        else:
            edit: dict[str, Any] = rng.choice(
                [
                    {"text": f"edited {rng.randint(1, 999)}"},
                    {"status": rng.choice(("pending", "dismissed"))},
                    {"urgent": rng.random() < 0.5},
                    {"due_at": instant(rng)},
                ]
            )
            device.edit("reminder", rng.choice(mine), **edit)

    async def change_scope(self) -> None:
        """An admin changes who sees what over REST: a store to another rep (mostly), in or out of the territory,
        a rep to another supervisor, the territory to another supervisor."""
        rng, t = self.rng, self.t
        kind = rng.choices(("store rep", "store territory", "rep team", "territory"), (12, 3, 3, 2))[0]
        if kind == "store rep":
            rep = rng.choice(self.reps) if rng.random() < 0.9 else None
            path, body = f"stores/{rng.choice(self.stores)}", {"assigned_rep_id": self.user_id(rep)}
        elif kind == "store territory":
            territory = str(t.ids["territory"]) if rng.random() < 0.5 else None
            path, body = f"stores/{rng.choice(self.stores)}", {"territory_id": territory}
        elif kind == "rep team":
            supervisor = rng.choice(("supervisor", "supervisor2", None))
            path, body = f"users/{t.users[rng.choice(self.reps)]}", {"supervisor_id": self.user_id(supervisor)}
        else:
            supervisor = rng.choice(("supervisor", "supervisor2"))
            path, body = f"territories/{t.ids['territory']}", {"supervisor_id": self.user_id(supervisor)}
        response = await self.client.patch(f"/api/v1/{path}", json=body, headers=t.auth("admin"))
        assert response.status_code == 200, response.text
        self.scope_changes[kind] += 1

    def user_id(self, who: str | None) -> str | None:
        return str(self.t.users[who]) if who else None

    async def restart(self) -> None:
        """A new process: a new app and engine on the same database, a new server node id; devices carry on."""
        await db.stop(db.current_engine())
        server_clock.cache_clear()
        app = create_app(self.settings)
        await db.start(db.current_engine())
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))  # type: ignore[arg-type]
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
        self.clients.append(self.client)
        for device in self.devices:
            device.client = self.client
        self.restarts += 1

    # -- the end ------------------------------------------------------------------------------------------------

    async def settle(self) -> int:
        """Every device online, syncing until a whole pass pushes and pulls nothing."""
        for device in self.devices:
            device.offline_until = 0
        for passes in range(1, 10):
            for device in self.devices:
                device.pulled = 0
                await device.sync()
            if all(not d.outbox and not d.pulled and d.in_doubt is None for d in self.devices):
                return passes
        raise AssertionError("the devices did not settle in 9 passes")

    async def check(self) -> dict[str, Any]:
        diverged = []
        for device in self.devices:
            fresh = Device(self.client, device.token)
            await fresh.sync()
            sums = {device.checksum(), device.server_checksum, fresh.checksum(), fresh.server_checksum}
            if device.replica.state() != fresh.replica.state() or len(sums) != 1:
                diverged.append(f"{device.node}: {describe(device.replica, fresh.replica)}, checksums {sums}")
        server = Device(self.client, self.t.tokens["admin"])
        await server.sync()
        if server.replica.state() != await stored_state(self.t.org_id):
            diverged.append("an admin's full download differs from sync_field")
        lost = [c for c in self.tally.ledger.values() if not kept(server.replica, c)]
        scope_leaks = [
            f"{d.node} holds visit {row} of someone else"
            for d in self.devices
            if self.roles[self.user_of(d)] == "rep"
            for row, f in d.replica.rows("visit").items()
            if f["rep_id"] != str(self.t.users[self.user_of(d)])
        ]
        domain = await domain_mismatches(self.t.org_id, server.replica)
        return {
            "seed": SEED,
            "devices": len(self.devices),
            "rounds": self.round,
            "changes made": self.tally.made,
            "changes acknowledged": len(self.tally.ledger),
            "restamped after clock skew": self.tally.restamped,
            "faults": dict(sorted(self.tally.faults.items())),
            "rejections": dict(sorted(self.tally.rejected.items())),
            "refetches": self.tally.refetches,
            "server errors": self.tally.server_errors,
            "syncs": self.tally.syncs,
            "requests": self.tally.requests,
            "restarts": self.restarts,
            "server node ids in the data": len(
                {c.node for c in server.replica.changes() if c.node.startswith("server")}
            ),
            "scope changes": dict(sorted(self.scope_changes.items())),
            "live visits": len(server.replica.rows("visit")),
            "live reminders": len(server.replica.rows("reminder")),
            "lost": len(lost),
            "diverged": len(diverged),
            "details": {
                "lost": [str(c) for c in lost[:5]],
                "diverged": diverged[:5],
                "scope leaks": scope_leaks[:5],
                "domain mismatches": domain[:5],
                "violations": self.tally.violations[:10],
                "violation count": len(self.tally.violations),
            },
        }


def instant(rng: Random) -> str:
    moment = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 30))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_in(rng: Random) -> dict[str, Any]:
    return {
        "check_in_at": instant(rng),
        "check_in_lat": round(31.22 + rng.random() / 100, 6),
        "check_in_lng": round(121.44 + rng.random() / 100, 6),
        "check_in_accuracy_m": float(rng.randint(3, 80)),
    }


def visit_values(rng: Random, store_id: str) -> dict[str, Any]:
    values: dict[str, Any] = {"store_id": store_id, "state": rng.choice(STATES), "planned": rng.random() < 0.5}
    if rng.random() < 0.5:
        values["planned_date"] = f"2026-12-{rng.randint(1, 28):02d}"
    if values["state"] in ("checked_in", "checked_out"):
        values |= check_in(rng)
    if rng.random() < 0.6:
        values["notes"] = f"note {rng.randint(1, 9999)}"
    return values


def visit_edit(rng: Random) -> dict[str, Any]:
    return rng.choice(
        [
            {"notes": f"note {rng.randint(1, 9999)}"},
            {"notes": f"note {rng.randint(1, 9999)}"},
            {"outcome": rng.choice(OUTCOMES)},
            {"state": rng.choice(STATES)},
            check_in(rng),
            {"order_value_minor": rng.randint(0, 500_000)},
            {"state": "skipped", "skip_reason": rng.choice(("closed", "road works", "no stock"))},
        ]
    )


def kept(server: Replica, change: Change) -> bool:
    """The acknowledged change is its field's stored winner, or was beaten by one that wins over it."""
    stored = server.fields.get((change.table, change.row), {}).get(change.column)
    return stored is not None and (stored == change or wins(stored, change))


async def stored_state(org_id: uuid.UUID) -> dict[Any, Any]:
    rows = (
        await SyncField.select(
            SyncField.tbl, SyncField.row_id, SyncField.col, SyncField.value, SyncField.hlc, SyncField.node
        )
        .where(SyncField.org_id == org_id)
        .run()
    )
    replica = Replica()
    for r in rows:
        change = Change(r["tbl"], r["row_id"], r["col"], msgspec.json.decode(r["value"]), r["hlc"], r["node"])
        replica.fields.setdefault((change.table, change.row), {})[change.column] = change
    return replica.state()


async def domain_mismatches(org_id: uuid.UUID, server: Replica) -> list[str]:
    """The Visit and Reminder tables hold exactly the live replicated rows, once each, with the same values."""
    found = []
    for table, domain, columns in (
        ("visit", Visit, ("rep_id", "store_id", "state", "notes", "outcome", "planned", "order_value_minor")),
        ("reminder", Reminder, ("user_id", "store_id", "visit_id", "text", "status", "urgent")),
    ):
        rows = await domain.select().where(domain.org_id == org_id).run()
        ids = [str(r["id"]) for r in rows]
        live = server.rows(table)
        if len(ids) != len(set(ids)):
            found.append(f"{table}: duplicated ids {[i for i, n in Counter(ids).items() if n > 1][:3]}")
        if set(ids) != set(live):
            found.append(f"{table}: only in the domain table {sorted(set(ids) - set(live))[:3]}")
            found.append(f"{table}: only replicated {sorted(set(live) - set(ids))[:3]}")
        for r in rows:
            fields = live.get(str(r["id"]), {})
            for column in columns if fields else ():
                have = r[column] if not isinstance(r[column], uuid.UUID) else str(r[column])
                want = fields.get(column, have)
                if column == "visit_id" and want is not None and want not in server.rows("visit"):
                    want = None  # a reference to a deleted visit can't be a foreign key
                if have != want:
                    found.append(f"{table} {r['id']}.{column}: domain {have!r}, replicated {fields.get(column)!r}")
    return found


def describe(mine: Replica, fresh: Replica) -> str:
    a, b = mine.state(), fresh.state()
    only_mine = sorted(set(a) - set(b))[:2]
    only_fresh = sorted(set(b) - set(a))[:2]
    differ = [(k, d) for k in set(a) & set(b) for d in [_diff(a[k], b[k])] if d][:2]
    return f"only in the replica {only_mine}, only in a fresh download {only_fresh}, different {differ}"


def _diff(x: dict[str, Any], y: dict[str, Any]) -> dict[str, Any]:
    return {c: (x.get(c), y.get(c)) for c in set(x) | set(y) if x.get(c) != y.get(c)}


# -- What the simulation found, pinned as plain scenarios -------------------------------------------------------
# They use world.other: the simulation has world.own to itself, so a seed replays the same run alone or not.


async def own_store(t: Tenant, rep: str = "rep") -> str:
    created = await stores.create_store(
        t.principal("admin", "admin"),
        StoreCreate(
            code=f"PIN-{uuid.uuid4().hex[:8]}",
            name="Pinned store",
            channel="convenience",
            lat=31.25,
            lng=121.44,
            assigned_rep_id=t.users[rep],
        ),
    )
    return str(created.id)


def a_visit(store: str) -> dict[str, Any]:
    return {"store_id": store, "state": "checked_in", "notes": "pinned"}


DUE = "2026-12-01T09:00:00Z"


async def test_a_push_that_edits_a_reminder_then_creates_a_visit_and_a_reminder_for_it_is_applied(world, client):
    t = world.other
    device = Device(client, t.tokens["rep"])
    await device.sync()
    older = device.create("reminder", text="older", due_at=DUE)
    await device.sync()
    device.edit("reminder", older, text="edited")  # the push names reminders before visits
    visit = device.create("visit", **a_visit(await own_store(t)))
    reminder = device.create("reminder", text="follow up", due_at=DUE, visit_id=visit)
    response = await device.request(device.outbox)
    assert response.status_code == 200, response.text
    assert {r["status"] for r in response.json()["results"]} == {"accepted"}
    row = await Reminder.select(Reminder.visit_id).where(Reminder.id == uuid.UUID(reminder)).first().run()
    assert row == {"visit_id": uuid.UUID(visit)}


async def test_a_reminder_of_a_deleted_visit_can_still_be_edited(world, client):
    t = world.other
    device = Device(client, t.tokens["rep"])
    await device.sync()
    visit = device.create("visit", **a_visit(await own_store(t)))
    reminder = device.create("reminder", text="follow up", due_at=DUE, visit_id=visit)
    await device.sync()
    device.delete("visit", visit)
    await device.sync()
    device.edit("reminder", reminder, text="still to do")
    response = await device.request(device.outbox)
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"status": "accepted"}]


async def test_a_restored_visit_is_linked_again_from_its_reminder(world, client):
    t = world.other
    device = Device(client, t.tokens["rep"])
    await device.sync()
    visit = device.create("visit", **a_visit(await own_store(t)))
    reminder = device.create("reminder", text="follow up", due_at=DUE, visit_id=visit)
    await device.sync()
    device.delete("visit", visit)
    await device.sync()
    device.edit("visit", visit, _cl=3)
    await device.sync()
    assert device.replica.rows("reminder")[reminder]["visit_id"] == visit
    row = await Reminder.select(Reminder.visit_id).where(Reminder.id == uuid.UUID(reminder)).first().run()
    assert row == {"visit_id": uuid.UUID(visit)}  # REST and the reminder worker see what the replicas see


async def test_a_retried_push_is_acknowledged_after_its_store_was_reassigned(world, client):
    """3.1 step 6: the server acknowledges a change it already has, even if it would refuse it as new now."""
    t = world.other
    store = await own_store(t)
    device = Device(client, t.tokens["rep"])
    await device.sync()
    device.create("visit", **a_visit(store))
    sent = list(device.outbox)
    first = await device.request(sent)  # committed; the answer is lost on the way back
    assert {r["status"] for r in first.json()["results"]} == {"accepted"}
    response = await client.patch(
        f"/api/v1/stores/{store}", json={"assigned_rep_id": str(t.users["rep2"])}, headers=t.auth("admin")
    )
    assert response.status_code == 200
    retry = await device.request(sent)
    assert [r["status"] for r in retry.json()["results"]] == ["accepted"] * len(sent), retry.json()["results"]


def ahead_ms(offset: int) -> int:
    return physical_ms() + offset


async def test_clock_skew_is_judged_against_the_servers_physical_clock(world, client):
    """A change four minutes ahead is accepted, and must not move the bound: eight minutes ahead is still too far."""
    t = world.other
    server_clock.cache_clear()
    try:
        for minutes, verdict in ((4, "accepted"), (8, "rejected"), (12, "rejected")):
            device = Device(client, t.tokens["rep"])
            device.clock = Clock(device.node, physical=functools.partial(ahead_ms, minutes * 60_000))
            await device.sync()
            device.edit("reminder", str(uuid.uuid4()), _cl=1, text=f"{minutes} minutes fast", due_at=DUE)
            response = await device.request(device.outbox)
            body = response.json()
            assert {r["status"] for r in body["results"]} == {verdict}, (minutes, body["results"])
            assert abs(body["server_time"] - physical_ms()) < 60_000, "server_time is the server's physical time"
    finally:
        server_clock.cache_clear()  # don't leave a clock running ahead for the tests after this one


async def test_simulated_team_converges_and_loses_no_acknowledged_change(world, client, settings):
    started = time.perf_counter()
    original = db.current_engine()
    server_clock.cache_clear()  # a clock of its own, whatever earlier tests stamped
    sim = Simulation(world, client, settings)
    try:
        await sim.build()
        built = time.perf_counter()
        while sim.round < ROUNDS:
            await sim.play_round()
        played = time.perf_counter()
        passes = await sim.settle()
        figures = await sim.check()
        figures["phase seconds"] = [
            round(x, 1) for x in (built - started, played - built, time.perf_counter() - played)
        ]
    finally:
        for extra in sim.clients:
            await extra.aclose()
        if db.current_engine() is not original:  # hand the module's fixtures back the engine they started
            await db.stop(db.current_engine())
            db.use_engine(original)
            await db.start(original)
    figures["settle passes"] = passes
    figures["seconds"] = round(time.perf_counter() - started, 1)
    report = "\n  ".join(f"{k}: {v}" for k, v in figures.items() if k != "details")
    details = figures["details"]
    report += "\n  " + "\n  ".join(f"{k}: {v}" for k, v in details.items() if v)
    print("\nsimulation:", report)
    assert figures["lost"] == 0 and figures["diverged"] == 0 and figures["server errors"] == 0, report
    assert not any(details[k] for k in ("scope leaks", "domain mismatches", "violations")), report
    assert figures["restarts"] == 2 and all(figures["faults"].get(kind) for kind in FAULTS), report
    assert figures["restamped after clock skew"] > 0 and sum(figures["scope changes"].values()) > 5, report
