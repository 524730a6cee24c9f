"""Storing processed images: their files go to the storage backend, their rows to the session.

Files are written before the rows are committed. If the transaction is rolled back, the files written
during it are deleted again, so an image never outlives the entry it was uploaded with. Two cases leave
files for `flask --app wsgi orphans` to find instead: the process dying in between, and a commit that failed
on its way (the database going away as it committed), which may have gone through: deleting the files then
could leave an entry without its pictures, and keeping them costs only a little space until the sweep.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session, joinedload

from contest.extensions import db
from contest.images import ImageRejected, ProcessedImage, process_image
from contest.models import Call, Entry, EntryImage, FollowUp, FollowUpUpdate, Image, ImageFile, PendingUpload, User
from contest.models.types import utcnow
from contest.services import ServiceError, Unavailable
from contest.storage import StorageError, new_key, storage

log = logging.getLogger(__name__)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
WRITTEN = "contest_written_files"
DOOMED = "contest_doomed_files"  # files of images deleted in this transaction: removed once it is committed
COMMITTING = "contest_commit_sent"


def process_uploads(uploads: list[bytes], *, formats, max_mb: int, first: int = 1) -> list[ProcessedImage]:
    """Run every upload through the image pipeline; a refusal names the image it concerns (the first is
    numbered `first`)."""
    processed = []
    for number, data in enumerate(uploads, start=first):
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
    except StorageError as error:
        log.warning("storing an image failed: %s", error)
        raise Unavailable(_("Your images could not be stored just now. Nothing was saved; please try again "
                            "in a few minutes.")) from None
    db.session.add(image)
    return image


def delete_images(images: list[Image]) -> None:
    """Delete these images: their rows (and their pictures' and files' rows, by cascade) now, in the caller's
    transaction, and their stored files (the original and every size) once it is committed; a rollback keeps
    both. A file a backend could not delete then has no row left, so the orphans command finds it."""
    doomed = db.session.info.setdefault(DOOMED, [])
    for image in images:
        doomed.extend((f.backend, f.key) for f in image.files)
        db.session.delete(image)


def _delete_doomed(doomed: list[tuple[str, str]]) -> None:
    unreachable = set()
    for backend_name, key in doomed:
        if backend_name in unreachable:
            continue
        try:
            storage(backend_name).delete(key)
        except StorageError as error:
            unreachable.add(backend_name)
            log.warning("could not delete the files of deleted images from %s (%s): left for the orphans command",
                        backend_name, error)


@event.listens_for(Session, "before_commit")
def _flush_then_commit(session):
    # Flushed here, a refused row fails before COMMIT is sent, and the rollback deletes the files; once the
    # COMMIT is on its way, a failure cannot tell whether it went through.
    if session.info.get(WRITTEN) and not session.in_nested_transaction():
        session.flush()
        session.info[COMMITTING] = True


@event.listens_for(Session, "after_commit")
def _forget_written(session):
    session.info.pop(WRITTEN, None)
    session.info.pop(COMMITTING, None)
    _delete_doomed(session.info.pop(DOOMED, []))


@event.listens_for(Session, "after_soft_rollback")
def _delete_written(session, previous_transaction):
    # Only when the outermost transaction is rolled back: a savepoint's rollback keeps the files.
    if previous_transaction.parent is not None or previous_transaction.nested:
        return
    session.info.pop(DOOMED, None)  # the images' rows are back: so must their files stay
    written = session.info.pop(WRITTEN, [])
    if session.info.pop(COMMITTING, False):
        if written:
            log.warning("a commit with %d stored files failed and may have gone through: the files are kept "
                        "(the orphans command deletes them if no row refers to them)", len(written))
        return
    unreachable = set()
    for backend_name, key in written:
        if backend_name in unreachable:
            continue  # one failure is enough to know: do not keep the request waiting on every file
        try:
            storage(backend_name).delete(key)
        except StorageError as error:
            unreachable.add(backend_name)
            left = sum(1 for name, _key in written if name == backend_name)
            log.warning("could not delete the files of a rolled-back transaction from %s (%s): up to %d left "
                        "for the orphans command", backend_name, error, left)


def find_orphans(older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Keys in the configured storage that no row refers to (left by a process that died mid-submission)."""
    backend = storage()
    known = set(db.session.scalars(select(ImageFile.key).where(ImageFile.backend == backend.name)))
    cutoff = utcnow() - older_than
    return [key for key in backend.keys("images/") if key not in known and _modified_before(backend, key, cutoff)]


def _modified_before(backend, key: str, cutoff) -> bool:
    modified = getattr(backend, "modified_at", None)
    return modified is None or modified(key) < cutoff


def picture_of_image(image_id: int) -> EntryImage | None:
    """The entry picture an image is, with its entry and call, or None."""
    return db.session.scalar(select(EntryImage).where(EntryImage.image_id == image_id)
                             .options(joinedload(EntryImage.entry).joinedload(Entry.call)))


def holder_of_pending(image_id: int) -> int | None:
    """The account holding an image for a refused form, or None."""
    return db.session.scalar(select(PendingUpload.user_id).where(PendingUpload.image_id == image_id))


def call_with_cover(image_id: int) -> Call | None:
    """The call whose cover an image is, or None."""
    return db.session.scalar(select(Call).where(Call.cover_image_id == image_id))


def call_of_follow_up_photo(image_id: int) -> Call | None:
    """The call of the follow-up update whose photo an image is, or None."""
    return db.session.scalar(select(Call).join(FollowUp, FollowUp.call_id == Call.id)
                             .join(FollowUpUpdate, FollowUpUpdate.follow_up_id == FollowUp.id)
                             .where(FollowUpUpdate.image_id == image_id))
