"""The media route: every stored file is served through here, after checking who may see it."""
from __future__ import annotations

from flask import Response, abort, redirect
from flask_login import current_user

from contest.extensions import db
from contest.media import bp
from contest.models import RENDITIONS, ImageFile
from contest.permissions import can_manage_call
from contest.services import media as media_service
from contest.services.entries import can_view_entry
from contest.services.rounds import can_judge_entry
from contest.storage import StorageError, storage

YEAR = 365 * 24 * 3600


def _access(image_id: int, original: bool) -> tuple[bool, bool]:
    """(may the viewer have this file, may shared caches keep it), for an image of an entry or a call's cover.

    Derived sizes go to whoever may see the entry (and its jurors); originals and scans to the call's staff,
    originals also to everyone once the organiser publishes them.
    """
    picture = media_service.picture_of_image(image_id)
    if picture is not None:
        entry = picture.entry
        staff = can_manage_call(current_user, entry.call)
        if staff:
            return True, False
        if picture.is_scan:
            return False, False
        visible = can_view_entry(current_user, entry)
        if original:
            return visible and entry.call.originals_public, False
        if can_judge_entry(current_user, entry):
            return True, False
        return visible, visible and entry.author_id != getattr(current_user, "id", None)
    holder = media_service.holder_of_pending(image_id)
    if holder is not None:  # held for a refused form: only for the one who sent it, in its derived sizes
        return holder == getattr(current_user, "id", None) and not original, False
    call = media_service.call_with_cover(image_id)
    if call is None:
        return _follow_up_access(image_id, original)
    if can_manage_call(current_user, call):
        return True, False
    return call.published_at is not None and not original, call.published_at is not None


def _follow_up_access(image_id: int, original: bool) -> tuple[bool, bool]:
    """A photo of a follow-up update: public in its derived sizes, like the call it belongs to."""
    call = media_service.call_of_follow_up_photo(image_id)
    if call is None:
        return False, False
    if can_manage_call(current_user, call):
        return True, False
    return call.published_at is not None and not original, call.published_at is not None


@bp.route("/media/<int:image_id>/<name>")
def image(image_id: int, name: str):
    if name not in RENDITIONS:
        abort(404)
    file = db.session.get(ImageFile, (image_id, name))
    if file is None:
        abort(404)
    allowed, public = _access(image_id, original=name == "original")
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
