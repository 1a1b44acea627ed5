"""Photo sanitising: type sniffing, bomb and size limits, metadata stripping, orientation, thumbnails."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import time
import warnings
import zlib
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from jaki.media import images
from jaki.media.images import PhotoRejected, SanitizedPhoto, declared_size, make_thumbnail, sanitize_photo

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
YELLOW = (255, 255, 0)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def noise(size: tuple[int, int]) -> Image.Image:
    """Incompressible pixels, so encoded files are big enough to truncate meaningfully."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def quadrants(size: tuple[int, int] = (80, 40)) -> Image.Image:
    """Four solid colours, so any rotation or flip is visible."""
    width, height = size
    image = Image.new("RGB", size)
    image.paste(RED, (0, 0, width // 2, height // 2))
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    image.paste(BLUE, (0, height // 2, width // 2, height))
    image.paste(YELLOW, (width // 2, height // 2, width, height))
    return image


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "JakiCam"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)  # GPSInfo
    gps[1] = "S"
    gps[2] = (6.0, 10.0, 30.0)
    gps[3] = "E"
    gps[4] = (106.0, 49.0, 40.0)
    return exif


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


@cache
def png_bomb(side: int = 50_000) -> bytes:
    """A valid 1-bit PNG of side x side zero pixels: a few hundred KB on disk, side² bytes once decoded."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    compressor = zlib.compressobj(6)
    rows = bytes((1 + (side + 7) // 8) * 100)  # each row: filter byte 0, then the packed bits
    parts = [compressor.compress(rows) for _ in range(side // 100)]
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def no_pillow(monkeypatch):
    """Fail the test if the bytes reach Pillow at all (Pillow's own bomb check would hide a miss)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the upload was handed to Pillow")

    monkeypatch.setattr(Image, "open", refuse)


def rejected(data: bytes, **limits) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        sanitize_photo(data, **limits)
    return caught.value


# --- metadata --------------------------------------------------------------------------------------


def test_jpeg_with_gps_exif_comes_out_with_no_exif_at_all():
    original = encode(noise((64, 48)), "JPEG", exif=gps_exif(), comment=b"secret comment")
    source = reopen(original)
    assert source.getexif().get_ifd(0x8825)[2] == (6.0, 10.0, 30.0)  # the fixture really carries GPS

    photo = sanitize_photo(original)

    clean = reopen(photo.content)
    assert "exif" not in clean.info
    assert "comment" not in clean.info
    assert dict(clean.getexif()) == {}
    assert clean.getexif().get_ifd(0x8825) == {}
    for marker in (b"Exif", b"JakiCam", b"Model X", b"secret comment"):
        assert marker not in photo.content
    assert photo.content_type == "image/jpeg"
    assert clean.format == "JPEG"


def test_jpeg_xmp_and_icc_profile_are_dropped():
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><exif:GPSLatitude>6,10S</exif:GPSLatitude></rdf:RDF>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encode(noise((40, 30)), "JPEG", xmp=xmp + b"</x:xmpmeta>", icc_profile=icc)
    assert "xmp" in reopen(original).info

    clean = reopen(sanitize_photo(original).content)

    assert "xmp" not in clean.info
    assert "icc_profile" not in clean.info
    assert b"GPSLatitude" not in sanitize_photo(original).content


def test_png_text_chunks_and_exif_are_removed():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "rumah saya di Jl. Kenanga 5")
    info.add_text("Author", "Budi", zip=True)
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    original = encode(quadrants(), "PNG", pnginfo=info, exif=gps_exif(), dpi=(300, 300))
    source = reopen(original)
    assert source.text and "exif" in source.info

    photo = sanitize_photo(original)

    clean = reopen(photo.content)
    assert photo.content_type == "image/png"
    assert clean.format == "PNG"
    assert clean.text == {}
    assert "exif" not in clean.info
    assert dict(clean.getexif()) == {}
    for marker in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"Kenanga", b"Budi"):
        assert marker not in photo.content
    assert clean.tobytes() == quadrants().tobytes()  # lossless in, lossless out


def test_webp_metadata_is_removed_and_output_is_jpeg():
    original = encode(noise((50, 40)), "WEBP", exif=gps_exif(), quality=90)
    assert "exif" in reopen(original).info

    photo = sanitize_photo(original)

    clean = reopen(photo.content)
    assert photo.content_type == "image/jpeg"
    assert clean.format == "JPEG"
    assert "exif" not in clean.info
    assert b"JakiCam" not in photo.content


# --- orientation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_to_the_pixels(orientation):
    source = quadrants((80, 40))
    original = encode(source, "PNG", exif=gps_exif(orientation))
    expected = ImageOps.exif_transpose(reopen(original))

    photo = sanitize_photo(original)

    clean = reopen(photo.content)
    assert clean.size == expected.size == (photo.width, photo.height)
    assert clean.convert("RGB").tobytes() == expected.convert("RGB").tobytes()
    assert dict(clean.getexif()) == {}  # and no orientation tag left to rotate it twice


def test_orientation_6_turns_a_landscape_jpeg_upright():
    # Phones store the sensor's landscape pixels and say "rotate 90° clockwise to view".
    source = Image.new("RGB", (60, 30), RED)
    source.paste(BLUE, (30, 0, 60, 30))
    original = encode(source, "JPEG", exif=gps_exif(6), quality=95)

    clean = reopen(sanitize_photo(original).content).convert("RGB")

    assert clean.size == (30, 60)
    top, bottom = clean.getpixel((15, 8)), clean.getpixel((15, 52))
    assert top[0] > 200 and top[2] < 60  # red: the stored left half is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_big_endian_exif_orientation_is_read():
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, 8, 0) + struct.pack(">I", 0)
    original = encode(quadrants((80, 40)), "PNG", exif=b"Exif\x00\x00" + tiff)

    clean = reopen(sanitize_photo(original).content)

    assert clean.size == (40, 80)
    assert clean.tobytes() == quadrants((80, 40)).transpose(Image.Transpose.ROTATE_90).tobytes()


def test_damaged_exif_is_ignored_not_fatal():
    original = encode(quadrants(), "PNG", exif=b"Exif\x00\x00MM\x00*\x00\x00\xff\xff")
    photo = sanitize_photo(original)
    assert (photo.width, photo.height) == (80, 40)


# --- types -----------------------------------------------------------------------------------------


def gif_bytes() -> bytes:
    return encode(quadrants(), "GIF")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"Laporan: jalan berlubang di depan rumah.\n", id="text"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", id="pdf"),
        pytest.param(gif_bytes(), id="gif"),
        pytest.param(encode(quadrants(), "BMP"), id="bmp"),
        pytest.param(encode(quadrants(), "TIFF"), id="tiff"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', id="svg"),
        pytest.param(b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif", id="avif"),
        pytest.param(b"PK\x03\x04" + bytes(40), id="zip"),
    ],
)
def test_other_types_are_rejected_whatever_the_file_was_called(data):
    # There is no filename or Content-Type parameter to trust: a GIF uploaded as "foto.jpg" is a GIF.
    error = rejected(data)
    assert error.code == "photo_type_not_allowed"
    assert error.http_status == 415
    assert "JPEG, PNG, WebP, atau HEIC" in error.message_id


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10, id="jpeg-magic"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, id="png-magic"),
        pytest.param(b"RIFF\x10\x00\x00\x00WEBPVP8 garbage", id="webp-magic"),
        pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"garbage" * 10, id="heic-magic"),
    ],
)
def test_right_magic_number_but_unreadable_is_corrupt(data):
    assert rejected(data).code == "photo_corrupt"


