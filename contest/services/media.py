"""Storing processed images: their files go to the storage backend, their rows to the session.

Files are written before the rows are committed. If the transaction is rolled back, the files written
during it are deleted again, so an image never outlives the entry it was uploaded with; if the process
dies in between, `flask --app wsgi orphans` finds the files no row refers to.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from contest.extensions import db
from contest.images import ImageRejected, ProcessedImage, process_image
from contest.models import Image, ImageFile, User
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.storage import StorageError, new_key, storage

log = logging.getLogger(__name__)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
WRITTEN = "contest_written_files"


def process_uploads(uploads: list[bytes], *, formats, max_mb: int) -> list[ProcessedImage]:
    """Run every upload through the image pipeline; a refusal names the image it concerns."""
    processed = []
    for number, data in enumerate(uploads, start=1):
        try:
            processed.append(process_image(data, allowed_formats=frozenset(formats), max_bytes=max_mb * 1024 * 1024))
        except ImageRejected as rejected:
            raise ServiceError(_("Image %(n)d: %(reason)s", n=number, reason=rejected.message)) from None
    return processed


def store_image(processed: ProcessedImage, uploaded_by: User | None) -> Image:
    """Write the image's files and add its rows to the session (the caller commits)."""
    backend = storage()
    image = Image(format=processed.format, width=processed.width, height=processed.height,
                  byte_size=processed.byte_size, sha256=processed.sha256, dhash=processed.dhash,
                  uploaded_by_id=uploaded_by.id if uploaded_by is not None else None)
    written = db.session.info.setdefault(WRITTEN, [])
    try:
        for rendition in (processed.original, *processed.renditions):
            key = new_key("images", EXTENSIONS[rendition.content_type])
            backend.put(key, rendition.data, rendition.content_type)
            written.append((backend.name, key))
            image.files.append(ImageFile(name=rendition.name, backend=backend.name, key=key,
                                         content_type=rendition.content_type, byte_size=len(rendition.data),
                                         width=rendition.width, height=rendition.height))
    except StorageError:
        log.exception("storing an image failed")
        raise ServiceError(_("Your images could not be stored just now. Nothing was saved; please try again "
                             "in a few minutes.")) from None
    db.session.add(image)
    return image


@event.listens_for(Session, "after_commit")
def _forget_written(session):
    session.info.pop(WRITTEN, None)


@event.listens_for(Session, "after_soft_rollback")
def _delete_written(session, previous_transaction):
    # Only when the outermost transaction is rolled back: a savepoint's rollback keeps the files.
    if previous_transaction.parent is not None or previous_transaction.nested:
        return
    for backend_name, key in session.info.pop(WRITTEN, []):
        try:
            storage(backend_name).delete(key)
        except StorageError:
            log.warning("could not delete %s from %s after a rollback", key, backend_name)


def find_orphans(older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Keys in the configured storage that no row refers to (left by a process that died mid-submission)."""
    backend = storage()
    known = set(db.session.scalars(select(ImageFile.key).where(ImageFile.backend == backend.name)))
    cutoff = utcnow() - older_than
    return [key for key in backend.keys("images/") if key not in known and _modified_before(backend, key, cutoff)]


def _modified_before(backend, key: str, cutoff) -> bool:
    modified = getattr(backend, "modified_at", None)
    return modified is None or modified(key) < cutoff
