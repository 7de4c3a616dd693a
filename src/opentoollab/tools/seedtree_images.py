"""Builders of the seed tree's images: a logo, bar charts and icons (png) and photos (jpg).

A builder takes ``(world, rng, *args)`` and returns ``(content, info)`` (``seedtree_world.Made``); the
info holds the image's ``format``, ``width``, ``height`` and ``mode`` for the manifest.

May import: ``opentoollab.tools.seedtree_world``, ``opentoollab.tools.seedtree_formats``.
"""

from __future__ import annotations

from .seedtree_formats import jpeg, png
from .seedtree_world import Made, Rng, World, region_totals


def logo(w: World, r: Rng) -> Made:
    size = 64
    color = (r.int(20, 200), r.int(20, 200), r.int(20, 200))
    center, radius2 = size // 2, (size // 2 - 4) ** 2
    ink, clear = bytes((*color, 255)), bytes((255, 255, 255, 0))
    rows = []
    for y in range(size):
        span = 0  # half-width of the disc on this row
        while (span + 1) ** 2 + (y - center) ** 2 <= radius2:
            span += 1
        inside = 2 * span + 1 if (y - center) ** 2 <= radius2 else 0
        left = center - span if inside else size
        rows.append(clear * min(left, size) + ink * inside + clear * (size - min(left, size) - inside))
    return png(size, size, "RGBA", rows), {"width": size, "height": size, "mode": "RGBA", "format": "PNG"}


def bar_chart(w: World, r: Rng, values_key: str) -> Made:
    width, height = 160, 100
    if values_key == "region":
        values = [cents for _, (_, cents) in region_totals(w).items()]
    else:
        values = [r.int(10, 100) for _ in range(12)]
    top = max(values) or 1
    bar = width // len(values)
    heights = [max(1, value * (height - 10) // top) for value in values]
    palette = [(r.int(0, 255), r.int(0, 255), r.int(0, 255)) for _ in values]
    rows = []
    for y in range(height):
        row = bytearray()
        for index, h in enumerate(heights):
            filled = height - y <= h
            color = bytes(palette[index]) if filled else b"\xff\xff\xff"
            row += color * (bar - 2) + b"\xff\xff\xff" * 2
        row += b"\xff\xff\xff" * (width - bar * len(values))
        rows.append(bytes(row))
    return png(width, height, "RGB", rows), {"width": width, "height": height, "mode": "RGB", "format": "PNG",
                                              "bars": len(values)}


def icon(w: World, r: Rng, mode: str) -> Made:
    size = r.choice([16, 24, 32])
    if mode == "L":
        rows = [bytes((x * 255 // (size - 1)) for x in range(size)) for _ in range(size)]
        return png(size, size, "L", rows), {"width": size, "height": size, "mode": "L", "format": "PNG"}
    if mode == "LA":
        rows = [b"".join(bytes((y * 8 % 256, 255 if x % 4 else 0)) for x in range(size)) for y in range(size)]
        return png(size, size, "LA", rows), {"width": size, "height": size, "mode": "LA", "format": "PNG"}
    palette = [(r.int(0, 255), r.int(0, 255), r.int(0, 255)) for _ in range(4)]
    rows = [bytes(((x // 4 + y // 4) % 4) for x in range(size)) for y in range(size)]
    return png(size, size, "P", rows, palette), {"width": size, "height": size, "mode": "P", "format": "PNG"}


def photo(w: World, r: Rng) -> Made:
    width, height = r.choice([(96, 64), (128, 96), (120, 80), (64, 64)])
    sky = (r.int(60, 140), r.int(120, 200), r.int(200, 255))
    ground = (r.int(40, 120), r.int(90, 160), r.int(20, 80))
    horizon = (height // 8) * r.int(35, 65) // 100

    def color(bx: int, by: int) -> tuple[int, int, int]:
        if by < horizon:
            return (min(255, sky[0] + 12 * by), min(255, sky[1] + 6 * by), sky[2])
        return (ground[0], max(0, ground[1] - 8 * (by - horizon)), ground[2] + (bx % 3) * 10)

    return jpeg(width, height, color), {"width": width, "height": height, "mode": "RGB", "format": "JPEG"}
