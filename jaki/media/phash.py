"""Perceptual hashing of photos: a 64-bit difference hash (dHash) and its Hamming distance."""

from __future__ import annotations

import io

from PIL import Image

BITS = 64
BANDS = 8  # 8 bands of 8 bits: two hashes within distance 7 share a band exactly (pigeonhole)
BAND_BITS = BITS // BANDS


def dhash(content: bytes) -> str:
    """16 hex digits: for each of 8 rows of a 9x8 greyscale thumbnail, whether each pixel is brighter than the
    next. Survives re-encoding, resizing, brightness changes and stripped metadata; a different scene differs in
    about half the bits."""
    with Image.open(io.BytesIO(content)) as image:
        small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
        pixels = small.tobytes()  # one byte per pixel in mode L
    value = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            value = (value << 1) | (1 if left > right else 0)
    return f"{value:016x}"


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def bands(hash_hex: str) -> list[int]:
    """The hash's 8 bands, most significant first."""
    value = int(hash_hex, 16)
    return [(value >> (BITS - BAND_BITS * (i + 1))) & 0xFF for i in range(BANDS)]
