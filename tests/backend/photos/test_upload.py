"""PUT /api/v1/photos/{sha256}: idempotent, content-addressed uploads judged by their bytes; HEAD to skip one."""

from __future__ import annotations

import pytest

from tests.backend.photos import images
from tests.backend.photos.factories import photo_row, visit_photo

URL = "/api/v1/photos/{}"


def stored_files(settings, tenant) -> list[str]:
    root = settings.photo_dir_resolved() / str(tenant.org_id)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def upload(client, tenant, data: bytes, *, who: str = "rep", sha: str | None = None, content_type="image/jpeg"):
    return await client.put(
        URL.format(sha or images.sha256(data)),
        content=data,
        headers={**tenant.auth(who), "Content-Type": content_type},
    )


async def test_the_same_upload_twice_is_one_blob(world, client, settings):
    data = images.jpeg(seed=10, exif=images.camera_exif())
    sha = images.sha256(data)

    first = await upload(client, world.own, data)
    again = await upload(client, world.own, data, who="supervisor")

    assert first.status_code == 201, first.text
    assert first.headers["location"] == URL.format(sha)
    assert again.status_code == 200, again.text
    assert (
        first.json()
        == again.json()
        == {
            "sha256": sha,
            "content_type": "image/jpeg",
            "size_bytes": len(data),
            "width": 96,
            "height": 64,
        }
    )
    assert stored_files(settings, world.own) == [f"{sha[:2]}/{sha}.jpg", f"{sha[:2]}/{sha}.stripped.jpg"]
    assert (settings.photo_dir_resolved() / str(world.own.org_id) / sha[:2] / f"{sha}.jpg").read_bytes() == data


async def test_a_body_that_does_not_hash_to_the_path_is_refused(world, client, settings):
    data = images.jpeg(seed=11)
    response = await upload(client, world.own, data, sha=images.sha256(data + b"x"))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "photo.sha256_mismatch"
    assert [e["field"] for e in body["errors"]] == ["sha256"]
    assert images.sha256(data) in body["detail"]
    assert not any(images.sha256(data) in name for name in stored_files(settings, world.own))


@pytest.mark.parametrize("sha", ["ABCDEF" + "0" * 58, "0" * 63, "0" * 65, "g" * 64])
async def test_a_path_that_is_not_a_lowercase_sha256_is_refused(world, client, sha):
    response = await upload(client, world.own, images.jpeg(), sha=sha)
    assert response.status_code == 400
    assert response.json()["code"] == "validation.invalid"
    assert [e["field"] for e in response.json()["errors"]] == ["sha256"]


@pytest.mark.parametrize(
    "data", [images.gif(), b"just some text, says it is a JPEG\n", b""], ids=["gif", "text", "empty"]
)
async def test_anything_but_jpeg_png_webp_is_unsupported_whatever_the_header_says(world, client, data):
    response = await upload(client, world.own, data, content_type="image/jpeg")
    assert response.status_code == 415
    assert response.json()["code"] == "photo.unsupported_type"
    assert [e["field"] for e in response.json()["errors"]] == ["body"]


async def test_png_bytes_sent_as_jpeg_are_stored_and_served_as_png(world, client, settings):
    data = images.png(seed=12)
    sha = images.sha256(data)
    await visit_photo(world.own, "rep", sha)

    response = await upload(client, world.own, data, content_type="image/jpeg")

    assert response.status_code == 201 and response.json()["content_type"] == "image/png"
    assert f"{sha[:2]}/{sha}.png" in stored_files(settings, world.own)
    served = await client.get(URL.format(sha), headers=world.own.auth("rep"))
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    "data",
    [
        images.jpeg(seed=13)[:-400],  # the upload broke off
        images.jpeg(seed=13)[:600] + b"\x00" * 400,  # the rest is zeros
        b"\xff\xd8\xff\xe0 not really a JPEG at all",  # only the magic number
        images.png(seed=13)[:-30],  # a PNG missing its tail
        images.webp_with_metadata(seed=13)[:200],
    ],
    ids=["truncated-jpeg", "zeroed-jpeg", "magic-only", "truncated-png", "truncated-webp"],
)
async def test_a_corrupt_image_is_refused(world, client, settings, data):
    response = await upload(client, world.own, data)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "photo.undecodable"
    assert [e["field"] for e in response.json()["errors"]] == ["body"]
    assert not any(images.sha256(data) in name for name in stored_files(settings, world.own))


async def test_upload_marks_the_organisations_photo_rows_with_that_hash_uploaded(world, client):
    data = images.jpeg(seed=14)
    sha = images.sha256(data)
    mine = await visit_photo(world.own, "rep", sha)
    same_bytes_in_another_visit = await visit_photo(world.own, "rep2", sha)
    another_photo = await visit_photo(world.own, "rep", images.sha256(images.jpeg(seed=15)))
    other_org_same_bytes = await visit_photo(world.other, "rep", sha)

    assert (await upload(client, world.own, data)).status_code == 201

    for row in (mine, same_bytes_in_another_visit):
        row_now = await photo_row(row)
        assert row_now.items() >= {"uploaded": True, "content_type": "image/jpeg", "size_bytes": len(data)}.items()
    for row in (another_photo, other_org_same_bytes):
        assert (await photo_row(row))["uploaded"] is False


async def test_a_row_synced_after_the_upload_is_marked_when_the_bytes_are_sent_again(world, client):
    data = images.jpeg(seed=16)
    assert (await upload(client, world.own, data)).status_code == 201
    late = await visit_photo(world.own, "rep", images.sha256(data))

    assert (await upload(client, world.own, data)).status_code == 200

    assert (await photo_row(late))["uploaded"] is True


async def test_head_tells_whether_the_callers_organisation_has_the_blob(world, client):
    data = images.jpeg(seed=17)
    url = URL.format(images.sha256(data))

    assert (await client.head(url, headers=world.own.auth("rep"))).status_code == 404
    assert (await upload(client, world.own, data)).status_code == 201
    assert (await client.head(url, headers=world.own.auth("rep"))).status_code == 200
    assert (await client.head(url, headers=world.own.auth("rep3"))).status_code == 200
    # Another organisation never learns of it, and must upload its own copy.
    assert (await client.head(url, headers=world.other.auth("admin"))).status_code == 404
    assert (await upload(client, world.other, data)).status_code == 201
    assert (await client.head(url, headers=world.other.auth("rep"))).status_code == 200


async def test_head_and_put_need_a_token(client):
    data = images.jpeg(seed=18)
    url = URL.format(images.sha256(data))
    assert (await client.head(url)).status_code == 401
    assert (await client.put(url, content=data)).status_code == 401


async def test_the_endpoints_are_described_in_the_schema(client):
    spec = (await client.get("/schema/openapi.json")).json()
    operations = spec["paths"]["/api/v1/photos/{sha256}"]
    assert {"put", "head", "get"} <= set(operations)
    assert operations["put"]["parameters"][0]["schema"]["pattern"] == "^[0-9a-f]{64}$"
    assert operations["put"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("PhotoBlob")
    assert "image/*" in operations["get"]["responses"]["200"]["content"]
