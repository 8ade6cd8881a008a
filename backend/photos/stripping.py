"""Removing metadata from an image without re-encoding it: the pixels, and the bytes that carry them, stay as sent.

Photos are taken on the rep's phone, and cameras write where and with what they were taken (EXIF GPS, XMP, maker
notes, thumbnails that can show what was cropped away). The served copy drops all of it: each format is walked as
a list of segments or chunks, and only those a viewer needs to draw the image are kept (an allow-list, so a
metadata block we have never heard of is dropped too). Time and place of a photo live in the synced `photo` row.

- JPEG: keeps APP0 JFIF, APP2 ICC_PROFILE, APP14 Adobe (colour transform) and every non-APP segment; drops APP1
  (Exif, XMP), APP13 (Photoshop/IPTC), the other APPn, comments, and anything after EOI (phones append depth maps
  and gain maps, each with its own EXIF, there). One fact of the EXIF is put back: a non-default Orientation, as
  a minimal Exif segment holding nothing else, because browsers turn the photo by it and it reveals nothing.
- PNG: keeps the critical chunks and the rendering ones (transparency, colour space, physical size, animation);
  drops eXIf, tEXt, zTXt, iTXt, tIME and private chunks, and anything after IEND.
- WebP: keeps the image, alpha, animation and ICC chunks; drops EXIF, XMP and unknown chunks, clears the VP8X
  EXIF and XMP flags and rewrites the RIFF size.
"""

from __future__ import annotations

import struct

from backend.errors import Invalid
from backend.photos.formats import JPEG, PNG, PNG_SIGNATURE, WEBP, ImageFormat


def strip_metadata(data: bytes, fmt: ImageFormat, orientation: int | None = None) -> bytes:
    """`data` without its metadata; `orientation` (JPEG only) is written back as the one EXIF tag."""
    if fmt is JPEG:
        return strip_jpeg(data, orientation)
    if fmt is PNG:
        return strip_png(data)
    if fmt is WEBP:
        return strip_webp(data)
    raise ValueError(f"no stripper for {fmt.content_type}")


def _malformed(what: str) -> Invalid:
    return Invalid.field("body", f"the image's structure is broken: {what}", code="photo.undecodable")


# --- JPEG (ITU T.81 annex B; JFIF; Exif 2.3 section 4.5) ---

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
APP0, APP1, APP2, APP14, APP15 = 0xE0, 0xE1, 0xE2, 0xEE, 0xEF
_KEPT_APPS = {APP0: b"JFIF\x00", APP2: b"ICC_PROFILE\x00", APP14: b"Adobe"}


def _standalone(marker: int) -> bool:
    return marker == 0x01 or 0xD0 <= marker <= 0xD7  # TEM, RST0..RST7: no length field


def strip_jpeg(data: bytes, orientation: int | None = None) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise _malformed("no JPEG start marker")
    out = bytearray(b"\xff\xd8")
    pending_orientation = orientation
    pos, end = 2, len(data)
    while True:
        if pos >= end or data[pos] != 0xFF:
            raise _malformed(f"expected a JPEG marker at byte {pos}")
        while pos < end and data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        if pos >= end:
            raise _malformed("no end marker")
        marker = data[pos]
        pos += 1
        if marker == EOI:
            out += b"\xff\xd9"
            return bytes(out)
        if _standalone(marker):
            out += bytes((0xFF, marker))
            continue
        if marker in (0x00, SOI) or pos + 2 > end:
            raise _malformed(f"unexpected marker 0x{marker:02X} at byte {pos - 1}")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > end:
            raise _malformed(f"segment 0x{marker:02X} at byte {pos - 1} runs past the end")
        payload = data[pos + 2 : pos + length]
        pos += length
        if pending_orientation is not None and marker != APP0:
            # Exif wants its segment right after SOI, JFIF wants APP0 there: after APP0 satisfies readers of both.
            out += _orientation_segment(pending_orientation)
            pending_orientation = None
        if not (APP0 <= marker <= APP15 or marker == 0xFE) or _kept_app(marker, payload):
            out += bytes((0xFF, marker)) + length.to_bytes(2, "big") + payload
        if marker == SOS:
            scan_end = _entropy_coded_end(data, pos)
            out += data[pos:scan_end]
            pos = scan_end


def _kept_app(marker: int, payload: bytes) -> bool:
    signature = _KEPT_APPS.get(marker)
    return signature is not None and payload.startswith(signature)


def _entropy_coded_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data after a scan header ends: the next marker other than a stuffed 0xFF00 or RSTn."""
    while True:
        found = data.find(b"\xff", pos)
        if found < 0 or found + 1 >= len(data):
            return len(data)
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos = found + 2
            continue
        return found


def _orientation_segment(orientation: int) -> bytes:
    """An APP1 Exif segment with IFD0 holding only Orientation (big-endian TIFF, one SHORT entry)."""
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    payload = b"Exif\x00\x00" + tiff + struct.pack(">I", 0)  # no next IFD
    return bytes((0xFF, APP1)) + (len(payload) + 2).to_bytes(2, "big") + payload


# --- PNG (PNG third edition, section 5 and 11) ---

_PNG_KEPT = frozenset(
    {
        b"IHDR",
        b"PLTE",
        b"IDAT",
        b"IEND",
        b"tRNS",
        b"cHRM",
        b"gAMA",
        b"iCCP",
        b"sBIT",
        b"sRGB",
        b"cICP",
        b"mDCV",
        b"mDCv",
        b"cLLI",
        b"cLLi",
        b"bKGD",
        b"pHYs",
        b"acTL",
        b"fcTL",
        b"fdAT",
    }
)


def strip_png(data: bytes) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise _malformed("no PNG signature")
    out = bytearray(PNG_SIGNATURE)
    pos, end = len(PNG_SIGNATURE), len(data)
    while pos + 12 <= end:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        chunk_end = pos + 12 + length
        if chunk_end > end:
            raise _malformed(f"chunk {kind!r} at byte {pos} runs past the end")
        if kind in _PNG_KEPT:
            out += data[pos:chunk_end]  # length, type, data and CRC unchanged
        pos = chunk_end
        if kind == b"IEND":
            return bytes(out)
    raise _malformed("no IEND chunk")


# --- WebP (RFC 9649) ---

_WEBP_KEPT = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
_VP8X_EXIF_FLAG, _VP8X_XMP_FLAG = 0x08, 0x04


def strip_webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _malformed("no RIFF WEBP header")
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data):
        raise _malformed("the RIFF size is larger than the file")
    chunks = bytearray()
    pos = 12
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunk_end = pos + 8 + size + (size & 1)  # payloads are padded to an even length
        if pos + 8 + size > end:
            raise _malformed(f"chunk {kind!r} at byte {pos} runs past the end")
        if kind in _WEBP_KEPT:
            chunk = bytearray(data[pos : min(chunk_end, end)])
            if kind == b"VP8X" and size >= 1:
                chunk[8] &= ~(_VP8X_EXIF_FLAG | _VP8X_XMP_FLAG) & 0xFF
            if len(chunk) & 1:
                chunk += b"\x00"
            chunks += chunk
        pos = chunk_end
    return b"RIFF" + (4 + len(chunks)).to_bytes(4, "little") + b"WEBP" + bytes(chunks)
