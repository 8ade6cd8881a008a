"""A photo's metadata row (over sync) and its blob (PUT) may arrive in either order; either way the row ends up
marked uploaded, and the phones learn it through sync, so none uploads the blob again."""

from __future__ import annotations

import uuid

from backend.tables_base import utcnow
from backend.visits.tables import Photo
from tests.backend.photos.images import jpeg, sha256
from tests.backend.visits.test_judging import STORE_LAT, STORE_LNG, check_in
from tests.sync_device import Device


async def put_blob(client, tenant, data: bytes) -> int:
    response = await client.put(
        f"/api/v1/photos/{sha256(data)}", content=data, headers={**tenant.auth("rep"), "Content-Type": "image/jpeg"}
    )
    assert response.status_code in (200, 201), response.text
    return response.status_code


async def photo_row(photo: str) -> dict:
    row = await Photo.select().where(Photo.id == uuid.UUID(photo)).first().run()
    assert row is not None
    return row


async def test_row_first_then_blob(world, client):
    t = world.own
    phone = Device(client, t.tokens["rep"])
    visit = phone.create("visit", **check_in(t.ids["store"], utcnow(), STORE_LAT, STORE_LNG))
    data = jpeg(seed=41)
    photo = phone.create("photo", visit_id=visit, sha256=sha256(data), lat=STORE_LAT, lng=STORE_LNG)
    await phone.sync()
    assert not phone.rejected, phone.rejected
    assert (await photo_row(photo))["uploaded"] is False
    assert await put_blob(client, t, data) == 201
    row = await photo_row(photo)
    assert row["uploaded"] is True and row["content_type"] == "image/jpeg" and row["size_bytes"] == len(data)
    await phone.sync()
    assert phone.replica.rows("photo")[photo]["uploaded"] is True


async def test_blob_first_then_row(world, client):
    t = world.own
    data = jpeg(seed=42)
    assert await put_blob(client, t, data) == 201
    phone = Device(client, t.tokens["rep"])
    visit = phone.create("visit", **check_in(t.ids["store"], utcnow(), STORE_LAT, STORE_LNG))
    photo = phone.create("photo", visit_id=visit, sha256=sha256(data))
    await phone.sync()
    assert not phone.rejected, phone.rejected
    row = await photo_row(photo)
    assert row["uploaded"] is True and row["size_bytes"] == len(data)
    await phone.sync()
    assert phone.replica.rows("photo")[photo]["uploaded"] is True


async def test_a_photo_on_someone_elses_visit_or_with_a_bad_hash_is_refused(world, client):
    t = world.own
    theirs = Device(client, t.tokens["rep2"])
    visit = theirs.create("visit", **check_in(t.ids["store2"], utcnow(), 31.2310, 121.4450))
    await theirs.sync()
    mine = Device(client, t.tokens["rep"])
    mine.create("photo", visit_id=visit, sha256="a" * 64)
    mine.create("photo", visit_id=visit, sha256="not-a-hash")
    await mine.sync()
    codes = {(change.column, result.code) for change, result in mine.rejected}
    assert ("visit_id", "sync.no_such_row") in codes and ("sha256", "sync.invalid_value") in codes
