"""The image pipeline: every bad upload is refused for the right reason, every accepted one comes out clean."""
from __future__ import annotations

import hashlib
import struct
import zlib
from io import BytesIO

import pytest
from flask import Flask
from flask_babel import Babel
from PIL import Image, ImageCms, ImageDraw, ImageFile, JpegImagePlugin

from contest.images import (
    NEAR_DUPLICATE_DISTANCE,
    SIZES,
    ImageRejected,
    ProcessedImage,
    Rendition,
    dhash_distance,
    process_image,
)

RED = (220, 20, 20)


# --- making the files ---------------------------------------------------------------------------------

def design(size=(600, 400), variant=0) -> Image.Image:
    """A picture with gradients and shapes, like a poster: enough structure for hashes and resampling."""
    width, height = size
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    channels = [(horizontal, vertical, radial), (radial, horizontal, vertical)][variant]
    im = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(im)
    if variant == 0:
        draw.rectangle((width * 0.55, height * 0.2, width * 0.9, height * 0.6), fill=(30, 60, 200))
        draw.ellipse((width * 0.1, height * 0.5, width * 0.4, height * 0.95), fill=(250, 220, 40))
    else:
        draw.ellipse((width * 0.5, height * 0.05, width * 0.95, height * 0.7), fill=(20, 20, 20))
        draw.rectangle((width * 0.05, height * 0.1, width * 0.35, height * 0.4), fill=(240, 240, 240))
    return im


def encoded(im: Image.Image, image_format="JPEG", **params) -> bytes:
    out = BytesIO()
    im.save(out, image_format, **params)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge 1-bit picture: a decompression bomb."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1000)  # a few zero rows; the rest would decompress from nothing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG with its frame header patched to claim another size."""
    data = bytearray(encoded(design((64, 48))))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def noisy_photo(size) -> Image.Image:
    """Noise over gradients: compresses like a photo, not like a flat drawing."""
    noise = Image.effect_noise(size, 48)
    return Image.merge("RGB", (noise, Image.linear_gradient("L").resize(size), noise.transpose(
        Image.Transpose.FLIP_LEFT_RIGHT)))


def exif_photo(orientation: int) -> bytes:
    """A 600x400 JPEG as a phone writes it, with a red marker in the top-left corner of its stored pixels."""
    im = design((600, 400))
    ImageDraw.Draw(im).rectangle((0, 0, 59, 59), fill=RED)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    gps[0x12] = "WGS-84"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description exif:GPSLatitude="48,51.48N"/></rdf:RDF></x:xmpmeta>')
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encoded(im, quality=92, exif=exif, comment=b"taken at home, GPS on", xmp=xmp, icc_profile=srgb)


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    Babel(app)
    return app


def rejection(data: bytes, **options) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process_image(data, **options)
    return caught.value


def all_images(processed: ProcessedImage) -> tuple[Rendition, ...]:
    return (processed.original, *processed.renditions)


def opened(rendition: Rendition) -> Image.Image:
    im = Image.open(BytesIO(rendition.data))
    assert (im.width, im.height) == (rendition.width, rendition.height)
    assert Image.MIME[im.format] == rendition.content_type
    return im


# --- refusals -----------------------------------------------------------------------------------------

SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script><rect width="10" height="10"/></svg>')
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.mark.parametrize("make, reason", [
    pytest.param(lambda: png_claiming(20_000, 20_000), "too_many_pixels", id="png bomb beyond Pillow's limit"),
    pytest.param(lambda: png_claiming(10_000, 10_000), "too_many_pixels", id="png bomb in Pillow's warning band"),
    pytest.param(lambda: png_claiming(8_000, 6_000), "too_many_pixels", id="png over our own limit"),
    pytest.param(lambda: jpeg_claiming(30_000, 30_000), "too_many_pixels", id="jpeg header claiming 30000x30000"),
    pytest.param(lambda: jpeg_claiming(8_000, 6_000), "too_many_pixels", id="jpeg header over our limit"),
    pytest.param(lambda: (lambda d: d[:len(d) // 2])(encoded(noisy_photo((640, 480)))), "damaged",
                 id="truncated jpeg"),
    pytest.param(lambda: (lambda d: d[:len(d) // 2])(encoded(noisy_photo((320, 240)), "PNG")), "damaged",
                 id="truncated png"),
    pytest.param(lambda: encoded(design((64, 48)), "PNG") + b"<html><script>alert(1)</script></html>",
                 "not_an_image", id="png+html polyglot"),
    pytest.param(lambda: encoded(design((64, 48))) + b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>',
                 "not_an_image", id="jpeg+svg polyglot"),
    pytest.param(lambda: SVG, "not_an_image", id="svg with script"),
    pytest.param(lambda: PDF, "not_an_image", id="pdf"),
    pytest.param(lambda: HTML, "not_an_image", id="html"),
    pytest.param(lambda: b"", "not_an_image", id="empty"),
    pytest.param(lambda: encoded(design((64, 48)), "GIF"), "format_not_allowed", id="gif"),
    pytest.param(lambda: encoded(design((64, 48)), "BMP"), "format_not_allowed", id="bmp"),
])
def test_bad_uploads_are_refused_for_their_reason(app, make, reason):
    error = rejection(make())
    assert error.reason == reason
    with app.app_context():
        assert str(error.message).strip()


@pytest.mark.parametrize("fmt, extra", [
    ("JPEG", {"comment": b"<script>alert(1)</script>"}),
    ("PNG", {"pnginfo": "text"}),
])
def test_markup_in_metadata_that_is_stripped_does_not_refuse_a_photo(fmt, extra):
    """A camera's comment segment or a PNG text chunk is never stored: the photo is judged by what is kept."""
    from PIL import PngImagePlugin

    if extra.get("pnginfo") == "text":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "<script>alert(1)</script>")
        extra = {"pnginfo": info}
    data = encoded(design((640, 480)), fmt, **extra)
    assert b"<script>" in data
    result = process_image(data)
    for rendition in (result.original, *result.renditions):
        assert b"<script" not in rendition.data


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(app):
    error = rejection(encoded(noisy_photo((300, 200))), max_bytes=1024)
    assert error.reason == "too_large"
    with app.app_context():
        assert "MB" in str(error.message)


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_a_readable_format_that_this_call_does_not_allow_is_named_in_the_refusal(app, image_format):
    error = rejection(encoded(design((64, 48)), image_format), allowed_formats={"JPEG", "PNG"})
    assert error.reason == "format_not_allowed"
    assert error.params == {"format": image_format, "formats": "JPEG, PNG"}
    with app.app_context():
        message = str(error.message)
    assert image_format in message and "JPEG, PNG" in message


def test_a_format_the_pipeline_cannot_read_is_a_programming_error():
    with pytest.raises(ValueError):
        process_image(encoded(design((64, 48))), allowed_formats={"JPEG", "GIF"})


def test_damaged_uploads_are_never_accepted_even_if_someone_relaxed_pillow(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        process_image(encoded(design((64, 48))))


# --- what comes out -----------------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", [1, 6])
def test_a_phone_photo_loses_every_piece_of_metadata(orientation):
    upload = exif_photo(orientation)
    assert b"GPS" in upload and b"Exif\x00\x00" in upload and b"WGS-84" in upload

    processed = process_image(upload)

    for rendition in all_images(processed):
        im = opened(rendition)
        assert not im.getexif()
        for key in ("exif", "comment", "icc_profile", "xmp", "XML:com.adobe.xmp"):
            assert key not in im.info, (rendition.name, key)
        assert b"GPS" not in rendition.data
        assert b"Exif\x00\x00" not in rendition.data
        assert b"WGS-84" not in rendition.data and b"PhoneMaker" not in rendition.data


def test_a_sideways_phone_photo_comes_out_upright():
    processed = process_image(exif_photo(6))

    assert (processed.width, processed.height) == (400, 600)
    assert [(r.name, r.width, r.height) for r in all_images(processed)] == [
        ("original", 400, 600), ("zoom", 400, 600), ("page", 400, 600), ("gallery", 267, 400)]
    for rendition in all_images(processed):
        im = opened(rendition).convert("RGB")
        width, height = im.size
        # Turned a quarter clockwise, the stored top-left corner is now the top-right one.
        near_right = im.getpixel((width - 1 - width // 30, height // 30))
        near_left = im.getpixel((width // 30, height // 30))
        assert all(abs(a - b) < 40 for a, b in zip(near_right, RED, strict=True)), (rendition.name, near_right)
        assert near_left[0] < 150, (rendition.name, near_left)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: exif_photo(1), id="baseline with metadata"),
    pytest.param(lambda: encoded(noisy_photo((640, 480)), progressive=True, comment=b"x"), id="progressive"),
    pytest.param(lambda: encoded(noisy_photo((640, 480)), restart_marker_blocks=2), id="restart markers"),
    pytest.param(lambda: encoded(noisy_photo((640, 480)).convert("L"), dpi=(300, 300)), id="grey"),
])
def test_an_upright_jpeg_keeps_its_own_compressed_pixels_in_the_original(make):
    upload = make()
    processed = process_image(upload)

    assert len(processed.original.data) <= len(upload)  # less by whatever metadata there was
    assert opened(processed.original).tobytes() == Image.open(BytesIO(upload)).tobytes()


def test_a_cmyk_jpeg_becomes_rgb():
    processed = process_image(encoded(design((600, 400)).convert("CMYK")))

    for rendition in all_images(processed):
        im = opened(rendition)
        assert im.mode == "RGB"
        # The yellow disc of the design, still yellow.
        red, green, blue = im.getpixel((im.width // 4, im.height * 3 // 4))
        assert red > 200 and green > 180 and blue < 100


def test_data_after_the_end_of_a_jpeg_that_is_not_markup_is_allowed_and_dropped():
    # Phones append a motion-photo video or an HDR gain map after the picture.
    appended = encoded(noisy_photo((120, 90)))
    upload = encoded(design((600, 400))) + appended

    processed = process_image(upload)

    assert appended not in processed.original.data
    assert processed.original.data.endswith(b"\xff\xd9")


def test_a_jpeg_carrying_a_second_picture_is_a_jpeg_and_keeps_only_the_first():
    first, second = design((600, 400)), noisy_photo((600, 400))
    out = BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert Image.open(BytesIO(out.getvalue())).format == "MPO"

    processed = process_image(out.getvalue(), allowed_formats={"JPEG"})

    assert processed.format == "JPEG"
    original = opened(processed.original)
    assert original.format == "JPEG" and getattr(original, "n_frames", 1) == 1


@pytest.mark.parametrize("size, expected", [
    ((3000, 2000), [(2400, 1600), (1200, 800), (400, 267)]),
    ((500, 3000), [(400, 2400), (200, 1200), (67, 400)]),
    ((1000, 500), [(1000, 500), (1000, 500), (400, 200)]),
    ((300, 200), [(300, 200), (300, 200), (300, 200)]),
])
def test_sizes_cascade_from_the_largest_and_never_upscale(size, expected):
    processed = process_image(encoded(design(size), "PNG"))

    assert processed.format == "PNG"
    assert (processed.width, processed.height) == size
    assert [r.name for r in processed.renditions] == [name for name, _ in SIZES]
    assert [(r.width, r.height) for r in processed.renditions] == expected
    assert (processed.original.width, processed.original.height) == size
    for rendition in all_images(processed):
        assert rendition.content_type == "image/jpeg"
        opened(rendition)


def test_an_upload_is_described_by_its_content_and_bytes():
    upload = encoded(design((800, 600)), "WEBP", quality=90)
    processed = process_image(upload)

    assert processed.format == "WEBP"
    assert processed.byte_size == len(upload)
    assert processed.sha256 == hashlib.sha256(upload).hexdigest()
    assert len(processed.dhash) == 16 and int(processed.dhash, 16) >= 0


def test_transparent_designs_keep_their_transparency_and_nothing_hidden_under_it():
    im = design((800, 600)).convert("RGBA")
    hidden = Image.new("RGBA", (200, 600), (255, 0, 255, 0))  # a colour no one can see
    im.paste(hidden, (0, 0))
    processed = process_image(encoded(im, "PNG"))

    for rendition in all_images(processed):
        out = opened(rendition)
        assert rendition.content_type == "image/png" and out.mode == "RGBA"
        assert out.getpixel((5, 5)) == (0, 0, 0, 0)
        assert out.getpixel((out.width - 5, 5))[3] == 255


def test_opaque_pngs_with_an_alpha_channel_become_jpeg_renditions():
    processed = process_image(encoded(design((800, 600)).convert("RGBA"), "PNG"))
    assert {r.content_type for r in processed.renditions} == {"image/jpeg"}


def test_sixteen_bit_grey_pngs_keep_their_tones():
    ramp = Image.linear_gradient("L").resize((256, 64)).convert("I").point(lambda v: v * 257)
    processed = process_image(encoded(ramp.convert("I;16"), "PNG"))
    gallery = opened(processed.renditions[-1]).convert("L")
    # Dark at the top, mid-grey halfway, light at the bottom; clipped to 8 bits it would be nearly all white.
    top, middle, bottom = (gallery.getpixel((10, y)) for y in (2, gallery.height // 2, gallery.height - 3))
    assert top < 30 and 100 < middle < 156 and bottom > 225


def test_a_24_megapixel_photo_is_decoded_at_the_scale_it_needs(monkeypatch):
    decoded = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(self, mode, size):
        result = draft(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
    processed = process_image(encoded(noisy_photo((6000, 4000)), quality=85))

    assert decoded == [(3000, 2000)]
    assert (processed.width, processed.height) == (6000, 4000)
    assert [max(r.width, r.height) for r in processed.renditions] == [2400, 1200, 400]
    assert (processed.original.width, processed.original.height) == (6000, 4000)


# --- hashes -------------------------------------------------------------------------------------------

def test_the_same_design_sent_again_smaller_and_worse_is_a_near_duplicate():
    first = process_image(encoded(design((1600, 1200)), quality=92))
    again = process_image(encoded(design((1600, 1200)).resize((700, 525)), quality=55))
    other = process_image(encoded(design((1600, 1200), variant=1), quality=92))

    assert dhash_distance(first.dhash, again.dhash) <= NEAR_DUPLICATE_DISTANCE
    assert dhash_distance(first.dhash, other.dhash) > 3 * NEAR_DUPLICATE_DISTANCE


def test_dhash_distance_counts_differing_bits():
    assert dhash_distance("0" * 16, "0" * 16) == 0
    assert dhash_distance("0" * 16, "f" * 16) == 64
    assert dhash_distance("8000000000000001", "0000000000000000") == 2
