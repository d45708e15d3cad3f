#!/usr/bin/env python3
"""Draws the packages' 128x128 icon (src/package/icon.png) with the standard library only.

A rounded teal tile with a rising line of bars, the last one highlighted: preferences learned over time.
Deterministic: the same script writes the same bytes. Run from anywhere: python3 src/package/make-icon.py
"""
import os
import struct
import zlib

SIZE = 128
BACKGROUND = (0, 0, 0, 0)
TILE = (18, 110, 130, 255)
BAR = (236, 244, 246, 255)
ACCENT = (255, 183, 77, 255)


def inside_rounded_square(x, y, margin=4, radius=22):
    lo, hi = margin, SIZE - 1 - margin
    if x < lo or x > hi or y < lo or y > hi:
        return False
    # Distance to the nearest corner centre decides the rounded corners; the edges are straight.
    cx = min(max(x, lo + radius), hi - radius)
    cy = min(max(y, lo + radius), hi - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2


def pixel(x, y):
    if not inside_rounded_square(x, y):
        return BACKGROUND
    bars = 5
    width, gap, left, base = 14, 6, 19, 104
    for i in range(bars):
        x0 = left + i * (width + gap)
        top = base - 18 - i * 15
        if x0 <= x < x0 + width and top <= y < base:
            return ACCENT if i == bars - 1 else BAR
    return TILE


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png():
    rows = bytearray()
    for y in range(SIZE):
        rows.append(0)  # filter type 0 (none) for every scanline
        for x in range(SIZE):
            rows.extend(pixel(x, y))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "icon.png")
    with open(target, "wb") as f:
        f.write(png())
    print(target)
