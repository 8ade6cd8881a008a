"""The image formats a photo may have, judged from the bytes themselves (magic numbers), never from a header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ContentType = Literal["image/jpeg", "image/png", "image/webp"]


@dataclass(frozen=True)
class ImageFormat:
    pillow_name: str  # the only Pillow plugin allowed to parse it
    content_type: ContentType
    extension: str


JPEG = ImageFormat("JPEG", "image/jpeg", "jpg")
PNG = ImageFormat("PNG", "image/png", "png")
WEBP = ImageFormat("WEBP", "image/webp", "webp")
FORMATS = (JPEG, PNG, WEBP)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sniff(data: bytes) -> ImageFormat | None:
    """The format whose signature `data` starts with, or None (GIF, HEIC, text, anything else)."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(PNG_SIGNATURE):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None
