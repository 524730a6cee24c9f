"""The media route: every stored file is served through here, after checking who may see it."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect
from flask_login import current_user
from sqlalchemy import select

from contest.extensions import db
from contest.models import RENDITIONS, Call, EntryImage, ImageFile
from contest.permissions import can_manage_call
from contest.services.entries import can_view_entry
from contest.services.rounds import can_judge_entry
from contest.storage import StorageError, storage

bp = Blueprint("media", __name__)
YEAR = 365 * 24 * 3600


def _audience(image_id: int) -> tuple[bool, bool]:
    """(may the viewer see the derived sizes, is the view public) for an image of an entry or a call's cover."""
    picture = db.session.scalar(select(EntryImage).where(EntryImage.image_id == image_id))
    if picture is not None:
        entry = picture.entry
        staff = can_manage_call(current_user, entry.call)
        if picture.is_scan:
            return staff, False
        if can_judge_entry(current_user, entry):
            return True, False
        visible = can_view_entry(current_user, entry)
        return visible, visible and not staff and entry.author_id != getattr(current_user, "id", None)
    call = db.session.scalar(select(Call).where(Call.cover_image_id == image_id))
    if call is not None:
        if call.published_at is not None:
            return True, True
        return can_manage_call(current_user, call), False
    return False, False


def _is_staff_of(image_id: int) -> bool:
    picture = db.session.scalar(select(EntryImage).where(EntryImage.image_id == image_id))
    if picture is not None:
        return can_manage_call(current_user, picture.entry.call)
    call = db.session.scalar(select(Call).where(Call.cover_image_id == image_id))
    return call is not None and can_manage_call(current_user, call)


def _original_published(image_id: int) -> bool:
    picture = db.session.scalar(select(EntryImage).where(EntryImage.image_id == image_id))
    return (picture is not None and not picture.is_scan and picture.entry.call.originals_public
            and can_view_entry(current_user, picture.entry))


@bp.route("/media/<int:image_id>/<name>")
def image(image_id: int, name: str):
    if name not in RENDITIONS:
        abort(404)
    file = db.session.get(ImageFile, (image_id, name))
    if file is None:
        abort(404)
    if name == "original":
        # Originals keep the full resolution the entrant sent: for the call's staff, unless published.
        if not (_is_staff_of(image_id) or _original_published(image_id)):
            abort(404)
        public = False
    else:
        allowed, public = _audience(image_id)
        if not allowed:
            abort(404)
    try:
        backend = storage(file.backend)
        if name == "original":
            url = backend.presigned_url(file.key, expires=300, content_type=file.content_type)
            if url:
                return redirect(url)
        data = backend.get(file.key)
    except StorageError:
        abort(503)
    response = Response(data, content_type=file.content_type)
    # A file never changes under its address (a new upload is a new image), so it may be kept for a year;
    # only public files may be kept by shared caches.
    response.headers["Cache-Control"] = f"{'public' if public else 'private'}, max-age={YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response
