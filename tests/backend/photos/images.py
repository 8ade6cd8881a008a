"""Images made with Pillow for the photo tests: noisy enough that JPEG data is real, small enough to be quick."""

from __future__ import annotations

import hashlib
import io
import random
import struct

from PIL import Image, PngImagePlugin
from PIL.ExifTags import GPS, IFD, Base

# Where the test "camera" was: these must never reach anyone who downloads the photo.
LATITUDE = (31.0, 13.0, 48.5)
LONGITUDE = (121.0, 28.0, 12.25)
CAMERA = "Fieldbook TestCam GPS-7"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><exif:GPSLatitude>31,13.8N</exif:GPSLatitude></rdf:RDF></x:xmpmeta>'
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def picture(width: int = 96, height: int = 64, seed: int = 1, mode: str = "RGB") -> Image.Image:
    rng = random.Random(seed)
    image = Image.new(mode, (width, height))
    channels = len(mode)
    image.putdata([tuple(rng.randrange(256) for _ in range(channels)) for _ in range(width * height)])  # type: ignore[misc]
    return image


def camera_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF as a phone writes it: camera make, a capture time and a GPS position."""
    exif = Image.Exif()
    exif[Base.Make] = CAMERA
    exif[Base.DateTime] = "2025:03:14 09:26:53"
    if orientation is not None:
        exif[Base.Orientation] = orientation
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef], gps[GPS.GPSLatitude] = "N", LATITUDE
    gps[GPS.GPSLongitudeRef], gps[GPS.GPSLongitude] = "E", LONGITUDE
    return exif


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg(seed: int = 1, *, exif: Image.Exif | None = None, **options: object) -> bytes:
    extra: dict[str, object] = {"quality": 90, **options}
    if exif is not None:
        extra["exif"] = exif
    return encode(picture(seed=seed), "JPEG", **extra)


def png(seed: int = 1, **options: object) -> bytes:
    return encode(picture(seed=seed), "PNG", **options)


def png_with_metadata(seed: int = 1) -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", CAMERA)
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    text.add_text("Location", "31.2301N 121.4701E", zip=True)
    return png(seed, exif=camera_exif(), pnginfo=text)


def webp_with_metadata(seed: int = 1) -> bytes:
    return encode(picture(seed=seed), "WEBP", lossless=True, exif=camera_exif(), xmp=XMP)


def gif(seed: int = 1) -> bytes:
    return encode(picture(seed=seed).convert("P"), "GIF")


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def with_segments_after_soi(data: bytes, *segments: bytes) -> bytes:
    """A JPEG with extra segments right after its start marker (where metadata writers put them)."""
    return data[:2] + b"".join(segments) + data[2:]


def gps_rationals(values: tuple[float, ...], order: str) -> bytes:
    """The bytes EXIF uses for a GPS coordinate: three RATIONALs (numerator, denominator)."""
    fractions = [v.as_integer_ratio() for v in values]
    return struct.pack(f"{order}6I", *(n for fraction in fractions for n in fraction))


def assert_no_camera_traces(data: bytes) -> None:
    for trace in (
        CAMERA.encode(),
        b"Exif\x00\x00",
        b"GPSLatitude",
        b"xmpmeta",
        gps_rationals(LATITUDE, ">"),
        gps_rationals(LATITUDE, "<"),
    ):
        assert trace not in data, trace
