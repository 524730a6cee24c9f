"""The look-ups the pages and the API share: an object from the address that the visitor may see, or 404."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from contest.models import Call, Entry, Round
from contest.permissions import can_manage_call
from contest.services import calls as call_service
from contest.services import public as public_service


def public_call(call_id: int, *options) -> Call:
    """A published call (or one the visitor runs), with the loader options given; 404 otherwise."""
    call = call_service.call_by_id(call_id, *options)
    if call is None:
        abort(404)
    if call.published_at is None and not can_manage_call(current_user, call):
        abort(404)
    return call


def public_round(round_id: int) -> Round:
    """A public round of a published call, its call loaded; 404 otherwise."""
    round_ = public_service.public_round(round_id)
    if round_ is None:
        abort(404)
    return round_


def public_round_and_entry(round_id: int, entry_id: int) -> tuple[Round, Entry]:
    """The round (with its call) and the entry in one query; 404 unless both are public and belong together."""
    found = public_service.public_round_and_entry(round_id, entry_id)
    if found is None:
        abort(404)
    return found
