"""POST /api/v1/sync through the real app: first sync, pushes, idempotency, every rejection code, scope changes."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.sync_api.registry import TABLES
from backend.sync_api.tables import SyncCounter
from backend.visits.tables import Visit
from sync import messages as m
from sync.changes import Change
from tests.sync_device import Device


def visit_fields(store_id: uuid.UUID) -> dict:
    return {
        "store_id": str(store_id),
        "state": "checked_in",
        "planned": False,
        "check_in_at": "2026-11-23T02:15:00Z",
        "check_in_lat": 31.2290,
        "check_in_lng": 121.4450,
        "check_in_accuracy_m": 12.0,
        "notes": "Shelf half empty",
    }


async def test_first_sync_holds_the_reps_scope_and_matches_the_checksum(world, client):
    t = world.own
    device = Device(client, t.tokens["rep"])
    await device.sync(limit=7)  # small pages: paging must deliver everything exactly once
    assert set(device.replica.rows("store")) == {str(t.ids["store"])}
    assert set(device.replica.rows("product")) == {str(t.ids["product"])}
    assert str(t.ids["assortment"]) in device.replica.rows("assortment")
    store = device.replica.rows("store")[str(t.ids["store"])]
    assert store["assigned_rep_id"] == str(t.users["rep"]) and store["geofence"]["kind"] == "circle"
    assert device.checksum() == device.server_checksum
    other = Device(client, world.other.tokens["rep"])
    await other.sync()
    assert not set(other.replica.rows("store")) & set(device.replica.rows("store"))


async def test_a_visit_made_offline_arrives_once_and_reaches_the_other_devices(world, client):
    t = world.own
    phone, tablet = Device(client, t.tokens["rep"]), Device(client, t.tokens["rep"])
    supervisor = Device(client, t.tokens["supervisor"])
    for device in (phone, tablet, supervisor):
        await device.sync()
    visit = phone.create("visit", **visit_fields(t.ids["store"]))
    done = await phone.sync()
    assert all(r.status == "accepted" for r in done.results), done.results
    row = await Visit.select().where(Visit.id == uuid.UUID(visit)).first().run()
    assert row["rep_id"] == t.users["rep"] and row["notes"] == "Shelf half empty"
    assert row["check_in_at"] == dt.datetime(2026, 11, 23, 2, 15, tzinfo=dt.UTC)
    for device in (tablet, supervisor):
        await device.sync()
        assert device.replica.rows("visit")[visit]["rep_id"] == str(t.users["rep"])
        assert device.checksum() == device.server_checksum
    await phone.sync()
    assert phone.replica.rows("visit")[visit]["rep_id"] == str(t.users["rep"])  # server-owned field came back
    assert phone.checksum() == phone.server_checksum


async def test_pushing_the_same_changes_again_changes_nothing(world, client):
    t = world.own
    device = Device(client, t.tokens["rep"])
    await device.sync()
    visit = device.create("visit", **visit_fields(t.ids["store"]))
    sent = list(device.outbox)
    await device.sync()
    before = await SyncCounter.select(SyncCounter.last_seq).where(SyncCounter.org_id == t.org_id).first().run()
    again = await device.request(sent)
    assert again.status_code == 200
    assert {r["status"] for r in again.json()["results"]} == {"accepted"}
    after = await SyncCounter.select(SyncCounter.last_seq).where(SyncCounter.org_id == t.org_id).first().run()
    assert after == before
    assert await Visit.count().where(Visit.id == uuid.UUID(visit)).run() == 1


async def test_concurrent_edits_of_one_field_keep_the_later_one_and_of_two_fields_keep_both(world, client):
    t = world.own
    phone, tablet = Device(client, t.tokens["rep"]), Device(client, t.tokens["rep"])
    await phone.sync()
    visit = phone.create("visit", **visit_fields(t.ids["store"]))
    await phone.sync()
    await tablet.sync()
    phone.edit("visit", visit, notes="from the phone")
    tablet.edit("visit", visit, outcome="order_taken")
    tablet.edit("visit", visit, notes="from the tablet, later")
    await phone.sync()
    await tablet.sync()
    await phone.sync()
    assert phone.replica.rows("visit")[visit] == tablet.replica.rows("visit")[visit]
    assert phone.replica.rows("visit")[visit]["notes"] == "from the tablet, later"
    assert phone.replica.rows("visit")[visit]["outcome"] == "order_taken"
    row = await Visit.select(Visit.notes, Visit.outcome).where(Visit.id == uuid.UUID(visit)).first().run()
    assert row == {"notes": "from the tablet, later", "outcome": "order_taken"}


def stamp(device: Device, *, ahead_ms: int = 0) -> tuple[str, str]:
    now = device.clock.now()
    wall = now.wall + ahead_ms
    return f"{wall:012x}-{now.counter:04x}", device.node


async def test_every_rejection_names_its_code_and_does_not_block_the_rest(world, client):
    t = world.own
    device = Device(client, t.tokens["rep"])
    await device.sync()
    visit = str(uuid.uuid4())
    colleague_store = str(t.ids["store2"])

    def change(table: str, row: str, column: str, value: object, ahead_ms: int = 0) -> Change:
        hlc, node = stamp(device, ahead_ms=ahead_ms)
        return Change(table, row, column, value, hlc, node)

    cases = [
        (change("spaceship", visit, "name", "x"), m.UNKNOWN_TABLE, "table"),
        (change("visit", visit, "colour", "red"), m.UNKNOWN_COLUMN, "colour"),
        (change("visit", visit, "verdict", "inside"), m.SERVER_OWNED, "verdict"),
        (change("store", str(t.ids["store"]), "name", "Mine now"), m.NOT_ALLOWED, "name"),
        (change("visit", visit, "check_in_lat", 123.0), m.INVALID_VALUE, "check_in_lat"),
        (change("visit", visit, "planned_date", "9999-12-31"), m.INVALID_VALUE, "planned_date"),
        (change("visit", visit, "check_in_at", "0001-01-01T00:00:00Z"), m.INVALID_VALUE, "check_in_at"),
        (change("visit", str(uuid.uuid4()), "state", "teleported"), m.INVALID_VALUE, "state"),
        (change("visit", "not-a-uuid", "notes", "x"), m.INVALID_VALUE, "row"),
        (change("visit", str(uuid.uuid4()), "notes", "edit of nothing"), m.NO_SUCH_ROW, "notes"),
        (change("visit", visit, "notes", "from the future", ahead_ms=10 * 60 * 1000), m.CLOCK_SKEW, "hlc"),
    ]
    other_visit = str(uuid.uuid4())
    incomplete = str(uuid.uuid4())
    good = [
        change("visit", visit, "_cl", 1),
        change("visit", visit, "store_id", str(t.ids["store"])),
        change("visit", visit, "state", "checked_in"),
    ]
    extra = [
        (change("visit", other_visit, "_cl", 1), m.NO_SUCH_ROW, "store_id"),
        (change("visit", other_visit, "store_id", colleague_store), m.NO_SUCH_ROW, "store_id"),
        (change("visit", other_visit, "state", "planned"), m.NO_SUCH_ROW, "store_id"),
        (change("visit", incomplete, "_cl", 1), m.INCOMPLETE_ROW, "store_id"),
    ]
    changes = [c for c, _, _ in cases] + good + [c for c, _, _ in extra]
    response = await device.request(changes)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    expected = [(code, field) for _, code, field in cases] + [None] * len(good) + [(code, f) for _, code, f in extra]
    for change_, result, want in zip(changes, results, expected, strict=True):
        if want is None:
            assert result["status"] == "accepted", (change_, result)
        else:
            assert (result["status"], result.get("code")) == ("rejected", want[0]), (change_, result)
            assert result["message"]
    skew = results[len(cases) - 1]
    assert "server_time" in skew["message"]
    assert await Visit.count().where(Visit.id == uuid.UUID(visit)).run() == 1
    assert await Visit.count().where(Visit.id == uuid.UUID(other_visit)).run() == 0


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"protocol": 2}, 400, m.UNSUPPORTED_PROTOCOL),
        ({"schema_version": 99}, 400, m.UNKNOWN_SCHEMA),
        ({"cursor": "yesterday"}, 400, m.BAD_CURSOR),
    ],
)
async def test_request_level_refusals_apply_nothing(world, client, overrides, status, code):
    t = world.own
    device = Device(client, t.tokens["rep"])
    visit = device.create("visit", **visit_fields(t.ids["store"]))
    response = await device.request(device.outbox, **overrides)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert await Visit.count().where(Visit.id == uuid.UUID(visit)).run() == 0


async def test_too_many_changes_and_oversize_bodies(world, client, settings):
    t = world.own
    device = Device(client, t.tokens["rep"])
    visit = str(uuid.uuid4())
    changes = [Change("visit", visit, "notes", "x", *stamp(device)) for _ in range(settings.sync_max_changes + 1)]
    response = await device.request(changes)
    assert response.status_code == 413 and response.json()["code"] == m.TOO_MANY_CHANGES
    huge = (
        b'{"protocol": 1, "schema_version": 1, "client_id": "x", "changes": [], "pad": "'
        + b"x" * settings.max_sync_bytes
        + b'"}'
    )
    response = await client.post(
        "/api/v1/sync", content=huge, headers={**t.auth("rep"), "Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_malformed_messages_name_the_field(world, client):
    t = world.own
    bad = {
        "protocol": 1,
        "schema_version": 1,
        "client_id": "dev",
        "changes": [{"table": "visit", "row": "r", "column": "notes", "value": 1, "hlc": "nope", "node": "dev"}],
    }
    response = await client.post("/api/v1/sync", json=bad, headers=t.auth("rep"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "changes[0].hlc"
    response = await client.post("/api/v1/sync", json={**bad, "org_id": "x"}, headers=t.auth("rep"))
    assert response.status_code == 400
    response = await client.post(
        "/api/v1/sync", content=b"{", headers={**t.auth("rep"), "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["code"] == "request.malformed"


async def test_a_reassigned_store_leaves_one_rep_and_reaches_the_other_whole(world, client):
    t = world.own
    rep, rep3 = Device(client, t.tokens["rep"]), Device(client, t.tokens["rep3"])
    supervisor2 = Device(client, t.tokens["supervisor2"])
    for device in (rep, rep3, supervisor2):
        await device.sync()
    store = str(t.ids["store"])
    assert store in rep.replica.rows("store") and store not in rep3.replica.rows("store")
    response = await client.patch(
        f"/api/v1/stores/{store}", json={"assigned_rep_id": str(t.users["rep3"])}, headers=t.auth("admin")
    )
    assert response.status_code == 200
    done = await rep.sync()
    assert m.RowRef("store", store) in done.removed
    assert store not in rep.replica.rows("store")
    await rep3.sync()
    got = rep3.replica.rows("store")[store]
    assert got["assigned_rep_id"] == str(t.users["rep3"]) and got["name"] and got["opening_hours"] is None
    assert len(got) == len(TABLES["store"].columns)  # every column of the store, not just the one that changed
    await supervisor2.sync()
    assert store in supervisor2.replica.rows("store")
    for device in (rep, rep3, supervisor2):
        assert device.checksum() == device.server_checksum
    # And back again, so the other tests keep their world.
    await client.patch(
        f"/api/v1/stores/{store}", json={"assigned_rep_id": str(t.users["rep"])}, headers=t.auth("admin")
    )


async def test_msgpack_carries_the_same_messages(world, client):
    t = world.own
    device = Device(client, t.tokens["rep"], msgpack=True)
    await device.sync()
    visit = device.create("visit", **visit_fields(t.ids["store"]))
    done = await device.sync()
    assert {r.status for r in done.results} == {"accepted"}
    json_device = Device(client, t.tokens["rep"])
    await json_device.sync()
    assert json_device.replica.rows("visit")[visit] == device.replica.rows("visit")[visit]


async def test_deleting_a_visit_removes_it_and_a_restore_brings_it_back(world, client):
    t = world.own
    phone, tablet = Device(client, t.tokens["rep"]), Device(client, t.tokens["rep"])
    await phone.sync()
    visit = phone.create("visit", **visit_fields(t.ids["store"]))
    await phone.sync()
    await tablet.sync()
    phone.delete("visit", visit)
    tablet.edit("visit", visit, notes="edited while it was being deleted")
    await phone.sync()
    await tablet.sync()
    await phone.sync()
    assert visit not in phone.replica.rows("visit") and visit not in tablet.replica.rows("visit")
    assert await Visit.count().where(Visit.id == uuid.UUID(visit)).run() == 0
    tablet.edit("visit", visit, _cl=3)
    await tablet.sync()
    await phone.sync()
    assert phone.replica.rows("visit")[visit]["notes"] == "edited while it was being deleted"
    assert await Visit.count().where(Visit.id == uuid.UUID(visit)).run() == 1


async def test_purged_tombstones_send_old_cursors_to_refetch(world, client):
    import datetime as dt_

    from backend.sync_api.compaction import purge_tombstones
    from backend.sync_api.tables import SyncField

    t = world.other  # its own counter, so the horizon does not disturb the other tests
    phone, laggard = Device(client, t.tokens["rep"]), Device(client, t.tokens["rep"])
    await phone.sync()
    await laggard.sync()
    stale_cursor = laggard.cursor
    visit = phone.create("visit", **visit_fields(t.ids["store"]))
    await phone.sync()
    phone.delete("visit", visit)
    await phone.sync()
    assert await purge_tombstones(dt_.timedelta(days=90)) == 0  # too recent to purge
    old = dt_.datetime.now(dt_.UTC) - dt_.timedelta(days=91)
    await SyncField.update({SyncField.updated_at: old}).where(SyncField.row_id == visit).run()
    assert await purge_tombstones(dt_.timedelta(days=90)) == 1
    assert await SyncField.count().where(SyncField.row_id == visit).run() == 0
    response = await laggard.request([], cursor=stale_cursor)
    assert response.status_code == 409 and response.json()["code"] == m.MUST_REFETCH
    await laggard.refetch()
    assert visit not in laggard.replica.rows("visit")
    assert laggard.checksum() == laggard.server_checksum
    await phone.sync()  # the replica that still holds the purged tombstone is past the horizon: it syncs on
    assert phone.checksum() == phone.server_checksum


async def test_a_client_cannot_push_another_nodes_changes(world, client):
    t = world.own
    device = Device(client, t.tokens["rep"])
    await device.sync()
    visit = device.create("visit", **visit_fields(t.ids["store"]))
    await device.sync()
    hlc, _ = stamp(device)
    forged = Change("visit", visit, "notes", "forged", hlc, "server-1-abc")
    response = await device.request([forged])
    result = response.json()["results"][0]
    assert (result["status"], result["code"], result["field"]) == ("rejected", m.NOT_ALLOWED, "node")
    imposter = Device(client, t.tokens["rep"], name="server-imposter")
    response = await imposter.request([])
    assert response.status_code == 400 and response.json()["code"] == m.BAD_CLIENT_ID


async def test_a_replica_ahead_of_a_restored_server_must_refetch_and_its_outbox_survives(world, client):
    """After a restore from an older backup the server's counter is behind what phones saw: their cursors are
    refused with must_refetch (not silently served past the gap), and re-sending the outbox is accepted."""
    from backend.sync_api.tables import SyncCounter

    t = world.own
    phone = Device(client, t.tokens["rep"])
    await phone.sync()
    row = await SyncCounter.select(SyncCounter.last_seq).where(SyncCounter.org_id == t.org_id).first().run()
    ahead = f"v1:{int(row['last_seq']) + 50}"  # what the phone would hold had the lost transactions happened
    visit = phone.create("visit", **visit_fields(t.ids["store"]))
    outbox = list(phone.outbox)
    response = await phone.request(outbox, cursor=ahead)
    assert response.status_code == 409 and response.json()["code"] == m.MUST_REFETCH
    assert "backup" in response.json()["detail"]
    assert await Visit.count().where(Visit.id == uuid.UUID(visit)).run() == 0  # refused whole: nothing applied
    await phone.refetch()
    again = await phone.request(outbox)
    assert {r["status"] for r in again.json()["results"]} == {"accepted"}
    assert await Visit.count().where(Visit.id == uuid.UUID(visit)).run() == 1


async def test_a_row_id_another_organisation_holds_cannot_be_taken(world, client):
    """Ids are global keys of the domain tables: taking another tenant's would update or delete its row."""
    theirs = Device(client, world.other.tokens["rep"])
    visit = theirs.create("visit", store_id=str(world.other.ids["store"]), state="checked_in", notes="theirs")
    await theirs.sync()
    mine = Device(client, world.own.tokens["rep"])
    mine.edit("visit", visit, _cl=1, store_id=str(world.own.ids["store"]), state="checked_in", notes="mine")
    await mine.sync()
    assert {(c.column, r.code) for c, r in mine.rejected} >= {("_cl", m.NOT_ALLOWED)}
    mine.rejected.clear()
    mine.delete("visit", visit)
    await mine.sync()
    row = await Visit.select(Visit.org_id, Visit.notes).where(Visit.id == uuid.UUID(visit)).first().run()
    assert row == {"org_id": world.other.org_id, "notes": "theirs"}
