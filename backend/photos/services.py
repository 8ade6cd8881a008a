"""Storing, finding and serving photo blobs: content-addressed by SHA-256, one namespace per organisation.

Each blob is stored twice under server-made keys: the upload as sent (`<org>/<sha[:2]>/<sha>.<ext>`, which the
hash covers) and the copy that is served (`<sha>.stripped.<ext>`: the same pixels without metadata, made once at
upload by stripping.py). The served copy is written first, so whenever the original exists its served copy does.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from piccolo.columns import Column
from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.db import write_transaction
from backend.errors import Invalid, NotFound
from backend.orgs.teams import team_rep_ids
from backend.photos.decoding import inspect_image
from backend.photos.errors import UnsupportedPhotoType
from backend.photos.formats import FORMATS, ImageFormat, sniff
from backend.photos.schemas import PhotoBlob
from backend.photos.storage import PhotoStorage, StoredBlob
from backend.photos.stripping import strip_metadata
from backend.sync_api.record import record_rows
from backend.visits.tables import Photo

_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class ServedPhoto:
    content_type: str
    blob: StoredBlob


def check_sha256(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise Invalid.field("sha256", "must be 64 lowercase hexadecimal characters", code="photo.sha256_invalid")
    return sha256


def blob_key(org_id: uuid.UUID, sha256: str, fmt: ImageFormat, *, stripped: bool = False) -> str:
    name = f"{sha256}.stripped.{fmt.extension}" if stripped else f"{sha256}.{fmt.extension}"
    return f"{org_id}/{sha256[:2]}/{name}"


@dataclass(frozen=True)
class _Checked:
    blob: PhotoBlob
    fmt: ImageFormat
    stripped: bytes


def _check_upload(sha256: str, body: bytes, max_pixels: int) -> _Checked:
    """CPU-bound checks of an upload (hash, type, decoding, stripping); run off the event loop."""
    actual = hashlib.sha256(body).hexdigest()
    if actual != sha256:
        raise Invalid.field(
            "sha256", f"the body's SHA-256 is {actual}, not the one in the path", code="photo.sha256_mismatch"
        )
    fmt = sniff(body)
    if fmt is None:
        raise UnsupportedPhotoType("a photo must be a JPEG, PNG or WebP image (judged from its bytes)")
    facts = inspect_image(body, fmt, max_pixels)
    blob = PhotoBlob(
        sha256=sha256, content_type=fmt.content_type, size_bytes=len(body), width=facts.width, height=facts.height
    )
    return _Checked(blob=blob, fmt=fmt, stripped=strip_metadata(body, fmt, facts.orientation))


async def store_photo(
    principal: Principal, storage: PhotoStorage, sha256: str, body: bytes, *, max_pixels: int
) -> tuple[PhotoBlob, bool]:
    """Store an uploaded photo in the caller's organisation; the blob and whether this call created it.

    Idempotent: the same bytes again store nothing and answer the same blob. The organisation's `photo` rows
    with this hash are marked uploaded either way (a row may have been synced since the first upload).
    """
    check_sha256(sha256)
    checked = await anyio.to_thread.run_sync(_check_upload, sha256, body, max_pixels)
    original = blob_key(principal.org_id, sha256, checked.fmt)
    created = False
    if not await storage.exists(original):
        await storage.put(blob_key(principal.org_id, sha256, checked.fmt, stripped=True), checked.stripped)
        created = await storage.put(original, body)
    async with write_transaction():
        await _mark_uploaded(
            principal.org_id, Photo.sha256 == sha256, content_type=checked.blob.content_type, size=len(body)
        )
    return checked.blob, created


async def _mark_uploaded(org_id: uuid.UUID, which: Combinable, *, content_type: str, size: int) -> None:
    """Mark the organisation's photo rows matching `which` uploaded, and record it for sync (the phones pull it)."""
    rows = await Photo.select(Photo.id).where((Photo.org_id == org_id) & which & (Photo.uploaded == False)).run()  # noqa: E712
    if not rows:
        return
    ids = [r["id"] for r in rows]
    values: dict[Column | str, Any] = {Photo.uploaded: True, Photo.content_type: content_type, Photo.size_bytes: size}
    await Photo.update(values).where(Photo.id.is_in(ids)).run()
    fields = {"uploaded": True, "content_type": content_type, "size_bytes": size}
    await record_rows(org_id, "photo", [(i, fields) for i in ids])


async def mark_arrived_uploaded(org_id: uuid.UUID, storage: PhotoStorage, row_ids: set[str]) -> None:
    """Photo rows just written over sync whose blob the organisation already holds (uploaded before the row
    arrived, possibly from another device) are marked uploaded at once, so the phone never re-uploads."""
    if not row_ids:
        return
    ids = [uuid.UUID(r) for r in row_ids]
    rows = (
        await Photo.select(Photo.id, Photo.sha256)
        .where(
            (Photo.org_id == org_id) & Photo.id.is_in(ids) & (Photo.uploaded == False)  # noqa: E712
        )
        .run()
    )
    for sha256 in {r["sha256"] for r in rows}:
        fmt = await _stored_format(storage, org_id, sha256)
        size = await storage.size(blob_key(org_id, sha256, fmt)) if fmt else None
        if fmt is None or size is None:
            continue
        await _mark_uploaded(org_id, Photo.sha256 == sha256, content_type=fmt.content_type, size=size)


async def _stored_format(storage: PhotoStorage, org_id: uuid.UUID, sha256: str) -> ImageFormat | None:
    # The hash fixes the bytes and so the format: at most one of these exists.
    for fmt in FORMATS:
        if await storage.exists(blob_key(org_id, sha256, fmt)):
            return fmt
    return None


async def photo_exists(principal: Principal, storage: PhotoStorage, sha256: str) -> bool:
    """Whether the caller's organisation holds this blob (so the phone can skip uploading it)."""
    check_sha256(sha256)
    return await _stored_format(storage, principal.org_id, sha256) is not None


async def _may_see(principal: Principal, sha256: str) -> bool:
    """Whether a visit the caller can see has a photo with this hash: a rep their own visits, a supervisor their
    team's and their own, an admin the organisation's."""
    condition: Combinable = (Photo.org_id == principal.org_id) & (Photo.sha256 == sha256)
    if not principal.is_admin:
        reps = await team_rep_ids(principal)
        condition &= Photo.visit_id.rep_id.is_in([*reps, principal.user_id])
    return await Photo.exists().where(condition).run()


async def find_photo(principal: Principal, storage: PhotoStorage, sha256: str) -> ImageFormat:
    """The format of a photo the caller may see; 404 `photo.not_found` for anything else (never 403)."""
    check_sha256(sha256)
    fmt = await _stored_format(storage, principal.org_id, sha256) if await _may_see(principal, sha256) else None
    if fmt is None:
        raise NotFound("No such photo", code="photo.not_found")
    return fmt


async def open_photo(principal: Principal, storage: PhotoStorage, sha256: str) -> ServedPhoto:
    """The served (metadata-free) copy of a photo the caller may see, for streaming."""
    fmt = await find_photo(principal, storage, sha256)
    blob = await storage.open(blob_key(principal.org_id, sha256, fmt, stripped=True))
    if blob is None:
        raise NotFound("No such photo", code="photo.not_found")
    return ServedPhoto(content_type=fmt.content_type, blob=blob)
