"""Report photo uploads: sniff the real type, refuse bombs, and re-encode from pixels without metadata."""

from __future__ import annotations

import functools
import hashlib
import io
import re
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms

from jaki.i18n import register

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2560
THUMBNAIL_SIZE = 320
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80

# Output rule: PNG stays PNG (screenshots of text stay sharp, transparency survives); JPEG, WebP and HEIC
# become JPEG, with any transparency flattened onto white. Thumbnails are always JPEG.
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}

# code -> (Indonesian, English); codes are API contract, texts may change.
MESSAGES: dict[str, tuple[str, str]] = {
    "photo_empty": ("Foto kosong.", "The photo is empty."),
    "photo_too_large": ("Ukuran foto melebihi {mb} MB.", "The photo is larger than {mb} MB."),
    "photo_type_not_allowed": (
        "Jenis berkas tidak didukung. Kirim foto JPEG, PNG, WebP, atau HEIC.",
        "Unsupported file type. Send a JPEG, PNG, WebP or HEIC photo.",
    ),
    "photo_corrupt": ("Foto rusak atau tidak dapat dibaca.", "The photo is damaged or cannot be read."),
    "photo_too_many_pixels": (
        "Resolusi foto terlalu besar (maksimal {mp} megapiksel).",
        "The photo's resolution is too high (at most {mp} megapixels).",
    ),
}

register(MESSAGES)  # the one catalogue (jaki.i18n): callers answer with translate(code) or these texts

# What an API layer would answer with; the library itself knows nothing of HTTP.
HTTP_STATUS = {"photo_too_large": 413, "photo_type_not_allowed": 415}

_WHITE = {"RGB": (255, 255, 255), "L": 255}


class PhotoRejected(Exception):
    """The upload is not an acceptable photo. `code` is stable; the messages are for people."""

    def __init__(self, code: str, **params: float) -> None:
        self.code = code
        self.params = params
        indonesian, english = MESSAGES[code]
        self.message_id = indonesian.format(**{k: _number(v, ",") for k, v in params.items()})
        self.message_en = english.format(**{k: _number(v, ".") for k, v in params.items()})
        self.http_status = HTTP_STATUS.get(code, 422)
        super().__init__(f"{code}: {self.message_en}")

    @property
    def message(self) -> str:
        return self.message_id

    def __reduce__(self):
        # Rebuilt from code and params, so it survives pickling (job queues, process pools).
        return _rebuild_rejection, (self.code, self.params)


def _rebuild_rejection(code: str, params: dict[str, float]) -> PhotoRejected:
    return PhotoRejected(code, **params)


@dataclass(frozen=True, slots=True)
class SanitizedPhoto:
    content: bytes
    content_type: str
    width: int
    height: int
    sha256: str  # of `content`, the bytes that are stored

    @property
    def extension(self) -> str:
        return "png" if self.content_type == "image/png" else "jpg"


