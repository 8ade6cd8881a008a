"""GET /api/v1/photos/{sha256}: only for those who can see a visit holding the photo, and never with its EXIF."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PIL.ExifTags import IFD

from tests.backend.photos import images
from tests.backend.photos.factories import visit_photo

URL = "/api/v1/photos/{}"


async def uploaded(client, tenant, data: bytes) -> str:
    sha = images.sha256(data)
    response = await client.put(URL.format(sha), content=data, headers=tenant.auth("rep"))
    assert response.status_code in (200, 201), response.text
    return sha


async def rep_photo(client, tenant, seed: int, rep: str = "rep", **jpeg_options) -> tuple[str, bytes]:
    """A JPEG with camera EXIF, in a visit of `rep`, uploaded."""
    data = images.jpeg(seed=seed, exif=images.camera_exif(), **jpeg_options)
    sha = await uploaded(client, tenant, data)
    await visit_photo(tenant, rep, sha)
    return sha, data


async def test_the_served_jpeg_has_no_exif_and_the_same_pixels(world, client):
    sha, original = await rep_photo(client, world.own, seed=30)
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(IFD.GPSInfo), "the upload must carry GPS for this test to mean anything"

    response = await client.get(URL.format(sha), headers=world.own.auth("rep"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert int(response.headers["content-length"]) == len(response.content)
    served = response.content
    with Image.open(io.BytesIO(served)) as image:
        assert dict(image.getexif()) == {}
        assert image.getexif().get_ifd(IFD.GPSInfo) == {}
    images.assert_no_camera_traces(served)
    assert images.pixels(served) == images.pixels(original)


async def test_a_turned_photo_keeps_its_orientation_and_nothing_else(world, client):
    data = images.jpeg(seed=31, exif=images.camera_exif(orientation=8))
    sha = await uploaded(client, world.own, data)
    await visit_photo(world.own, "rep", sha)

    served = (await client.get(URL.format(sha), headers=world.own.auth("rep"))).content

    with Image.open(io.BytesIO(served)) as image:
        assert dict(image.getexif()) == {0x0112: 8}
    images.assert_no_camera_traces(served[served.index(b"Exif\x00\x00") + 6 :])


@pytest.mark.parametrize(
    ("make", "content_type"), [(images.png_with_metadata, "image/png"), (images.webp_with_metadata, "image/webp")]
)
async def test_png_and_webp_are_served_without_metadata(world, client, make, content_type):
    original = make(seed=32)
    sha = await uploaded(client, world.own, original)
    await visit_photo(world.own, "rep", sha)

    response = await client.get(URL.format(sha), headers=world.own.auth("rep"))

    assert response.status_code == 200 and response.headers["content-type"] == content_type
    images.assert_no_camera_traces(response.content)
    assert images.pixels(response.content) == images.pixels(original)


async def test_caching_headers_and_revalidation(world, client):
    sha, _ = await rep_photo(client, world.own, seed=33)
    response = await client.get(URL.format(sha), headers=world.own.auth("rep"))
    assert response.headers["etag"] == f'"{sha}"'
    assert response.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"

    again = await client.get(URL.format(sha), headers={**world.own.auth("rep"), "If-None-Match": f'"{sha}"'})
    assert again.status_code == 304 and again.content == b""
    # Revalidation is scoped like the photo itself: it does not tell a colleague the photo exists.
    other = await client.get(URL.format(sha), headers={**world.own.auth("rep2"), "If-None-Match": f'"{sha}"'})
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [("rep", 200), ("rep2", 404), ("rep3", 404), ("supervisor", 200), ("supervisor2", 404), ("admin", 200)],
)
async def test_who_may_see_a_reps_visit_photo(world, client, who, status):
    sha, _ = await rep_photo(client, world.own, seed=34)
    response = await client.get(URL.format(sha), headers=world.own.auth(who))
    assert response.status_code == status, response.text
    if status == 404:
        assert response.json()["code"] == "photo.not_found"


async def test_a_supervisor_sees_photos_of_their_own_visits(world, client):
    sha = await uploaded(client, world.own, images.jpeg(seed=35))
    await visit_photo(world.own, "rep", sha)
    assert (await client.get(URL.format(sha), headers=world.own.auth("supervisor2"))).status_code == 404

    await visit_photo(world.own, "supervisor2", sha, store="store3")

    assert (await client.get(URL.format(sha), headers=world.own.auth("supervisor2"))).status_code == 200


async def test_another_organisations_photo_is_not_found(world, client):
    sha, _ = await rep_photo(client, world.other, seed=36)
    assert (await client.get(URL.format(sha), headers=world.other.auth("admin"))).status_code == 200

    for who in ("rep", "supervisor", "admin"):
        assert (await client.get(URL.format(sha), headers=world.own.auth(who))).status_code == 404
        assert (await client.head(URL.format(sha), headers=world.own.auth(who))).status_code == 404


async def test_a_photo_row_whose_bytes_are_not_uploaded_yet_is_not_found(world, client):
    sha = images.sha256(images.jpeg(seed=37))
    await visit_photo(world.own, "rep", sha)
    response = await client.get(URL.format(sha), headers=world.own.auth("admin"))
    assert response.status_code == 404 and response.json()["code"] == "photo.not_found"


async def test_bytes_no_visit_holds_are_not_served_even_to_an_admin(world, client):
    sha = await uploaded(client, world.own, images.jpeg(seed=38))
    assert (await client.head(URL.format(sha), headers=world.own.auth("admin"))).status_code == 200
    assert (await client.get(URL.format(sha), headers=world.own.auth("admin"))).status_code == 404


async def test_get_needs_a_token(client):
    assert (await client.get(URL.format("0" * 64))).status_code == 401
