"""Pictures held for an entrant whose form came back with an error, so that they need not be chosen again.

When an entry form is refused (a missing title, an unticked box, a picture without its description ...), every
picture it carried that passes the image pipeline is stored at once and held for its sender: a `PendingUpload`
row, tied to the account, which expires after `HOLD`. The form comes back showing each held picture with a
signed token in place of its file; sent again, the token stands for the picture (`take`), which then becomes the
entry's and stops being pending, in the same transaction as the entry: a token is taken once, so one picture
never ends up in two entries, and a refused form takes nothing. Expired pictures are deleted by the worker's
clock (`purge_expired`), their files with them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import delete, select

from contest.extensions import db
from contest.models import Image, PendingUpload, User
from contest.models.types import utcnow
from contest.services import ServiceError, Unavailable
from contest.services.media import delete_images, process_uploads, store_image
from contest.tokens import TokenExpired, TokenInvalid, make_token, read_token

if TYPE_CHECKING:
    from contest.services.entries import Upload

HOLD = timedelta(hours=24)
PURPOSE = "pending-upload"


@dataclass
class HeldPicture:
    """A held picture as a form shows it again: the token its slot sends back, and the image."""

    token: str
    image: Image


def _read(actor: User, token: str, now: datetime) -> PendingUpload | None:
    try:
        data = read_token(PURPOSE, token, HOLD)
    except (TokenExpired, TokenInvalid):
        return None
    if data.get("user") != actor.id or not isinstance(data.get("id"), int):
        return None
    pending = db.session.get(PendingUpload, data["id"])
    if pending is None or pending.user_id != actor.id or pending.expires_at <= now:
        return None
    return pending


def take(actor: User, token: str, number: int) -> Image:
    """The picture a slot's token stands for, no longer pending (the caller attaches it to an entry and commits);
    a ServiceError when the token is not the actor's, has expired, or was taken already."""
    pending = _read(actor, token, utcnow())
    taken = pending is not None and db.session.execute(
        delete(PendingUpload).where(PendingUpload.id == pending.id, PendingUpload.user_id == actor.id)
        .execution_options(synchronize_session=False)).rowcount == 1
    if not taken:
        raise ServiceError(_("Image %(n)d: the picture you sent before was already used or kept too long. Please "
                             "choose the file again.", n=number))
    image = pending.image
    db.session.expunge(pending)
    return image


def hold(actor: User, uploads: list[Upload], *, formats, max_mb: int, prefix: str = "image", first: int = 1
         ) -> tuple[dict[int, HeldPicture], dict[str, str]]:
    """Hold the pictures of a refused form: each slot's held picture by slot number, and the message of each
    file the image rules refuse, by its field's id (the page numbers slot 1 `first`). A token still good is kept
    as it is; a new file is stored and held. The caller commits. With the file storage out of reach, nothing new
    is held."""
    now = utcnow()
    held: dict[int, HeldPicture] = {}
    errors: dict[str, str] = {}
    for upload in uploads:
        if upload.token:
            pending = _read(actor, upload.token, now)
            if pending is not None:
                held[upload.slot] = HeldPicture(upload.token, pending.image)
            continue
        try:
            processed = process_uploads([upload.data], formats=formats, max_mb=max_mb,
                                        first=first + upload.slot - 1)[0]
        except ServiceError as error:
            errors[f"{prefix}-{upload.slot}"] = str(error)
            continue
        try:
            image = store_image(processed, actor)
        except Unavailable:
            break
        pending = PendingUpload(user_id=actor.id, image=image, expires_at=now + HOLD)
        db.session.add(pending)
        db.session.flush()
        held[upload.slot] = HeldPicture(make_token(PURPOSE, {"id": pending.id, "user": actor.id}), image)
    return held, errors


def purge_expired(now: datetime | None = None) -> int:
    """Delete the pictures held past their time, rows now and files once the caller commits; how many. Each
    holding is claimed by its own DELETE, so workers purging at once delete each picture once, and a picture
    taken into an entry at that moment is left to the entry."""
    now = now or utcnow()
    expired = db.session.execute(select(PendingUpload.id, PendingUpload.image_id)
                                 .where(PendingUpload.expires_at <= now)).all()
    claimed = [image_id for pending_id, image_id in expired if db.session.execute(
        delete(PendingUpload).where(PendingUpload.id == pending_id)
        .execution_options(synchronize_session=False)).rowcount == 1]
    delete_images(db.session.scalars(select(Image).where(Image.id.in_(claimed))).all())
    return len(claimed)