def test_truncated_jpeg_is_corrupt():
    data = encode(noise((300, 200)), "JPEG", quality=90)
    error = rejected(data[: len(data) // 2])
    assert error.code == "photo_corrupt"
    assert error.message_id == "Foto rusak atau tidak dapat dibaca."
    assert error.http_status == 422


def test_truncated_png_and_webp_are_corrupt():
    png = encode(noise((200, 100)), "PNG")
    webp = encode(noise((200, 100)), "WEBP", quality=90)
    assert rejected(png[: len(png) // 2]).code == "photo_corrupt"
    assert rejected(webp[: len(webp) // 2]).code == "photo_corrupt"


def test_empty_upload():
    error = rejected(b"")
    assert error.code == "photo_empty"
    assert error.message_en == "The photo is empty."


# --- size and pixel limits -------------------------------------------------------------------------


def test_oversized_upload_is_rejected_before_any_decoding(no_pillow):
    data = b"\xff\xd8\xff\xe0" + bytes(8 * 1024 * 1024)

    error = rejected(data)

    assert error.code == "photo_too_large"
    assert error.message_id == "Ukuran foto melebihi 8 MB."
    assert error.message_en == "The photo is larger than 8 MB."
    assert error.http_status == 413


def test_size_cap_is_configurable_and_inclusive():
    data = encode(quadrants(), "PNG")
    assert sanitize_photo(data, max_bytes=len(data)).width == 80
    error = rejected(data, max_bytes=len(data) - 1)
    assert error.code == "photo_too_large"
    assert rejected(b"\x89PNG" + bytes(3 * 1024 * 1024), max_bytes=5 * 1024 * 1024 // 2).message_id == (
        "Ukuran foto melebihi 2,5 MB."
    )


def test_png_decompression_bomb_is_rejected_from_its_header(no_pillow):
    bomb = png_bomb()
    assert len(bomb) < 1024 * 1024  # 2.5 gigapixels in well under a megabyte
    assert declared_size("PNG", bomb) == (50_000, 50_000)

    started = time.perf_counter()
    error = rejected(bomb)
    elapsed = time.perf_counter() - started

    assert error.code == "photo_too_many_pixels"
    assert error.message_id == "Resolusi foto terlalu besar (maksimal 40 megapiksel)."
    assert elapsed < 0.5
    with pytest.raises(PhotoRejected, match="photo_too_many_pixels"):
        make_thumbnail(bomb)


def test_pillow_bomb_check_is_a_rejection_too(monkeypatch):
    # If the header reader ever misses a size, Pillow's own limit still answers, as a rejection.
    monkeypatch.setattr(images, "declared_size", lambda kind, data: None)
    assert rejected(png_bomb(), max_pixels=10**12).code == "photo_too_many_pixels"


def test_pillow_bomb_warning_is_a_rejection_when_raised(monkeypatch):
    monkeypatch.setattr(images, "declared_size", lambda kind, data: None)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # 40x40 is over Pillow's (patched) warning level but under twice it, where it raises.
        error = rejected(encode(Image.new("L", (40, 40)), "PNG"), max_pixels=10**9)
    assert error.code == "photo_too_many_pixels"


def test_pillow_limit_applies_even_when_the_caller_allows_more(no_pillow):
    # 100 megapixels is over Pillow's warning level; the header check refuses it before Pillow warns.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = rejected(png_bomb(10_000), max_pixels=10**9)
    assert caught == []
    assert error.code == "photo_too_many_pixels"
    assert error.message_en == "The photo's resolution is too high (at most 89.5 megapixels)."


def test_max_pixels_counts_declared_dimensions():
    data = encode(quadrants((100, 100)), "PNG")
    assert sanitize_photo(data, max_pixels=10_000).width == 100
    assert rejected(data, max_pixels=9_999).code == "photo_too_many_pixels"


def _patch_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]


def test_jpeg_declaring_huge_dimensions_is_rejected_without_decoding(no_pillow):
    bomb = _patch_jpeg_size(encode(quadrants(), "JPEG"), 65_000, 65_000)
    assert declared_size("JPEG", bomb) == (65_000, 65_000)
    assert rejected(bomb).code == "photo_too_many_pixels"


def test_webp_declaring_huge_dimensions_is_rejected_without_decoding(no_pillow):
    lossless = bytearray(encode(quadrants(), "WEBP", lossless=True))
    assert lossless[12:16] == b"VP8L"
    lossless[21:25] = struct.pack("<I", (16383 << 14) | 16383)
    assert declared_size("WEBP", bytes(lossless)) == (16384, 16384)
    assert rejected(bytes(lossless)).code == "photo_too_many_pixels"


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("JPEG", {"exif": gps_exif()}),
        ("PNG", {}),
        ("WEBP", {"lossless": True}),
        ("WEBP", {"quality": 80}),
        ("WEBP", {"exif": gps_exif()}),  # extended format: VP8X header
    ],
)
def test_declared_size_agrees_with_pillow(fmt, params):
    data = encode(noise((123, 45)), fmt, **params)
    assert declared_size(images.sniff_type(data), data) == (123, 45)


# --- pixels, modes and output ----------------------------------------------------------------------


def test_large_photo_is_downscaled_keeping_aspect():
    photo = sanitize_photo(encode(noise((4000, 1000)), "JPEG"))
    assert (photo.width, photo.height) == (2560, 640)
    assert reopen(photo.content).size == (2560, 640)


def test_max_side_is_configurable_and_small_photos_are_not_enlarged():
    data = encode(quadrants((300, 200)), "PNG")
    assert (sanitize_photo(data, max_side=150).width, sanitize_photo(data, max_side=150).height) == (150, 100)
    assert (sanitize_photo(data).width, sanitize_photo(data).height) == (300, 200)


def test_result_describes_its_content():
    photo = sanitize_photo(encode(noise((64, 64)), "JPEG"))
    assert isinstance(photo, SanitizedPhoto)
    assert photo.sha256 == hashlib.sha256(photo.content).hexdigest()
    assert photo.extension == "jpg"
    assert photo.content.startswith(b"\xff\xd8\xff")


def test_transparent_png_keeps_alpha():
    image = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 10, 10))
    photo = sanitize_photo(encode(image, "PNG"))
    clean = reopen(photo.content)
    assert photo.extension == "png"
    assert clean.mode == "RGBA"
    assert clean.getpixel((15, 15))[3] == 0
    assert clean.getpixel((5, 5)) == (255, 0, 0, 255)


def test_transparent_webp_becomes_jpeg_on_white():
    image = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    clean = reopen(sanitize_photo(encode(image, "WEBP", lossless=True)).content)
    assert clean.mode == "RGB"
    assert all(channel > 245 for channel in clean.getpixel((10, 10)))


def test_palette_png_with_transparency_converts_without_warnings():
    image = Image.new("P", (16, 16), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.info["transparency"] = bytes([0, 255] + [255] * 254)
    clean = reopen(sanitize_photo(encode(image, "PNG")).content)
    assert clean.mode == "RGBA"
    assert clean.getpixel((0, 0)) == (255, 0, 0, 255)


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    image = Image.new("I;16", (8, 8), 40_000)
    clean = reopen(sanitize_photo(encode(image, "PNG")).content)
    assert clean.mode == "L"
    assert clean.getpixel((0, 0)) == 40_000 // 256


def test_cmyk_jpeg_becomes_rgb():
    clean = reopen(sanitize_photo(encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")).content)
    assert clean.mode == "RGB"
    red, green, blue = clean.getpixel((8, 8))
    assert red > 200 and green < 60 and blue < 60


def test_mpo_from_phone_cameras_is_accepted():
    first, second = noise((40, 30)), noise((40, 30))
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert reopen(data).format == "MPO"
    photo = sanitize_photo(data)
    assert photo.content_type == "image/jpeg"
    assert (photo.width, photo.height) == (40, 30)


def test_rejection_carries_both_languages():
    error = PhotoRejected("photo_too_many_pixels", mp=12.5)
    assert error.code == "photo_too_many_pixels"
    assert error.message == error.message_id == "Resolusi foto terlalu besar (maksimal 12,5 megapiksel)."
    assert error.message_en == "The photo's resolution is too high (at most 12.5 megapixels)."
    assert "photo_too_many_pixels" in str(error)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 -- our own bytes, made one line above
    assert (copy.code, copy.message_id, copy.message_en) == (error.code, error.message_id, error.message_en)


# --- thumbnails ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((1000, 500), 320, (320, 160)),
        ((500, 1000), 320, (160, 320)),
        ((4000, 3000), 320, (320, 240)),
        ((100, 50), 320, (100, 50)),
        ((1000, 1000), 64, (64, 64)),
    ],
)
def test_thumbnail_fits_the_box(size, box, expected):
    thumbnail = make_thumbnail(encode(noise(size), "JPEG"), box)
    image = reopen(thumbnail)
    assert image.format == "JPEG"
    assert image.size == expected


def test_thumbnail_is_upright_and_has_no_metadata():
    original = encode(noise((640, 480)), "JPEG", exif=gps_exif(6))
    image = reopen(make_thumbnail(original))
    assert image.size == (240, 320)
    assert "exif" not in image.info
    assert b"JakiCam" not in make_thumbnail(original)


def test_thumbnail_of_transparent_png_is_rgb_jpeg():
    image = reopen(make_thumbnail(encode(Image.new("RGBA", (640, 320), (0, 0, 0, 0)), "PNG")))
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (320, 160))


def test_thumbnail_applies_the_same_checks():
    with pytest.raises(PhotoRejected, match="photo_type_not_allowed"):
        make_thumbnail(gif_bytes())
    with pytest.raises(ValueError):
        make_thumbnail(encode(quadrants(), "PNG"), 0)


# --- robustness ------------------------------------------------------------------------------------


SAMPLES = [
    encode(noise((24, 16)), "JPEG", exif=gps_exif(6)),
    encode(quadrants((24, 16)), "PNG"),
    encode(noise((24, 16)), "WEBP"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sample=st.sampled_from(SAMPLES),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.none() | st.integers(min_value=1),
)
def test_damaged_files_are_either_sanitised_or_rejected(sample, edits, cut):
    data = bytearray(sample)
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
