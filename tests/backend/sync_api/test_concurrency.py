"""Concurrent pushes and pulls: no pull ever misses a committed change, and racing writes keep the later one.

Sequence numbers are handed out under a lock held until commit (docs/sync-protocol.md 5.1), so a cursor never
passes a number whose transaction has not committed yet. On SQLite the engine serialises writers; on PostgreSQL
(FIELDBOOK_TEST_DATABASE_URL) the app's pool runs these requests really concurrently, which is where this matters.
"""

from __future__ import annotations

import asyncio
import uuid
from random import Random
from typing import Any

from backend.db import write_transaction
from backend.sync_api import versions
from backend.sync_api.store import DatabaseStore
from backend.visits.tables import Visit
from sync.changes import CAUSAL_LENGTH, Change, wins
from sync.clock import Clock
from tests.sync_device import Device

PUSHERS = 8
BATCHES = 6
VISITS_PER_BATCH = 3
PULL_LIMITS = (None, 7, 50, None)  # small pages too: a page boundary must not lose anything either


def visit(store_id: uuid.UUID, n: int) -> dict[str, Any]:
    return {"store_id": str(store_id), "state": "checked_in", "notes": f"visit {n}", "planned": n % 2 == 0}


async def push_visits(device: Device, store: uuid.UUID, batches: int, rng: Random, tally: dict[str, int]) -> None:
    """Batches of new visits (and an edit of an earlier one), each batch one sync."""
    made: list[str] = []
    for batch in range(batches):
        for n in range(VISITS_PER_BATCH):
            made.append(device.create("visit", **visit(store, batch * 10 + n)))
        device.edit("visit", rng.choice(made), notes=f"edited in batch {batch}")
        done = await device.sync()
        assert {r.status for r in done.results} == {"accepted"}, done.results
        tally["pushes"] += 1
        await asyncio.sleep(0)


async def keep_pulling(device: Device, until: asyncio.Future[Any], limit: int | None, tally: dict[str, int]) -> None:
    """Incremental syncs until `until` is done; counts answers whose checksum differs from the replica's."""
    while not until.done():
        done = await device.sync(limit=limit)
        tally["pulls"] += 1
        tally["pull requests"] += done.requests
        tally["checksum mismatches"] += device.checksum() != device.server_checksum
        await asyncio.sleep(0)


async def test_no_pull_misses_a_change_committed_while_others_pull(world, client):
    t = world.own
    rng = Random(7)
    owners = ["rep", "rep2", "rep3"]
    store_of = {"rep": t.ids["store"], "rep2": t.ids["store2"], "rep3": t.ids["store3"]}
    pushers = [Device(client, t.tokens[owners[i % 3]], name=f"pusher-{i}") for i in range(PUSHERS)]
    pullers = [Device(client, t.tokens[u]) for u in ("supervisor", "supervisor2", "admin", "admin")]
    for device in pushers + pullers:
        await device.sync()
    # A store nobody pushes visits for, passed between two teams meanwhile: renumbering and removals race too.
    spare = (await client.post("/api/v1/stores", json=spare_store(t), headers=t.auth("admin"))).json()["id"]
    tally = {"pushes": 0, "pulls": 0, "pull requests": 0, "checksum mismatches": 0, "reassignments": 0}

    async def reassign() -> None:
        for n in range(6):
            rep = t.users["rep3"] if n % 2 == 0 else t.users["rep"]
            response = await client.patch(
                f"/api/v1/stores/{spare}", json={"assigned_rep_id": str(rep)}, headers=t.auth("admin")
            )
            assert response.status_code == 200, response.text
            tally["reassignments"] += 1
            await asyncio.sleep(0.01)

    writing = asyncio.gather(
        *(push_visits(d, store_of[owners[i % 3]], BATCHES, rng, tally) for i, d in enumerate(pushers)), reassign()
    )
    await asyncio.gather(
        writing, *(keep_pulling(d, writing, limit, tally) for d, limit in zip(pullers, PULL_LIMITS, strict=True))
    )

    for device in pullers + pushers:
        await device.sync()  # incremental, from its cursor: no refetch
        fresh = Device(client, device.token)
        await fresh.sync()
        assert device.replica.state() == fresh.replica.state(), f"{device.node} missed changes: {tally}"
        assert device.checksum() == device.server_checksum == fresh.server_checksum
    admin = pullers[2]
    created = {row for d in pushers for (table, row) in d.replica.fields if table == "visit"}
    assert created <= set(admin.replica.rows("visit"))
    domain = await Visit.select(Visit.id).where(Visit.id.is_in([uuid.UUID(r) for r in created])).run()
    assert len(domain) == len(created) == PUSHERS * BATCHES * VISITS_PER_BATCH
    print("\nconcurrency:", tally)


