"""Draws the app's icons (a white F on the brand blue) as PNG files, with no imaging library.

Run once when the design changes: python3 pwa/scripts/make_icons.py. The PNGs are committed as source assets.
"""

import struct
import zlib
from pathlib import Path

BLUE = (11, 95, 255)
WHITE = (255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "public" / "icons"


def png(size: int, pixel) -> bytes:
    raw = bytearray()
    for y in range(size):
        raw.append(0)
        for x in range(size):
            raw.extend(pixel(x / size, y / size))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


def letter(u: float, v: float, inset: float) -> bool:
    """The F, in the unit square scaled into the safe zone."""
    u = (u - inset) / (1 - 2 * inset)
    v = (v - inset) / (1 - 2 * inset)
    stem = 0.30 <= u <= 0.44 and 0.22 <= v <= 0.80
    top = 0.30 <= u <= 0.72 and 0.22 <= v <= 0.35
    middle = 0.30 <= u <= 0.64 and 0.46 <= v <= 0.58
    return stem or top or middle


def rounded(u: float, v: float, r: float = 0.18) -> bool:
    dx = max(r - u, 0, u - (1 - r))
    dy = max(r - v, 0, v - (1 - r))
    return dx * dx + dy * dy <= r * r


def icon(u: float, v: float) -> tuple[int, int, int, int]:
    if not rounded(u, v):
        return (0, 0, 0, 0)
    return (*WHITE, 255) if letter(u, v, 0.0) else (*BLUE, 255)


def maskable(u: float, v: float) -> tuple[int, int, int, int]:
    return (*WHITE, 255) if letter(u, v, 0.1) else (*BLUE, 255)


def badge(u: float, v: float) -> tuple[int, int, int, int]:
    return (*WHITE, 255) if letter(u, v, 0.0) else (0, 0, 0, 0)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon-192.png").write_bytes(png(192, icon))
    (OUT / "icon-512.png").write_bytes(png(512, icon))
    (OUT / "maskable-512.png").write_bytes(png(512, maskable))
    (OUT / "apple-touch-icon.png").write_bytes(png(180, maskable))
    (OUT / "badge-72.png").write_bytes(png(72, badge))
