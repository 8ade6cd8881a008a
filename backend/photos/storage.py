"""Where photo blobs live: a small `PhotoStorage` protocol, and the local-disk store behind it.

Keys are made by the server only (`services.blob_key`): `<org_id>/<sha[:2]>/<sha>.<ext>`, nothing a client names.
Blobs are content-addressed, so a key's bytes never change once written; `put` is therefore "create if absent"
and tells whether this call created it, which makes concurrent identical uploads harmless.

The local store writes a temporary file in the key's own directory, fsyncs it, and hard-links it to the final
name (atomic, and it fails if the name exists rather than replacing it), then fsyncs the directory; a crash
leaves at most a `.tmp` file, never a half blob under its final name.

An S3-compatible store fits the same protocol: `put` as PutObject with `If-None-Match: *` (a 412 answer means
"already there", i.e. False), `exists` as HeadObject, `get`/`open` as GetObject streaming the body; the key is
the object name under a configured bucket and prefix, and `storage_from_settings` chooses it from a setting.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

import anyio.to_thread

from backend.settings import Settings

CHUNK_BYTES = 64 * 1024
_KEY_PART = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class StoredBlob:
    """An open blob: its size, and its bytes as chunks (reading them to the end, or dropping them, closes it)."""

    size: int
    chunks: AsyncIterator[bytes]


# Runtime-checkable because Litestar checks injected values against the parameter's type.
@runtime_checkable
class PhotoStorage(Protocol):
    async def put(self, key: str, data: bytes) -> bool:
        """Store `data` under `key` unless the key exists; True when this call stored it."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None:
        """The size of `key` in bytes, or None when it is not stored."""
        ...

    async def get(self, key: str) -> bytes | None:
        """All the bytes of `key`, or None."""
        ...

    async def open(self, key: str) -> StoredBlob | None:
        """`key` for streaming, or None."""
        ...


def check_key(key: str) -> list[str]:
    """The key's path parts; a key that could leave the store's root (`..`, `/x`, `.hidden`) is a bug."""
    parts = key.split("/")
    if not all(_KEY_PART.match(part) for part in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return parts


class LocalPhotoStorage:
    """Blobs as files under `root`, one directory level per key segment."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    async def put(self, key: str, data: bytes) -> bool:
        return await anyio.to_thread.run_sync(self._put, self.path(key), data)

    async def exists(self, key: str) -> bool:
        return await anyio.to_thread.run_sync(self.path(key).is_file)

    async def size(self, key: str) -> int | None:
        try:
            return (await anyio.to_thread.run_sync(self.path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def get(self, key: str) -> bytes | None:
        try:
            return await anyio.to_thread.run_sync(self.path(key).read_bytes)
        except FileNotFoundError:
            return None

    async def open(self, key: str) -> StoredBlob | None:
        try:
            handle = await anyio.to_thread.run_sync(self.path(key).open, "rb")
        except FileNotFoundError:
            return None
        return StoredBlob(size=os.fstat(handle.fileno()).st_size, chunks=_read_chunks(handle))

    @staticmethod
    def _put(final: Path, data: bytes) -> bool:
        if final.is_file():
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=final.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, final)
                created = True
            except FileExistsError:
                created = False  # an identical upload got there first
        finally:
            os.unlink(temporary)
        _fsync_directory(final.parent)
        return created


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _read_chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


def storage_from_settings(settings: Settings) -> PhotoStorage:
    """The configured photo store (today always the local disk, `FIELDBOOK_PHOTO_DIR`)."""
    return LocalPhotoStorage(settings.photo_dir_resolved())
