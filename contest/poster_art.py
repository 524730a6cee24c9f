"""Pure: a call's printed poster drawn with Pillow on A4 at 300 dpi, its QR code made by segno (no Flask, no database).

Chinese needs a CJK font, which Pillow does not bring: the caller names one (or we look in the usual places).
Without one the poster still prints, with the QR code, the address and whatever text is Latin.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

DPI = 300
A4 = (2480, 3508)  # 210 x 297 mm at 300 dpi
MARGIN = 180  # 15 mm
BRAND = (155, 28, 28)  # --brand of site.css: a deep civic red
TEXT = (11, 12, 12)
MUTED = (80, 90, 95)
QR_BORDER = 4  # the quiet zone the standard asks for, in modules
QR_ERROR = "q"  # a quarter of the code may be dirty or torn and it still reads

# Where Debian (fonts-wqy-microhei, fonts-noto-cjk), Fedora, Arch, macOS and Windows keep a Chinese font.
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
# Everything from the CJK radicals up (CJK punctuation, kana, hangul, ideographs, full-width forms).
NOT_LATIN = re.compile(r"[\u2e80-\U0010ffff]")


@dataclass
class PosterText:
    """What the poster says, already translated; `dates` and `url` are the same in every language."""

    brand: str
    title: str
    dates_label: str
    dates: str
    summary: str
    scan: str
    url: str
    department: str
    label: str


def find_cjk_font(configured: str | None) -> str | None:
    """The font named by the setting, when it names one; otherwise the first CJK font found on the system."""
    candidates = (configured,) if configured else CJK_FONTS
    return next((path for path in candidates if Path(path).is_file() and _loads(path)), None)


def _loads(path: str) -> bool:
    try:
        ImageFont.truetype(path, 12)
    except OSError:  # not a font Pillow can read
        return False
    return True


@lru_cache(maxsize=32)
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is not None:
        return ImageFont.truetype(path, size)
    latin = next((p for p in LATIN_FONTS if Path(p).is_file()), None)
    return ImageFont.truetype(latin, size) if latin else ImageFont.load_default(size)


def _tokens(text: str) -> list[str]:
    # Latin words (and addresses) break at spaces; every other character may end a line.
    return re.findall(r"[^\s\u2e80-\U0010ffff]+|\s+|.", text)


def wrap(text: str, font, width: int) -> list[str]:
    """The lines of `text` no wider than `width` pixels: at spaces between Latin words, anywhere in Chinese."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _tokens(paragraph):
            candidate = line + token
            if font.getlength(candidate.rstrip()) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = token.lstrip()
            while font.getlength(line) > width and len(line) > 1:  # a word longer than the line: cut it
                cut = len(line) - 1
                while cut > 1 and font.getlength(line[:cut]) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        if line.strip():
            lines.append(line.rstrip())
    return lines


def _clip(lines: list[str], most: int) -> list[str]:
    return lines if len(lines) <= most else [*lines[:most - 1], lines[most - 1].rstrip() + "…"]


def qr_matrix_image(url: str) -> Image.Image:
    """The QR code of `url`, one pixel a module, with its quiet zone."""
    code = segno.make(url, error=QR_ERROR)
    size = code.symbol_size(border=QR_BORDER)[0]
    image = Image.new("L", (size, size), 255)
    pixels = image.load()
    for y, row in enumerate(code.matrix):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + QR_BORDER, y + QR_BORDER] = 0
    return image


def qr_svg(url: str, title: str) -> str:
    """The QR code of `url` as inline SVG (no size: the stylesheet gives it one; no style attribute)."""
    return segno.make(url, error=QR_ERROR).svg_inline(omitsize=True, border=QR_BORDER, title=title)


def draw_poster(text: PosterText, font_path: str | None) -> Image.Image:
    """The poster on A4 at 300 dpi. With `font_path` None (no CJK font) only the Latin text is drawn."""
    if font_path is None:
        text = PosterText(**{k: ("" if k != "url" and NOT_LATIN.search(v) else v) for k, v in vars(text).items()})

    def font(size):
        return _font(font_path, size)

    image = Image.new("RGB", A4, "white")
    draw = ImageDraw.Draw(image)
    width = A4[0] - 2 * MARGIN
    centre = A4[0] // 2

    # The band at the top: who asks.
    band = 300
    draw.rectangle([0, 0, A4[0], band], fill=BRAND)
    if text.brand:
        draw.text((centre, band // 2), text.brand, font=font(96), fill="white", anchor="mm")

    # Top down: the call's title, its dates, its summary.
    y = band + 150
    for line in _clip(wrap(text.title, font(150), width), 3):
        draw.text((MARGIN, y), line, font=font(150), fill=TEXT)
        y += 190
    if text.dates:
        y += 30
        dates = f"{text.dates_label}  {text.dates}" if text.dates_label else text.dates
        for line in _clip(wrap(dates, font(64), width), 2):
            draw.text((MARGIN, y), line, font=font(64), fill=BRAND)
            y += 90
    if text.summary:
        y += 40
        for line in _clip(wrap(text.summary, font(60), width), 5):
            draw.text((MARGIN, y), line, font=font(60), fill=TEXT)
            y += 88

    # Bottom up: where it hangs and who runs the call, the address, what to do with the code.
    bottom = A4[1] - MARGIN
    footer = " · ".join(part for part in (text.department, text.label) if part)
    for line in reversed(_clip(wrap(footer, font(48), width), 2)):
        bottom -= 66
        draw.text((MARGIN, bottom), line, font=font(48), fill=MUTED)
    bottom -= 40
    for line in reversed(wrap(text.url, font(52), width)):
        bottom -= 70
        draw.text((centre, bottom), line, font=font(52), fill=TEXT, anchor="ma")
    if text.scan:
        bottom -= 110
        draw.text((centre, bottom), _clip(wrap(text.scan, font(76), width), 1)[0], font=font(76), fill=BRAND,
                  anchor="ma")

    # The QR code, as large as the space between allows (at least 9 cm, so a phone reads it from afar).
    matrix = qr_matrix_image(text.url)
    room = min(bottom - 40 - (y + 60), width, 1650)
    module = max(room, 1060) // matrix.width
    code = matrix.resize((matrix.width * module, matrix.width * module), Image.Resampling.NEAREST)
    top = y + 60 + max(0, (bottom - 40 - (y + 60) - code.height) // 2)
    image.paste(code, (centre - code.width // 2, top))
    return image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(DPI, DPI))
    return out.getvalue()


def pdf_bytes(image: Image.Image, title: str) -> bytes:
    """One A4 page holding the poster at 300 dpi."""
    out = io.BytesIO()
    image.save(out, "PDF", resolution=DPI, quality=92, title=title)
    return out.getvalue()
