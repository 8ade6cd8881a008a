"""Upload limits: bytes (FIELDBOOK_MAX_PHOTO_BYTES) and pixels (FIELDBOOK_MAX_PHOTO_PIXELS); the photo directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from backend.settings import settings_from_env
from tests.backend.photos import images
from tests.conftest import make_settings

MAX_BYTES = 30_000
MAX_PIXELS = 100_000
URL = "/api/v1/photos/{}"


@pytest.fixture(scope="module")
def settings(database_url, tmp_path_factory):
    return make_settings(
        database_url,
        tmp_path_factory.mktemp("data"),
        max_photo_bytes=MAX_BYTES,
        max_photo_pixels=MAX_PIXELS,
        photo_dir=str(tmp_path_factory.mktemp("elsewhere") / "blobs"),
    )


def test_defaults():
    settings = settings_from_env({"FIELDBOOK_DATA_DIR": "/srv/fb"})
    assert settings.max_photo_bytes == 10 * 1024 * 1024
    assert settings.max_photo_pixels == 50_000_000
    assert str(settings.photo_dir_resolved()) == "/srv/fb/photos"
    assert str(settings_from_env({"FIELDBOOK_PHOTO_DIR": "/mnt/p"}).photo_dir_resolved()) == "/mnt/p"


async def test_a_photo_over_the_byte_limit_is_refused_with_the_limit_named(world, client, settings):
    data = images.encode(images.picture(200, 200, seed=40), "PNG")
    assert len(data) > MAX_BYTES
    response = await client.put(URL.format(images.sha256(data)), content=data, headers=world.own.auth("rep"))
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "photo.too_large"
    assert "30,000 bytes" in body["detail"] and "FIELDBOOK_MAX_PHOTO_BYTES" in body["detail"]
    assert not settings.photo_dir_resolved().exists()


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit_too(world, client):
    data = b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES * 2)

    async def chunks():
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    response = await client.put(URL.format(images.sha256(data)), content=chunks(), headers=world.own.auth("rep"))
    assert response.status_code == 413 and response.json()["code"] == "photo.too_large"


async def test_a_decompression_bomb_is_refused_before_it_is_decoded(world, client):
    # 1000 x 1000 of one colour: a few kilobytes that would decode to a million pixels.
    data = images.encode(Image.new("RGB", (1000, 1000), "white"), "PNG")
    assert len(data) < MAX_BYTES
    response = await client.put(URL.format(images.sha256(data)), content=data, headers=world.own.auth("rep"))
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "photo.too_many_pixels" and "1000x1000" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["body"]


async def test_blobs_go_to_the_configured_photo_dir(world, client, settings):
    data = images.jpeg(seed=41)
    sha = images.sha256(data)
    response = await client.put(URL.format(sha), content=data, headers=world.own.auth("rep"))
    assert response.status_code == 201
    stored = settings.photo_dir_resolved() / str(world.own.org_id) / sha[:2] / f"{sha}.jpg"
    assert stored.read_bytes() == data
    assert not (Path(settings.data_dir) / "photos").exists()