def sanitize_photo(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE
) -> SanitizedPhoto:
    """Validate an uploaded photo and return it re-encoded: upright, at most max_side px, no metadata.

    Raises PhotoRejected with code photo_empty, photo_too_large, photo_type_not_allowed,
    photo_too_many_pixels or photo_corrupt.
    """
    if max_side < 1:
        raise ValueError("max_side must be positive")
    image, kind = _open(data, max_bytes=max_bytes, max_pixels=max_pixels)
    out_format = "PNG" if kind == "PNG" else "JPEG"
    with image:
        pixels = _decode(image, box=max_side, keep_alpha=out_format == "PNG", max_pixels=max_pixels)
    buffer = io.BytesIO()
    if out_format == "PNG":
        pixels.save(buffer, "PNG", compress_level=6)
    else:
        pixels.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    content = buffer.getvalue()
    return SanitizedPhoto(
        content=content,
        content_type=CONTENT_TYPES[out_format],
        width=pixels.width,
        height=pixels.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def make_thumbnail(
    data: bytes, size: int = THUMBNAIL_SIZE, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> bytes:
    """A JPEG that fits in size x size, upright and without metadata; same checks as sanitize_photo."""
    if size < 1:
        raise ValueError("thumbnail size must be positive")
    image, _kind = _open(data, max_bytes=max_bytes, max_pixels=max_pixels)
    with image:
        pixels = _decode(image, box=size, keep_alpha=False, max_pixels=max_pixels)
    buffer = io.BytesIO()
    pixels.save(buffer, "JPEG", quality=THUMBNAIL_QUALITY)
    return buffer.getvalue()


# ISO base media brands of HEVC-coded HEIF (iPhones write "heic"; Android phones may lead with "mif1" and
# list "heic" among the compatible brands). AVIF ("avif") and plain "mif1" name no HEVC and are not accepted.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})


def sniff_type(data: bytes) -> str | None:
    """The format named by the magic number ("JPEG", "PNG", "WEBP", "HEIF", or "PDF" for permit documents; a
    photo must be one of the first four), else None. The one file sniffer: nothing else reads magic numbers."""
    if data[:5] == b"%PDF-":
        return "PDF"
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and not _HEIF_BRANDS.isdisjoint(_ftyp_brands(data)):
        return "HEIF"
    return None


def _ftyp_brands(data: bytes) -> list[bytes]:
    """The major brand and the compatible brands of the leading `ftyp` box."""
    size = int.from_bytes(data[:4], "big")
    if not 16 <= size <= min(len(data), 4096):
        return []
    return [data[8:12]] + [data[n : n + 4] for n in range(16, size - 3, 4)]


def declared_size(kind: str, data: bytes) -> tuple[int, int] | None:
    """Width and height as the file's header states them, read without decoding; None if not found."""
    try:
        if kind == "PNG":
            if data[12:16] != b"IHDR":
                return None
            return struct.unpack(">II", data[16:24])
        if kind == "JPEG":
            return _jpeg_size(data)
        if kind == "WEBP":
            return _webp_size(data)
        if kind == "HEIF":
            return _heif_size(data)
    except struct.error:
        return None
    return None


# SOF0-SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    end = len(data)
    while pos < end:
        if data[pos] != 0xFF:
            return None
        while pos < end and data[pos] == 0xFF:  # fill bytes may pad any marker
            pos += 1
        if pos >= end:
            return None
        marker = data[pos]
        pos += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        (length,) = struct.unpack_from(">H", data, pos)
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, pos + 3)
            return width, height
        if length < 2:
            return None
        pos += length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            return None
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    return None


# Real files hold a handful of boxes per level and a few dozen properties; a file of millions of empty
# boxes only costs time to walk.
_MAX_BOXES = 4096


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, payload end) of the ISO base media boxes between start and end."""
    pos = start
    for _ in range(_MAX_BOXES):
        if pos + 8 > end:
            return
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((a, b) for k, a, b in _boxes(data, start, end) if k == kind), None)


def _heif_size(data: bytes) -> tuple[int, int] | None:
    """The largest image size the file's `ispe` properties (meta/iprp/ipco) declare.

    The largest, not the primary image's: a grid (how phones store photos) declares its full size beside
    its tiles', thumbnails and depth maps are smaller, and an honest file loses nothing by the stricter check.
    """
    meta = _child(data, 0, len(data), b"meta")
    if meta is None:
        return None
    iprp = _child(data, meta[0] + 4, meta[1], b"iprp")  # meta is a full box: version and flags first
    ipco = iprp and _child(data, iprp[0], iprp[1], b"ipco")
    if not ipco:
        return None
    sizes = [struct.unpack_from(">II", data, a + 4) for k, a, b in _boxes(data, *ipco) if k == b"ispe" and b - a >= 12]
    return max(sizes, key=lambda size: size[0] * size[1]) if sizes else None


@functools.cache
def _register_heif() -> None:
    """Teach Pillow HEIF, once, when the first HEIC arrives."""
    import pillow_heif

    # Only the primary image is decoded: an embedded thumbnail (which Image.draft would pick) or depth map is
    # other pixels than the photo the citizen sees, and each is more parsing of untrusted bytes.
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


_PILLOW_FORMATS = {"JPEG": ("JPEG", "MPO"), "PNG": ("PNG",), "WEBP": ("WEBP",), "HEIF": ("HEIF",)}


def _open(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[Image.Image, str]:
    """Checks that need no pixel data, then Pillow's lazy open (header only)."""
    if not data:
        raise PhotoRejected("photo_empty")
    if len(data) > max_bytes:
        raise PhotoRejected("photo_too_large", mb=_megabytes(max_bytes))
    kind = sniff_type(data)
    if kind not in _PILLOW_FORMATS:  # unknown, or a PDF: not a photo
        raise PhotoRejected("photo_type_not_allowed")
    size = declared_size(kind, data)
    if size is not None:
        _check_pixels(size, max_pixels)
    if kind == "HEIF":
        _register_heif()
    try:
        # formats= keeps Pillow to the plugin the magic number named, so no other parser sees the bytes.
        image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(max_pixels) from exc
    except Exception as exc:
        raise PhotoRejected("photo_corrupt") from exc
    if image.format not in _PILLOW_FORMATS[kind]:
        image.close()
        raise PhotoRejected("photo_corrupt")
    try:
        _check_pixels(image.size, max_pixels)
    except PhotoRejected:
        image.close()
        raise
    return image, kind


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise PhotoRejected("photo_corrupt")
    if width * height > _pixel_limit(max_pixels):
        raise _too_many_pixels(max_pixels)


