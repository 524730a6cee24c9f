"""Recording what was done, by whom, for the audit log."""
from __future__ import annotations

from contest.extensions import db
from contest.models import AuditEvent, User


def record(actor: User | None, action: str, target_type: str, target_id: int | None, **detail) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
    )
    db.session.add(event)
    return event
