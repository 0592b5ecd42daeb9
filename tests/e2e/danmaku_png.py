"""Just enough PNG decoding to read a screenshot's alpha channel (8-bit RGBA, not interlaced),
so the overlay's transparency is checked on real pixels without an imaging library.

PNG filters work byte by byte against the same channel of the neighbouring pixels, so the alpha
channel can be unfiltered on its own: a quarter of the work of decoding every channel.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGBA = 6


@dataclass(frozen=True)
class AlphaImage:
    width: int
    height: int
    rows: list[bytes]  # each `width` alpha values

    def alpha(self, x: int, y: int) -> int:
        return self.rows[y][x]

    def alphas(self, left: int, top: int, right: int, bottom: int) -> list[int]:
        """Alpha of every pixel in [left, right) x [top, bottom), clipped to the image."""
        left, top = max(0, left), max(0, top)
        right, bottom = min(self.width, right), min(self.height, bottom)
        return [value for y in range(top, bottom) for value in self.rows[y][left:right]]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _chunks(data: bytes) -> tuple[bytes, bytes]:
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    position = len(SIGNATURE)
    header = b""
    compressed = bytearray()
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunk = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            compressed += chunk
        elif kind == b"IEND":
            break
    return header, bytes(compressed)


def decode_alpha(data: bytes) -> AlphaImage:
    header, compressed = _chunks(data)
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or color_type != RGBA or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {color_type}, interlace {interlace}")
    raw = zlib.decompress(compressed)
    stride = width * 4 + 1
    rows: list[bytes] = []
    previous = bytes(width)
    for y in range(height):
        kind = raw[y * stride]
        line = bytearray(raw[y * stride + 4 : (y + 1) * stride : 4])  # the filtered alpha bytes
        if kind == 1:
            for x in range(1, width):
                line[x] = (line[x] + line[x - 1]) & 255
        elif kind == 2:
            line = bytearray((value + up) & 255 for value, up in zip(line, previous, strict=True))
        elif kind == 3:
            for x in range(width):
                left = line[x - 1] if x else 0
                line[x] = (line[x] + ((left + previous[x]) >> 1)) & 255
        elif kind == 4:
            for x in range(width):
                left = line[x - 1] if x else 0
                upper_left = previous[x - 1] if x else 0
                line[x] = (line[x] + _paeth(left, previous[x], upper_left)) & 255
        rows.append(bytes(line))
        previous = rows[-1]
    return AlphaImage(width, height, rows)