def _pixel_limit(max_pixels: int) -> int:
    # Pillow warns past its own limit (and raises past twice it); refusing first keeps that quiet.
    return min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)


def _too_many_pixels(max_pixels: int) -> PhotoRejected:
    return PhotoRejected("photo_too_many_pixels", mp=_megapixels(_pixel_limit(max_pixels)))


def _decode(image: Image.Image, *, box: int, keep_alpha: bool, max_pixels: int) -> Image.Image:
    """Decode, shrink to fit box x box, convert to sRGB, turn upright; a new image with no metadata."""
    # libheif has already applied a HEIF's own rotation and mirroring (irot/imir) while decoding; the EXIF or
    # XMP orientation it may still carry describes the stored pixels, and applying it again would turn them.
    orientation = 1 if image.format == "HEIF" else _exif_orientation(image.info)
    try:
        # JPEG only: let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result is shrunk anyway.
        image.draft(None, (box * 2, box * 2))
        image.load()
        pixels = _normalize_mode(image)
        pixels = _fit(pixels, box)
        pixels = _to_srgb(pixels, image.info.get("icc_profile"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(max_pixels) from exc
    except Exception as exc:
        raise PhotoRejected("photo_corrupt") from exc
    if not keep_alpha:
        pixels = _flatten(pixels)
    transpose = _ORIENTATION_TRANSPOSE.get(orientation)
    if transpose is not None:
        pixels = pixels.transpose(transpose)
    # A fresh image carries no info dict, so no EXIF, XMP, ICC, comments or text chunks can reach save().
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    return clean


def _normalize_mode(image: Image.Image) -> Image.Image:
    """One of L, LA, RGB, RGBA or CMYK, with any transparency as an alpha band."""
    mode = image.mode
    if mode.startswith("I"):
        # 16-bit greyscale PNG: Pillow's own conversion to L clips instead of scaling.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode == "PA":
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    if mode in ("L", "RGB") and "transparency" in image.info:
        return image.convert("LA" if mode == "L" else "RGBA")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    return image.convert("RGBA" if "A" in mode else "RGB")


def _fit(image: Image.Image, box: int) -> Image.Image:
    width, height = image.size
    scale = min(box / width, box / height)
    if scale >= 1:
        return image
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Apply an embedded ICC profile (wide-gamut phone photos, CMYK) so colours survive dropping it."""
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            colour = image.convert("RGB") if image.mode == "RGBA" else image
            # A new sRGB profile each time: LittleCMS profile handles are not safe to share across threads.
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(colour, source, srgb, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # an unusable profile is ignored, as browsers do
        if converted is not None:
            if image.mode == "RGBA":
                converted.putalpha(image.getchannel("A"))
            return converted
    if image.mode == "CMYK":
        return image.convert("RGB")
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """Composite any alpha onto white: JPEG has no transparency and black would hide the subject."""
    if image.mode not in ("LA", "RGBA"):
        return image
    base_mode = image.mode[:-1]
    background = Image.new(base_mode, image.size, _WHITE[base_mode])
    background.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return background


_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([1-8])')


def _exif_orientation(info: dict) -> int:
    """EXIF orientation (then XMP's, as Pillow does), read by hand.

    Pillow's getexif() parses every IFD0 tag and warns on the malformed ones phones often write;
    only one tag is needed here, and a damaged one just means "upright".
    """
    raw = info.get("exif")
    if isinstance(raw, bytes):
        value = _tiff_orientation(raw.removeprefix(b"Exif\x00\x00"))
        if value is not None:
            return value
    for key in ("XML:com.adobe.xmp", "xmp"):
        xmp = info.get(key)
        if isinstance(xmp, str):
            xmp = xmp.encode("utf-8", "replace")
        if isinstance(xmp, bytes) and (match := _XMP_ORIENTATION.search(xmp)):
            return int(match[1])
    return 1


def _tiff_orientation(tiff: bytes) -> int | None:
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        return None
    try:
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for index in range(count):
            entry = ifd + 2 + 12 * index
            tag, kind, _count = struct.unpack_from(order + "HHI", tiff, entry)
            if tag != 0x0112:
                continue
            if kind == 3:  # SHORT
                (value,) = struct.unpack_from(order + "H", tiff, entry + 8)
            elif kind == 4:  # LONG, written by a few non-conforming tools
                (value,) = struct.unpack_from(order + "I", tiff, entry + 8)
            else:
                return None
            return value if 1 <= value <= 8 else None
    except struct.error:
        return None
    return None


def _megabytes(count: int) -> float:
    return count / (1024 * 1024)


def _megapixels(count: int) -> float:
    return count / 1_000_000


def _number(value: float, decimal_mark: str) -> str:
    """Three significant digits; Indonesian writes 2,5 where English writes 2.5."""
    return f"{value:.3g}".replace(".", decimal_mark)
