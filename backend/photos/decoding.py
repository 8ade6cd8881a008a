"""Proving that uploaded bytes are one decodable image, without letting a small file cost unbounded memory."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from backend.errors import Invalid
from backend.photos.errors import PhotoTooLarge
from backend.photos.formats import JPEG, ImageFormat

EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int
    # EXIF Orientation of a JPEG when a viewer must turn it (2..8); kept in the served copy (stripping.py).
    orientation: int | None


def inspect_image(data: bytes, fmt: ImageFormat, max_pixels: int) -> ImageFacts:
    """The image's size and orientation once it has decoded completely; 400 / 413 when it can't or mustn't."""
    try:
        # `formats` pins the parser to the sniffed format: a polyglot never reaches another decoder.
        with Image.open(io.BytesIO(data), formats=[fmt.pillow_name]) as image:
            width, height = image.size
            # The header's size is known before any pixel is decoded: refuse a decompression bomb here.
            if width * height > max_pixels:
                raise PhotoTooLarge(
                    f"the image is {width}x{height} pixels; a photo may have at most {max_pixels:,} pixels",
                    code="photo.too_many_pixels",
                )
            orientation = _orientation(image) if fmt is JPEG else None
            image.verify()  # checksums (PNG CRCs); it leaves the image unusable, hence the second open
        with Image.open(io.BytesIO(data), formats=[fmt.pillow_name]) as image:
            if fmt is JPEG:
                # Decoding at 1/8 scale still reads every entropy-coded block (a truncated file still fails)
                # with 1/64 of the memory.
                image.draft(None, (max(1, width // 8), max(1, height // 8)))
            image.load()
    except PhotoTooLarge:
        raise
    except Image.DecompressionBombError as exc:
        raise PhotoTooLarge(str(exc), code="photo.too_many_pixels") from None
    except MemoryError:
        raise  # the server's problem, not the image's
    except Exception as exc:  # Pillow raises many types on bad input: OSError, SyntaxError, struct.error...
        raise Invalid.field(
            "body", f"not a complete {fmt.pillow_name} image ({exc})", code="photo.undecodable"
        ) from None
    return ImageFacts(width=width, height=height, orientation=orientation)


def _orientation(image: Image.Image) -> int | None:
    value = image.getexif().get(EXIF_ORIENTATION)
    return value if isinstance(value, int) and 2 <= value <= 8 else None
