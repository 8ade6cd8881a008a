"""The local photo store: create-if-absent, atomic (never a half file under a final name), confined to its root."""

from __future__ import annotations

import asyncio
import os

import pytest

from backend.photos.storage import LocalPhotoStorage

KEY = "org/ab/abcdef.jpg"


def files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_put_creates_once_and_keeps_the_first_bytes(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    assert not await storage.exists(KEY) and await storage.get(KEY) is None and await storage.open(KEY) is None

    assert await storage.put(KEY, b"first") is True
    assert await storage.put(KEY, b"second") is False

    assert await storage.exists(KEY) and await storage.get(KEY) == b"first"
    assert files(tmp_path) == [KEY]


async def test_size_without_opening(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    assert await storage.size(KEY) is None
    await storage.put(KEY, b"12345")
    assert await storage.size(KEY) == 5


async def test_open_streams_the_whole_blob(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    data = os.urandom(200_000)
    await storage.put(KEY, data)
    blob = await storage.open(KEY)
    assert blob is not None and blob.size == len(data)
    assert b"".join([chunk async for chunk in blob.chunks]) == data


async def test_concurrent_identical_puts_store_one_file_and_one_says_created(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    results = await asyncio.gather(*(storage.put(KEY, b"same bytes") for _ in range(12)))
    assert results.count(True) == 1
    assert files(tmp_path) == [KEY] and await storage.get(KEY) == b"same bytes"


async def test_a_write_that_fails_midway_leaves_no_file_at_all(tmp_path, monkeypatch):
    storage = LocalPhotoStorage(tmp_path)

    def power_cut(fd):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(OSError, match="disk gone"):
        await storage.put(KEY, b"half")
    monkeypatch.undo()

    assert not await storage.exists(KEY)
    assert files(tmp_path) == []
    assert await storage.put(KEY, b"whole") is True


async def test_a_leftover_temporary_file_is_not_a_blob(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    (tmp_path / "org" / "ab").mkdir(parents=True)
    (tmp_path / "org" / "ab" / ".abcdef.jpg.x1.tmp").write_bytes(b"half")
    assert not await storage.exists(KEY)


@pytest.mark.parametrize("key", ["../escape.jpg", "org/../../x", "/etc/passwd", "org//x", "org/.hidden", ""])
async def test_keys_cannot_leave_the_root(tmp_path, key):
    with pytest.raises(ValueError, match="not a storage key"):
        await LocalPhotoStorage(tmp_path).put(key, b"x")
