"""The Pillow pipeline for uploaded designs: validate, re-encode without metadata, derive sizes, hash."""
from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageFile

SIZES = (("zoom", 2400), ("page", 1200), ("gallery", 400))  # long side in px; never upscaled
MAX_PIXELS = 40_000_000
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def content_types(formats) -> str:
    """A file input's `accept` for these formats ("PNG", "JPEG" ...): the picker offers what the call takes."""
    return ",".join(FORMATS[f] for f in formats if f in FORMATS)


NEAR_DUPLICATE_DISTANCE = 6  # at most this many differing dhash bits counts as a near-duplicate

RENDITION_QUALITY = 85
ORIGINAL_QUALITY = 90


class ImageRejected(Exception):
    """The upload is not an image this call accepts; `.reason` is a short code, `.message` a lazy translatable text."""

    def __init__(self, reason: str, **params):
        if reason not in _MESSAGES:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(reason)
        self.reason = reason
        self.params = params

    @property
    def message(self):
        return _MESSAGES[self.reason](self.params)

    def __repr__(self) -> str:
        return f"ImageRejected({self.reason!r}, **{self.params!r})"


# Each text is written out in an _l() call of its own so that `pybabel extract -k _l` finds it.
_MESSAGES = {
    "too_large": lambda p: _l("This file is larger than %(mb)d MB.", **p),
    "not_an_image": lambda p: _l("This file is not an image that can be read."),
    "format_not_allowed": lambda p: _l("%(format)s images are not accepted here. Please send %(formats)s.", **p),
    "too_many_pixels": lambda p: _l("This image has more than %(megapixels)d megapixels.", **p),
    "damaged": lambda p: _l("This image is damaged or incomplete and cannot be read."),
}


@dataclass(frozen=True)
class Rendition:
    name: str  # "zoom" | "page" | "gallery" | "original"
    width: int
    height: int
    data: bytes
    content_type: str  # "image/jpeg" or "image/png"


@dataclass(frozen=True)
class ProcessedImage:
    format: str  # "JPEG" | "PNG" | "WEBP": what the upload's content is, whatever its name said
    width: int  # upright (after EXIF orientation) size of the original
    height: int
    byte_size: int
    sha256: str
    dhash: str  # 16 hex chars: 64-bit difference hash of the upright image
    original: Rendition
    renditions: tuple[Rendition, ...]  # largest first