async def test_an_answers_checksum_describes_the_state_its_changes_bring(world, client):
    """With has_more false, a replica that applied the answer matches its checksum, though others commit meanwhile;
    otherwise a correct client downloads its whole scope again for nothing (docs/sync-protocol.md 3.1 step 5, 6)."""
    t = world.own
    rng = Random(11)
    pushers = [Device(client, t.tokens[("rep", "rep2", "rep3")[i % 3]]) for i in range(6)]
    stores = [t.ids["store"], t.ids["store2"], t.ids["store3"]]
    pullers = [Device(client, t.tokens["admin"]), Device(client, t.tokens["supervisor"])]
    for device in pushers + pullers:
        await device.sync()
    tally = {"pushes": 0, "pulls": 0, "pull requests": 0, "checksum mismatches": 0}
    writing = asyncio.gather(*(push_visits(d, stores[i % 3], 4, rng, tally) for i, d in enumerate(pushers)))
    await asyncio.gather(writing, *(keep_pulling(d, writing, None, tally) for d in pullers))
    print("\nchecksums:", tally)
    assert tally["checksum mismatches"] == 0, (
        f"{tally['checksum mismatches']} of {tally['pulls']} answers carried a checksum of another state than "
        f"their changes: {tally}"
    )


def spare_store(t: Any) -> dict[str, Any]:
    return {
        "code": "SPARE-1",
        "name": "Spare store",
        "channel": "convenience",
        "lat": 31.24,
        "lng": 121.45,
        "assigned_rep_id": str(t.users["rep"]),
    }


async def test_a_pull_during_an_uncommitted_push_does_not_pass_it(world, client):
    """The late-committing transaction of 5.1: a pull while it is open must hand out a cursor below its numbers."""
    t = world.own
    rep = t.principal("rep", "rep")
    phone = Device(client, t.tokens["rep"])
    admin = Device(client, t.tokens["admin"])
    await phone.sync()
    row = phone.create("visit", **visit(t.ids["store"], 1))
    await phone.sync()
    await admin.sync()
    holding, release = asyncio.Event(), asyncio.Event()
    late_clock = Clock("late-writer")

    async def late_push() -> None:
        stamp = late_clock.now()
        change = Change("visit", row, "notes", "committed late", stamp.stamp, stamp.node)
        async with write_transaction():
            await versions.lock(t.org_id)
            await DatabaseStore(rep).apply([change])
            holding.set()
            await release.wait()

    # Created before the transaction opens, so this task's context holds no transaction of the test's.
    writer = asyncio.create_task(late_push())
    await holding.wait()
    phone.edit("visit", row, outcome="order_taken")
    pushing = asyncio.create_task(phone.sync())  # a push queues behind the lock meanwhile
    for _ in range(3):
        await admin.sync()
        assert admin.replica.rows("visit")[row]["notes"] == "visit 1"
    release.set()
    await writer
    await pushing
    await admin.sync()
    assert admin.replica.rows("visit")[row]["notes"] == "committed late"
    assert admin.replica.rows("visit")[row]["outcome"] == "order_taken"
    fresh = Device(client, t.tokens["admin"])
    await fresh.sync()
    assert admin.replica.state() == fresh.replica.state()


async def test_racing_pushes_to_one_field_keep_the_later_stamp_whatever_commits_first(world, client):
    t = world.own
    phone, tablet = Device(client, t.tokens["rep2"]), Device(client, t.tokens["rep2"])
    await phone.sync()
    rows = [phone.create("visit", **visit(t.ids["store2"], n)) for n in range(10)]
    await phone.sync()
    await tablet.sync()
    for n, row in enumerate(rows):
        mine = phone.edit("visit", row, notes=f"phone {n}")
        theirs = tablet.edit("visit", row, notes=f"tablet {n}")
        winner = theirs[0] if wins(theirs[0], mine[0]) else mine[0]
        if n < 2:  # the commit order forced both ways, then left to the race
            first, second = (tablet, phone) if n == 0 else (phone, tablet)
            await first.sync()
            await second.sync()
        else:
            racers = [phone.sync(), tablet.sync()]
            await asyncio.gather(*(racers if n % 2 else racers[::-1]))
        await phone.sync()
        await tablet.sync()
        for device in (phone, tablet):
            field = device.replica.fields[("visit", row)]["notes"]
            assert field == winner, (n, field, winner)
            assert device.replica.fields[("visit", row)][CAUSAL_LENGTH].value == 1
        stored = await Visit.select(Visit.notes).where(Visit.id == uuid.UUID(row)).first().run()
        assert stored == {"notes": winner.value}
    fresh = Device(client, t.tokens["rep2"])
    await fresh.sync()
    assert fresh.replica.state() == phone.replica.state() == tablet.replica.state()
