"""Designs drawn by Pillow for the demo (railings, manhole covers) and sketches of streets: distinct pictures,
not blank squares."""
from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw

PALETTES = {
    "red": [(178, 34, 34), (235, 200, 80), (250, 245, 235)],
    "haipai": [(40, 40, 48), (201, 162, 39), (236, 230, 218)],
    "jiangnan": [(60, 90, 80), (240, 240, 235), (120, 150, 170)],
}
MOTIFS = ("bars", "rings", "waves", "lattice", "fans", "stars", "magnolia")


def railing(seed: int, size: tuple[int, int] = (1600, 900)) -> bytes:
    """A railing panel: posts, rails and a repeating motif chosen by the seed."""
    rng = random.Random(seed)
    palette = list(PALETTES.values())[seed % len(PALETTES)]
    motif = MOTIFS[(seed // len(PALETTES)) % len(MOTIFS)]
    w, h = size
    image = Image.new("RGB", size, palette[2])
    draw = ImageDraw.Draw(image)
    # a skyline behind the railing, different for every seed, so that no two designs look alike
    x = 0
    while x < w:
        bw, bh = rng.randrange(60, 260), rng.randrange(int(h * 0.1), int(h * 0.75))
        shade = rng.randrange(90, 220)
        draw.rectangle([x, int(h * 0.78) - bh, x + bw, int(h * 0.78)], fill=(shade, shade - 20, shade - 40))
        x += bw + rng.randrange(0, 80)
    # the street
    draw.rectangle([0, int(h * 0.78), w, h], fill=(150, 150, 150))
    for x in range(0, w, 160):
        draw.rectangle([x + 40, int(h * 0.88), x + 110, int(h * 0.9)], fill=(240, 240, 240))
    top, bottom = int(h * 0.2), int(h * 0.75)
    colour, accent = palette[0], palette[1]
    draw.rectangle([0, top, w, top + 18], fill=colour)
    draw.rectangle([0, bottom - 18, w, bottom], fill=colour)
    panel = rng.randrange(180, 260)
    for x0 in range(0, w, panel):
        draw.rectangle([x0, top - 30, x0 + 16, bottom + 20], fill=colour)
        cx, cy = x0 + panel // 2, (top + bottom) // 2
        r = (bottom - top) // 3
        if motif == "bars":
            for x in range(x0 + 30, x0 + panel - 10, 24):
                draw.rectangle([x, top, x + 8, bottom], fill=colour)
        elif motif == "rings":
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=accent, width=10)
            draw.ellipse([cx - r // 2, cy - r // 2, cx + r // 2, cy + r // 2], outline=colour, width=8)
        elif motif == "waves":
            points = [(x, cy + int(r * 0.6 * math.sin((x - x0) / panel * 2 * math.pi))) for x in range(x0, x0 + panel)]
            draw.line(points, fill=accent, width=10)
        elif motif == "lattice":
            for d in range(-panel, panel, 36):
                draw.line([(x0 + d, top), (x0 + d + (bottom - top), bottom)], fill=colour, width=6)
                draw.line([(x0 + d + (bottom - top), top), (x0 + d, bottom)], fill=accent, width=6)
        elif motif == "fans":
            for k in range(5):
                draw.pieslice([cx - r, cy - r // 2, cx + r, cy + r + r // 2], 200 + k * 28, 220 + k * 28, fill=accent)
        elif motif == "stars":
            pts = [(cx + (r if i % 2 == 0 else r // 2.5) * math.cos(math.pi / 2 + i * math.pi / 5),
                    cy - (r if i % 2 == 0 else r // 2.5) * math.sin(math.pi / 2 + i * math.pi / 5)) for i in range(10)]
            draw.polygon(pts, fill=accent)
        else:  # magnolia, the city flower
            for k in range(5):
                angle = k * 2 * math.pi / 5
                px, py = cx + int(r * 0.55 * math.cos(angle)), cy + int(r * 0.55 * math.sin(angle))
                draw.ellipse([px - r // 3, py - r // 2, px + r // 3, py + r // 2], fill=(250, 250, 250),
                             outline=accent, width=4)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def street_photo(seed: int, size: tuple[int, int] = (1200, 900)) -> bytes:
    """A sketch of a lane or a corner, for the demo's ideas."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (200 + rng.randrange(40), 220, 235))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.polygon([(0, h), (w, h), (w * 0.6, h * 0.45), (w * 0.4, h * 0.45)], fill=(170, 165, 160))
    for side in (0, 1):
        for k in range(6):
            x = (k * 60) if side == 0 else (w - 60 - k * 60)
            hh = rng.randrange(200, 420)
            draw.rectangle([x, h * 0.7 - hh, x + 55, h * 0.75], fill=(140 + rng.randrange(80), 90, 70))
    draw.ellipse([w * 0.45, h * 0.6, w * 0.55, h * 0.75], fill=(60, 140, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def manhole_cover(seed: int, size: int = 1200) -> bytes:
    """A painted manhole cover seen from above: a ring of the city's motifs around a centre, on the pavement."""
    rng = random.Random(seed)
    palette = list(PALETTES.values())[seed % len(PALETTES)]
    motif = MOTIFS[(seed // len(PALETTES)) % len(MOTIFS)]
    image = Image.new("RGB", (size, size), (120 + rng.randrange(30), 118, 112))
    draw = ImageDraw.Draw(image)
    for _ in range(400):  # the grain of the pavement around the cover
        x, y, shade = rng.randrange(size), rng.randrange(size), rng.randrange(90, 160)
        draw.point((x, y), fill=(shade, shade, shade - 8))
    c, r = size // 2, int(size * 0.42)
    draw.ellipse([c - r - 18, c - r - 18, c + r + 18, c + r + 18], fill=(70, 70, 72))  # the iron frame
    draw.ellipse([c - r, c - r, c + r, c + r], fill=palette[2], outline=palette[0], width=14)
    count = rng.randrange(8, 14)
    for k in range(count):
        angle = 2 * math.pi * k / count
        px, py = c + int(r * 0.72 * math.cos(angle)), c + int(r * 0.72 * math.sin(angle))
        s = int(r * 0.16)
        if motif == "magnolia":  # petals pointing out from the centre
            for turn in (-0.35, 0, 0.35):
                tip = angle + turn
                qx, qy = px + s * 0.7 * math.cos(tip), py + s * 0.7 * math.sin(tip)
                draw.ellipse([qx - s * 0.8, qy - s * 0.8, qx + s * 0.8, qy + s * 0.8], fill=(250, 250, 250),
                             outline=palette[0], width=5)
        elif motif in ("stars", "fans"):
            points = [(px + (s if i % 2 == 0 else s / 2.5) * math.cos(angle + i * math.pi / 5),
                       py + (s if i % 2 == 0 else s / 2.5) * math.sin(angle + i * math.pi / 5)) for i in range(10)]
            draw.polygon(points, fill=palette[1 if k % 2 else 0])
        elif motif in ("rings", "waves"):
            draw.ellipse([px - s, py - s, px + s, py + s], outline=palette[k % 2], width=10)
        else:  # bars, lattice: small lattice windows
            draw.rectangle([px - s, py - s, px + s, py + s], outline=palette[0], width=8)
            draw.line([(px - s, py), (px + s, py)], fill=palette[1], width=6)
            draw.line([(px, py - s), (px, py + s)], fill=palette[1], width=6)
    inner = int(r * 0.45)
    draw.ellipse([c - inner, c - inner, c + inner, c + inner], fill=palette[0])
    for k in range(rng.randrange(3, 7)):  # the centre: petals or waves of the second colour
        angle = 2 * math.pi * k / 6 + rng.random()
        px, py = c + int(inner * 0.45 * math.cos(angle)), c + int(inner * 0.45 * math.sin(angle))
        draw.ellipse([px - inner // 3, py - inner // 3, px + inner // 3, py + inner // 3], fill=palette[1])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()