def process_image(data: bytes, *, allowed_formats: Iterable[str] = frozenset(FORMATS),
                  max_bytes: int = 20 * 1024 * 1024, max_pixels: int = MAX_PIXELS,
                  sizes=SIZES) -> ProcessedImage:
    """Check an upload and rebuild it: a clean full-size original, the derived sizes and the hashes.

    Raises ImageRejected when the upload is too large, not an image, of a format not allowed here, has too
    many pixels, or cannot be decoded to the end.
    """
    allowed = frozenset(allowed_formats)
    if not allowed <= FORMATS.keys():
        raise ValueError(f"formats this pipeline cannot read: {sorted(allowed - FORMATS.keys())}")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Set process-wide, it would let half-uploaded files through as images with a grey bottom.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is set; refusing to accept damaged uploads")
    data = bytes(data)
    if len(data) > max_bytes:
        raise ImageRejected("too_large", mb=max(1, max_bytes // (1024 * 1024)))

    too_many_pixels = ImageRejected("too_many_pixels", megapixels=max(1, max_pixels // 1_000_000))
    im, image_format = _open(data, allowed, too_many_pixels)
    jpeg_segments = _jpeg_segments(data) if image_format == "JPEG" else None
    if _carries_markup(data, image_format, jpeg_segments):
        raise ImageRejected("not_an_image")
    # From the header alone, before a single pixel is allocated.
    if im.width * im.height > max_pixels:
        raise too_many_pixels

    sizes = sorted(sizes, key=lambda size: size[1], reverse=True)
    try:
        orientation = _orientation(im)
        upright = (im.height, im.width) if orientation in _SWAPS_SIDES else im.size
        original = _stripped_original(data, jpeg_segments, im, orientation)
        if original is not None:
            # The original keeps its own compressed data, so the pixels are needed only at the largest
            # derived size: let libjpeg scale while it decodes. The box must have the photo's own aspect,
            # or draft() does not reduce at all.
            if sizes:
                im.draft(im.mode, _fit(im.size, sizes[0][1]))
            im.load()
            pixels = im
            # The decoder filled `info` with what it read (EXIF, XMP, ICC, comment); resize() and reduce()
            # would copy it to every derived image, and save() writes a JPEG comment found there.
            pixels.info = {}
        else:
            im.load()
            pixels = _clean_upright_pixels(im, orientation)
            if pixels is not im:
                im.close()  # frees the decoded copy now rather than on return: 96 MB at 24 megapixels
            original = _encode(pixels, "original", ORIGINAL_QUALITY)
            if image_format == "JPEG" and sizes:
                # The step libjpeg's draft takes for the other photos, so that a photo's renditions do not
                # depend on how the phone was held (and come as fast).
                pixels = _reduce_like_draft(pixels, _fit(upright, sizes[0][1]))
    except Image.DecompressionBombError as err:
        raise too_many_pixels from err
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, ImageCms.PyCMSError) as err:
        raise ImageRejected("damaged") from err

    renditions = []
    for name, long_side in sizes:
        pixels = _shrink(pixels, _fit(upright, long_side))
        renditions.append(_encode(pixels, name, RENDITION_QUALITY))
    return ProcessedImage(
        format=image_format,
        width=upright[0],
        height=upright[1],
        byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        dhash=_dhash(pixels),
        original=original,
        renditions=tuple(renditions),
    )


def dhash_distance(a: str, b: str) -> int:
    """Hamming distance between two dhash hex strings: how many of the 64 bits differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


# ---------------------------------------------------------------------------------------------------------
# Identifying the upload


def _open(data: bytes, allowed: frozenset[str],
          too_many_pixels: ImageRejected) -> tuple[ImageFile.ImageFile, str]:
    # Pillow warns, rather than raises, for sizes between its own limit and twice that: make it raise here
    # so that it never reaches the log or, in tests, escapes. catch_warnings swaps the process-wide filter
    # list, so two uploads at once may leave this filter in place; it matters to no one else.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # By content only, and only with the three readers we trust with untrusted bytes.
            im = Image.open(BytesIO(data), formats=list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise too_many_pixels from err
        except Image.UnidentifiedImageError as err:
            other = _other_image_format(data)
            if other:
                raise ImageRejected("format_not_allowed", format=other, formats=_listed(allowed)) from err
            raise ImageRejected("not_an_image") from err
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as err:
            raise ImageRejected("damaged") from err
    # A JPEG carrying a second picture (a depth or gain map) is read by the MPO reader; it is still a JPEG.
    image_format = "JPEG" if im.format == "MPO" else im.format
    if image_format not in allowed:
        raise ImageRejected("format_not_allowed", format=image_format, formats=_listed(allowed))
    return im, image_format


def _listed(formats: Iterable[str]) -> str:
    return ", ".join(sorted(formats))


_OTHER_IMAGE_SIGNATURES = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"8BPS", "PSD"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
)
_HEIF_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"heim": "HEIC", b"heis": "HEIC",
                b"mif1": "HEIC", b"msf1": "HEIC", b"avif": "AVIF", b"avis": "AVIF"}


def _other_image_format(data: bytes) -> str | None:
    """Name a common picture format that Pillow was not asked to read, so the refusal can say what to send."""
    for signature, name in _OTHER_IMAGE_SIGNATURES:
        if data.startswith(signature):
            return name
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return _HEIF_BRANDS[data[8:12]]
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    return None


Segments = list[tuple[int, int, int]]  # a JPEG's (marker, start, end), from _jpeg_segments

# Polyglots: an image that is also a web page. The stored files are rebuilt and clean either way, but such
# an upload is refused outright. Across the whole file only markers too long to turn up by chance in
# compressed pixel data are looked for (about one false alarm in 10^5 uploads of 20 MB for the shortest);
# after the end of the picture, where a payload is appended, shorter ones too. Trailing data as such is
# allowed: phones append motion-photo videos and HDR gain maps after a JPEG's end.
_MARKUP = re.compile(rb"<(?:script|html|iframe|object|embed|\?php|!doctype)[\s>/]", re.IGNORECASE)
_TRAILING_MARKUP = re.compile(
    rb"<(?:script|html|iframe|object|embed|\?php|!doctype|svg|\?xml|body|img|meta|link|style)[\s>/]",
    re.IGNORECASE,
)


def _carries_markup(data: bytes, image_format: str, jpeg_segments: Segments | None) -> bool:
    """Markup in the bytes a stored file could keep. The metadata no stored file keeps (a camera's comment
    segment, EXIF and XMP, PNG's text chunks) is not looked at: a photo whose comment says `<script>` is a
    photo, and its stored files never hold that comment."""
    dropped = _dropped_metadata(data, image_format, jpeg_segments)
    if _MARKUP.search(_without(data, dropped)):
        return True
    end = _end_of_picture(data, image_format, jpeg_segments)
    return end is not None and _TRAILING_MARKUP.search(data, end) is not None


def _without(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    """`data` with the spans (sorted, not overlapping) cut out; a NUL marks each cut, so that no marker is made
    of the bytes on its two sides."""
    if not spans:
        return data
    view, kept, pos = memoryview(data), [], 0
    for start, end in spans:
        kept.append(view[pos:start])
        pos = end
    kept.append(view[pos:])
    return b"\x00".join(kept)


_PNG_DROPPED_LIMIT = 100_000  # chunks; as in _png_end
_WEBP_METADATA = {b"EXIF", b"XMP ", b"ICCP"}


def _dropped_metadata(data: bytes, image_format: str, jpeg_segments: Segments | None) -> list[tuple[int, int]]:
    """(start, end) of the parts of the upload that no stored file keeps: every stored file is either the
    JPEG's own segments without metadata (_strip_jpeg) or rebuilt from the pixels."""
    if image_format == "JPEG":
        if jpeg_segments is None:
            return []
        return [(start, end) for marker, start, end in jpeg_segments if marker in _METADATA or marker == _APP0]
    spans = []
    if image_format == "PNG":
        pos, chunks = 8, 0
        while pos + 8 <= len(data) and chunks < _PNG_DROPPED_LIMIT:
            chunks += 1
            length = int.from_bytes(data[pos:pos + 4], "big")
            chunk_type = data[pos + 4:pos + 8]
            end = pos + 12 + length
            if chunk_type[:1].islower():  # ancillary: text, EXIF, colour notes; the pixels are re-encoded
                spans.append((pos, min(end, len(data))))
            if chunk_type == b"IEND":
                break
            pos = end
    elif image_format == "WEBP":
        pos, end_of_riff = 12, min(len(data), 8 + int.from_bytes(data[4:8], "little"))
        while pos + 8 <= end_of_riff:
            size = int.from_bytes(data[pos + 4:pos + 8], "little")
            end = pos + 8 + size + (size & 1)
            if data[pos:pos + 4] in _WEBP_METADATA:
                spans.append((pos, min(end, len(data))))
            pos = end
    return spans


def _end_of_picture(data: bytes, image_format: str, jpeg_segments: Segments | None) -> int | None:
    if image_format == "PNG":
        return _png_end(data)
    if image_format == "WEBP":
        riff_size = int.from_bytes(data[4:8], "little")
        return 8 + riff_size + (riff_size & 1)
    return jpeg_segments[-1][2] if jpeg_segments else None


def _png_end(data: bytes) -> int | None:
    pos, chunks = 8, 0
    while pos + 8 <= len(data) and chunks < 100_000:  # encoders write a few thousand at most
        chunks += 1
        length = int.from_bytes(data[pos:pos + 4], "big")
        chunk_type = data[pos + 4:pos + 8]
        pos += 12 + length
        if chunk_type == b"IEND":
            return pos
    return None


# ---------------------------------------------------------------------------------------------------------
# JPEG structure: a JPEG whose original needs no turning and no colour conversion is stored as its own
# compressed data with every metadata segment taken out. That loses nothing (re-encoding a camera JPEG at
# quality 90 would), and saves decoding it at full size.

_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")  # in scan data 0xFF is followed by 0x00 or a restart marker
_SOI, _EOI, _SOS, _APP0, _APP14 = 0xD8, 0xD9, 0xDA, 0xE0, 0xEE
_SCAN_DATA = -1
# Frame, table and scan segments: the picture itself. Everything else that may be kept is rewritten.
_STRUCTURE = {0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF,
              0xDA, 0xDB, 0xDC, 0xDD}
_METADATA = set(range(0xE1, 0xF0)) - {_APP14} | {0xFE}  # APP1..APP15 (EXIF, XMP, ICC, maker notes ...), COM
# Cameras write a few dozen segments; a file made of thousands of tiny ones is built to keep a loop busy.
_MAX_SEGMENTS = 1000


def _jpeg_segments(data: bytes) -> Segments | None:
    """(marker, start, end) of each segment of the first picture up to its EOI; None unless plainly built."""
    if not data.startswith(b"\xff\xd8"):
        return None
    segments = [(_SOI, 0, 2)]
    pos, size = 2, len(data)
    while True:
        if pos >= size or data[pos] != 0xFF:
            return None
        while pos < size and data[pos] == 0xFF:  # fill bytes may pad any marker
            pos += 1
        if pos >= size:
            return None
        marker, start = data[pos], pos - 1
        pos += 1
        if marker == _EOI:
            segments.append((marker, start, pos))
            return segments
        if marker == 0x01 or 0xD0 <= marker <= 0xD8 or pos + 2 > size:
            return None
        end = pos + int.from_bytes(data[pos:pos + 2], "big")
        if end < pos + 2 or end > size:
            return None
        segments.append((marker, start, end))
        if len(segments) > _MAX_SEGMENTS:
            return None
        pos = end
        if marker == _SOS:
            found = _SCAN_END.search(data, pos)
            if found is None:
                return None
            segments.append((_SCAN_DATA, pos, found.start()))
            pos = found.start()


def _strip_jpeg(data: bytes, segments: Segments) -> bytes | None:
    """The first picture of a JPEG with nothing but what draws it; None when it holds anything unusual."""
    view = memoryview(data)
    kept = []
    for marker, start, end in segments:
        if marker in (_SOI, _EOI, _SCAN_DATA) or marker in _STRUCTURE:
            kept.append(view[start:end])
        elif marker == _APP0:
            # JFIF says how to read the colours and the print density; its thumbnail (which may show the
            # picture before it was cropped) is dropped.
            if data[start + 4:start + 9] == b"JFIF\x00" and end - start >= 18:
                kept.append(b"\xff\xe0\x00\x10JFIF\x00" + data[start + 9:start + 16] + b"\x00\x00")
        elif marker == _APP14:
            # Adobe's fixed 12 bytes say whether the channels are RGB or YCbCr: needed, and no room for more.
            if end - start == 16 and data[start + 4:start + 9] == b"Adobe":
                kept.append(view[start:end])
        elif marker not in _METADATA:
            return None
    return b"".join(kept)


def _stripped_original(data: bytes, segments: Segments | None, im: ImageFile.ImageFile,
                       orientation: int) -> Rendition | None:
    """The original as its own compressed data without metadata, when that is a faithful copy; else None."""
    if segments is None or im.mode not in ("RGB", "L") or orientation in _TRANSPOSE:
        return None
    icc = im.info.get("icc_profile")
    if icc and not _is_srgb(icc):
        return None
    stripped = _strip_jpeg(data, segments)
    if stripped is None:
        return None
    # A header-only read is cheap, and shows the stripped file still describes the same picture.
    try:
        with Image.open(BytesIO(stripped), formats=["JPEG"]) as check:
            if check.size != im.size or check.mode != im.mode:
                return None
    except (OSError, SyntaxError, ValueError):
        return None
    return Rendition("original", im.width, im.height, stripped, FORMATS["JPEG"])


# ---------------------------------------------------------------------------------------------------------
# Pixels

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_SIDES = {5, 6, 7, 8}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def _orientation(im: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1 when missing or unreadable: a broken tag is no reason to refuse."""
    try:
        value = im.getexif().get(0x0112, 1)
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        return 1
    return value if value in _TRANSPOSE else 1


def _clean_upright_pixels(im: Image.Image, orientation: int) -> Image.Image:
    """The decoded picture as sRGB pixels in L, RGB or (only if some pixel is see-through) RGBA, upright.

    The turning is ImageOps.exif_transpose's, without the full copy it makes when nothing needs turning.
    """
    icc = im.info.get("icc_profile")
    pixels: Image.Image = im
    if pixels.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # convert("L") would clip 16-bit values at 255 and turn the picture white.
        pixels = pixels.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif pixels.mode == "1":
        pixels = pixels.convert("L")
    if pixels.mode in _ALPHA_MODES or "transparency" in pixels.info:
        pixels = pixels.convert("RGBA")
        if pixels.getchannel("A").getextrema()[0] == 255:
            pixels = pixels.convert("RGB")
        else:
            # Colours under fully transparent pixels are invisible but kept by PNG, sometimes a whole
            # cropped-away picture: premultiplying zeroes them.
            pixels = pixels.convert("RGBa").convert("RGBA")
    elif pixels.mode not in ("L", "RGB", "CMYK"):
        pixels = pixels.convert("RGB")
    if icc and pixels.mode in ("RGB", "RGBA", "CMYK") and not _is_srgb(icc):
        pixels = _to_srgb(pixels, icc)
    if pixels.mode == "CMYK":
        pixels = pixels.convert("RGB")
    if orientation in _TRANSPOSE:
        pixels = pixels.transpose(_TRANSPOSE[orientation])
    # What the decoder read (EXIF, XMP, ICC, comments, text chunks) sits in `info`, and every operation
    # copies it along; PNG's save() writes the ICC profile found there and JPEG's the comment.
    pixels.info = {}
    return pixels


def _is_srgb(icc: bytes) -> bool:
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return True  # an unreadable profile cannot be honoured anyway; the pixels are taken as sRGB
    return "srgb" in description.lower()


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(pixels: Image.Image, icc: bytes) -> Image.Image:
    """Wide-gamut (Display P3, Adobe RGB) and CMYK pictures would look dull or wrong with the profile dropped."""
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        output_mode = "RGB" if pixels.mode == "CMYK" else pixels.mode
        return ImageCms.profileToProfile(pixels, source, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return pixels


def rendition_size(size: tuple[int, int], name: str) -> tuple[int, int]:
    """The size of a stored rendition, known from the upright original's size alone (pages can lay out
    images without loading their file rows)."""
    long_sides = dict(SIZES)
    return size if name not in long_sides else _fit(size, long_sides[name])


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The size with this long side and the same aspect; the size itself when it is already smaller."""
    width, height = size
    if max(width, height) <= long_side:
        return size
    if width >= height:
        return long_side, max(1, round(height * long_side / width))
    return max(1, round(width * long_side / height)), long_side


def _reduce_like_draft(pixels: Image.Image, target: tuple[int, int]) -> Image.Image:
    scale = min(pixels.width // target[0], pixels.height // target[1])
    for factor in (8, 4, 2):
        if scale >= factor:
            return pixels.reduce(factor)
    return pixels


def _shrink(pixels: Image.Image, target: tuple[int, int]) -> Image.Image:
    if pixels.size == target:
        return pixels
    factor = pixels.width // target[0]
    if factor >= 2 and pixels.size == (target[0] * factor, target[1] * factor):
        return pixels.reduce(factor)  # averages whole blocks: a fraction of the cost of a resampling filter
    # reducing_gap only takes the reduce() shortcut for factors of 3 and more, where it cannot be seen.
    return pixels.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(pixels: Image.Image, name: str, quality: int) -> Rendition:
    out = BytesIO()
    if pixels.mode == "RGBA":
        pixels.save(out, "PNG")
        content_type = FORMATS["PNG"]
    else:
        # Only the pixels go in: no exif=, icc_profile=, comment= (and `info` was emptied before).
        pixels.save(out, "JPEG", quality=quality, optimize=False)
        content_type = FORMATS["JPEG"]
    return Rendition(name, pixels.width, pixels.height, out.getvalue(), content_type)


def _dhash(pixels: Image.Image) -> str:
    """64-bit difference hash: is each of 8x8 cells brighter than its left neighbour (as imagehash.dhash)."""
    if pixels.mode == "RGBA":
        flat = Image.new("RGB", pixels.size, (255, 255, 255))
        flat.paste(pixels, mask=pixels.getchannel("A"))
        pixels = flat
    cells = pixels.convert("L").resize((9, 8), Image.Resampling.LANCZOS).tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = bits << 1 | (cells[row * 9 + col + 1] > cells[row * 9 + col])
    return f"{bits:016x}"
