"""Printed documents with real text: HTML laid out as an A4 PDF by WeasyPrint (Debian's pango), with the CJK
font the scripts install (fonts-wqy-microhei), so that Chinese is selectable, searchable text, not a picture.
The results notice and the certificates (contest.services.documents) are made here; their templates are under
templates/documents/."""
from __future__ import annotations

from flask import current_app


def _weasyprint():
    """WeasyPrint's HTML class. Importing it sets PIL's LOAD_TRUNCATED_IMAGES for the whole process, which would
    let half-uploaded pictures through the image pipeline (contest.images refuses to run with it): it is put
    back as it was. Our documents hold no images, so WeasyPrint never needs it."""
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return HTML


def pdf_bytes(html: str, title: str) -> bytes:
    """The page as a PDF (its size and margins come from the template's @page rule)."""
    import logging

    HTML = _weasyprint()  # noqa: N806 (a class)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # no per-document chatter about CSS it skips
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = HTML(string=html, base_url=current_app.root_path).render()
    document.metadata.title = title
    return document.write_pdf()
