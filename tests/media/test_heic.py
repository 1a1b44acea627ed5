"""HEIC/HEIF photos (iPhones): sniffed from bytes, bomb-checked from the header, decoded, JPEG without metadata.

Every file here is a real HEIC encoded by pillow-heif (libheif with x265) inside the test.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from jaki.media import images
from jaki.media.images import PhotoRejected, declared_size, make_thumbnail, sanitize_photo, sniff_type

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)

pillow_heif.register_heif_opener()  # the tests' encoder; jaki registers the decoder itself on first use


def heic(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", quality=params.pop("quality", 90), **params)
    return buffer.getvalue()


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def quadrants(size=(96, 48)) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    image.paste(RED, (0, 0, width // 2, height // 2))
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    image.paste(BLUE, (0, height // 2, width // 2, height))
    image.paste(YELLOW, (width // 2, height // 2, width, height))
    return image


def corners(image: Image.Image) -> list[tuple[int, int, int]]:
    """The colour near each corner (top-left, top-right, bottom-left, bottom-right), snapped to 0/255."""
    w, h = image.size
    points = [(w // 8, h // 8), (w - 1 - w // 8, h // 8), (w // 8, h - 1 - h // 8), (w - 1 - w // 8, h - 1 - h // 8)]
    return [tuple(255 if c > 127 else 0 for c in image.convert("RGB").getpixel(p)) for p in points]


def iphone_exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone Rahasia"
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (6.0, 16.0, 15.6), "E", (106.0, 46.0, 37.2)
    return exif.tobytes()


def ispe_offsets(data: bytes) -> list[int]:
    meta = images._child(data, 0, len(data), b"meta")
    iprp = images._child(data, meta[0] + 4, meta[1], b"iprp")
    ipco = images._child(data, *iprp, b"ipco")
    return [a for kind, a, _b in images._boxes(data, *ipco) if kind == b"ispe"]


@pytest.fixture
def no_pillow(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the upload was handed to Pillow")

    monkeypatch.setattr(Image, "open", refuse)


def rejected(data: bytes, **limits) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        sanitize_photo(data, **limits)
    return caught.value


def test_iphone_heic_becomes_a_jpeg_with_no_exif_gps_or_xmp():
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>6,16S</exif:GPSLatitude></x:xmpmeta>'
    original = heic(quadrants(), exif=iphone_exif(), xmp=xmp)
    assert original[4:12] == b"ftypheic" and b"iPhone Rahasia" in original
    assert reopen(original).getexif().get_ifd(0x8825)[2] == (6.0, 16.0, 15.6)  # the fixture really has GPS

    photo = sanitize_photo(original)

    assert photo.content_type == "image/jpeg" and photo.extension == "jpg"
    clean = reopen(photo.content)
    assert clean.format == "JPEG" and clean.size == (96, 48) == (photo.width, photo.height)
    assert dict(clean.getexif()) == {} and "xmp" not in clean.info and "icc_profile" not in clean.info
    for marker in (b"Exif", b"Apple", b"iPhone Rahasia", b"GPSLatitude", b"ftyp"):
        assert marker not in photo.content
    assert corners(clean) == [RED, GREEN, BLUE, YELLOW]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_heic_rotation_is_applied_once_like_the_same_jpeg(orientation):
    # pillow-heif stores an EXIF orientation as the HEIF rotation (irot) that libheif applies on decoding.
    photo = reopen(sanitize_photo(heic(quadrants(), exif=iphone_exif(orientation))).content)
    buffer = io.BytesIO()
    quadrants().save(buffer, "JPEG", exif=iphone_exif(orientation), quality=95)
    jpeg = reopen(sanitize_photo(buffer.getvalue()).content)
    assert photo.size == jpeg.size and corners(photo) == corners(jpeg)


def test_an_orientation_tag_left_beside_irot_is_not_applied_again(monkeypatch):
    """HEIF rotates with irot; an EXIF orientation a decoder leaves in place must not turn the photo twice."""
    from pillow_heif import as_plugin

    monkeypatch.setattr(as_plugin, "set_orientation", lambda info: None)  # keep the tag as the file has it
    data = heic(quadrants(), exif=iphone_exif(6))
    opened = Image.open(io.BytesIO(data))
    assert opened.getexif().get(0x0112) == 6 and opened.size == (48, 96)  # rotated, and still tagged
    photo = reopen(sanitize_photo(data).content)
    assert photo.size == (48, 96) and corners(photo) == [BLUE, RED, YELLOW, GREEN]


def test_ten_bit_and_transparent_heic():
    pixels = np.broadcast_to(np.array([1000, 200, 40], dtype=np.uint16) << 6, (32, 48, 3)).copy()
    ten_bit = pillow_heif.from_bytes(mode="RGB;16", size=(48, 32), data=pixels.tobytes())
    buffer = io.BytesIO()
    ten_bit.save(buffer, quality=90)
    assert reopen(buffer.getvalue()).info["bit_depth"] == 10
    red, green, blue = reopen(sanitize_photo(buffer.getvalue()).content).getpixel((10, 10))
    assert red > 230 and 35 < green < 65 and blue < 25

    glass = Image.new("RGBA", (40, 20), (255, 0, 0, 0))
    glass.paste((0, 0, 255, 255), (20, 0, 40, 20))
    flattened = reopen(sanitize_photo(heic(glass)).content)
    assert flattened.mode == "RGB" and corners(flattened)[:2] == [(255, 255, 255), BLUE]


def test_large_heic_is_downscaled():
    photo = sanitize_photo(heic(quadrants((3000, 300)), quality=50))
    assert (photo.width, photo.height) == (2560, 256)


@pytest.mark.parametrize(
    ("major", "compatible"),
    [(b"heic", [b"mif1", b"heic"]), (b"mif1", [b"mif1", b"heic"]), (b"heix", [b"mif1"]), (b"msf1", [b"hevc"])],
)
def test_sniffed_as_heif_by_its_brands(major, compatible):
    ftyp = struct.pack(">I", 16 + 4 * len(compatible)) + b"ftyp" + major + bytes(4) + b"".join(compatible)
    assert sniff_type(ftyp + bytes(16)) == "HEIF"


@pytest.mark.parametrize(
    ("major", "compatible"),
    [
        (b"avif", [b"avif", b"mif1", b"miaf"]),  # AV1 in HEIF: no decoder here, refused as a type
        (b"mif1", [b"mif1", b"miaf"]),  # a HEIF naming no HEVC codec
        (b"isom", [b"isom", b"iso2", b"mp41"]),  # a video
        (b"qt  ", [b"qt  "]),  # a QuickTime Live Photo movie
    ],
)
def test_other_iso_media_files_are_refused_as_a_type(major, compatible):
    ftyp = struct.pack(">I", 16 + 4 * len(compatible)) + b"ftyp" + major + bytes(4) + b"".join(compatible)
    assert sniff_type(ftyp + bytes(64)) is None
    error = rejected(ftyp + bytes(64))
    assert error.code == "photo_type_not_allowed" and error.http_status == 415
    assert error.message_id == "Jenis berkas tidak didukung. Kirim foto JPEG, PNG, WebP, atau HEIC."


def test_heic_is_sniffed_from_its_bytes_not_its_name():
    data = heic(quadrants())
    assert sniff_type(data) == "HEIF"
    assert sniff_type(data[4:]) is None  # nothing but the bytes decides


def test_declared_size_reads_ispe_without_decoding(no_pillow):
    data = heic(quadrants((96, 48)))
    width, height = declared_size("HEIF", data)
    # ispe is the coded size (x265 pads to its block size; a clean-aperture box crops it): what libheif decodes.
    assert width >= 96 and height >= 48 and width * height < 2 * 96 * 64


def test_heic_declaring_a_huge_image_is_refused_before_decoding(no_pillow):
    data = bytearray(heic(quadrants()))
    for offset in ispe_offsets(bytes(data)):
        data[offset + 4 : offset + 12] = struct.pack(">II", 60_000, 60_000)
    assert declared_size("HEIF", bytes(data)) == (60_000, 60_000)
    error = rejected(bytes(data))
    assert error.code == "photo_too_many_pixels" and error.http_status == 422


def test_heic_over_the_pixel_limit_is_refused():
    data = heic(quadrants((96, 48)))
    assert rejected(data, max_pixels=4000).code == "photo_too_many_pixels"
    with pytest.raises(PhotoRejected, match="photo_too_many_pixels"):
        make_thumbnail(data, max_pixels=4000)


def test_pillow_bomb_check_applies_to_heic_when_the_header_says_nothing(monkeypatch):
    monkeypatch.setattr(images, "declared_size", lambda kind, data: None)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert rejected(heic(quadrants()), max_pixels=10**9).code == "photo_too_many_pixels"


def test_truncated_heic_is_corrupt():
    data = heic(quadrants())
    for cut in (40, len(data) // 2, len(data) - 10):
        assert rejected(data[:cut]).code == "photo_corrupt", cut


SAMPLE = heic(quadrants((24, 16)), exif=iphone_exif(6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.none() | st.integers(min_value=1),
)
def test_damaged_heic_is_either_sanitised_or_rejected(edits, cut):
    data = bytearray(SAMPLE)
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % len(data) or 1]
    try:
        photo = sanitize_photo(bytes(data), max_pixels=1_000_000)
    except PhotoRejected as error:
        assert error.code in images.MESSAGES
    else:
        assert reopen(photo.content).size == (photo.width, photo.height)
