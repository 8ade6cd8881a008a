"""Wire types of the photo endpoints."""

from __future__ import annotations

from typing import Annotated

import msgspec

from backend.photos.formats import ContentType

Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes, lowercase hex")]


class PhotoBlob(msgspec.Struct, frozen=True, kw_only=True):
    """A stored photo blob, as uploaded (the served copy has its metadata removed)."""

    sha256: Sha256
    content_type: ContentType
    size_bytes: int
    width: int
    height: int
