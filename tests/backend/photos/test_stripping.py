"""Metadata is removed without touching the pixels: the served copy decodes to exactly the uploaded image."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PIL.ExifTags import IFD

from backend.errors import Invalid
from backend.photos.formats import JPEG, PNG, WEBP, sniff
from backend.photos.stripping import strip_jpeg, strip_metadata, strip_png, strip_webp
from tests.backend.photos import images


def test_jpeg_loses_exif_gps_and_xmp_but_keeps_its_pixels():
    original = images.jpeg(exif=images.camera_exif(), xmp=images.XMP)
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(IFD.GPSInfo), "the test image must carry GPS to begin with"
    assert images.CAMERA.encode() in original and b"xmpmeta" in original
    assert (
        images.gps_rationals(images.LATITUDE, "<") in original or images.gps_rationals(images.LATITUDE, ">") in original
    )

    served = strip_jpeg(original)

    images.assert_no_camera_traces(served)
    with Image.open(io.BytesIO(served)) as image:
        assert dict(image.getexif()) == {}
        assert image.getexif().get_ifd(IFD.GPSInfo) == {}
    assert images.pixels(served) == images.pixels(original)


def test_jpeg_keeps_only_the_orientation_when_the_viewer_must_turn_it():
    original = images.jpeg(exif=images.camera_exif(orientation=6))
    served = strip_jpeg(original, orientation=6)
    with Image.open(io.BytesIO(served)) as image:
        assert dict(image.getexif()) == {0x0112: 6}
        assert image.getexif().get_ifd(IFD.GPSInfo) == {}
    assert images.CAMERA.encode() not in served
    assert images.pixels(served) == images.pixels(original)


def test_jpeg_drops_photoshop_comments_unknown_apps_and_what_follows_the_end():
    iptc = images.jpeg_segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04 city: Shanghai")
    comment = images.jpeg_segment(0xFE, b"taken at the FamilyMart on Nanjing Road")
    vendor = images.jpeg_segment(0xE5, b"VENDOR secret")
    icc = images.jpeg_segment(0xE2, b"ICC_PROFILE\x00\x01\x01 not a real profile")
    appended = images.jpeg(seed=2, exif=images.camera_exif())  # a depth map / gain map, with its own EXIF
    original = images.with_segments_after_soi(images.jpeg(), iptc, comment, vendor, icc) + appended

    served = strip_jpeg(original)

    for trace in (b"Photoshop", b"Nanjing", b"VENDOR", images.CAMERA.encode()):
        assert trace not in served
    assert icc in served, "the ICC profile is needed to show the colours right"
    assert served.endswith(b"\xff\xd9") and served.count(b"\xff\xd8") == 1
    assert images.pixels(served) == images.pixels(images.jpeg())


def test_progressive_jpeg_with_restart_markers_survives_intact():
    original = images.jpeg(exif=images.camera_exif(), progressive=True, restart_marker_blocks=1)
    served = strip_jpeg(original)
    images.assert_no_camera_traces(served)
    assert images.pixels(served) == images.pixels(original)


def test_png_loses_text_and_exif_chunks_but_keeps_its_pixels():
    original = images.png_with_metadata()
    assert all(kind in original for kind in (b"eXIf", b"tEXt", b"iTXt", b"zTXt"))

    served = strip_png(original + b"trailing bytes")

    for kind in (b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"trailing"):
        assert kind not in served
    images.assert_no_camera_traces(served)
    assert images.pixels(served) == images.pixels(original)


def test_webp_loses_exif_and_xmp_and_says_so_in_its_header():
    original = images.webp_with_metadata()
    assert b"EXIF" in original and b"XMP " in original

    served = strip_webp(original)

    assert b"EXIF" not in served and b"XMP " not in served
    images.assert_no_camera_traces(served)
    vp8x_flags = served[20]
    assert served[12:16] == b"VP8X" and vp8x_flags & 0x0C == 0
    assert int.from_bytes(served[4:8], "little") == len(served) - 8
    with Image.open(io.BytesIO(served)) as image:
        assert "exif" not in image.info and "xmp" not in image.info
    assert images.pixels(served) == images.pixels(original)


@pytest.mark.parametrize("make", [images.jpeg, images.png, images.webp_with_metadata])
def test_stripping_twice_changes_nothing_more(make):
    original = make()
    fmt = sniff(original)
    assert fmt in (JPEG, PNG, WEBP)
    once = strip_metadata(original, fmt)
    assert strip_metadata(once, fmt) == once


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        (JPEG, images.jpeg()[:-2]),  # no end marker
        (JPEG, b"\xff\xd8\xff\xe1\xff\xff"),  # a segment longer than the file
        (PNG, images.png()[:-12]),  # no IEND
        (WEBP, b"RIFF\xff\xff\x00\x00WEBPVP8 "),  # RIFF size past the end
    ],
)
def test_a_broken_structure_is_refused_not_passed_through(fmt, data):
    with pytest.raises(Invalid) as caught:
        strip_metadata(data, fmt)
    assert caught.value.code == "photo.undecodable"
