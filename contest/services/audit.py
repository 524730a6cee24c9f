"""Recording what was done, by whom, for the audit log."""
from __future__ import annotations

from sqlalchemy import and_, or_, select

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


def events_of_user(user: User, limit: int = 20) -> list[AuditEvent]:
    """The latest events done by or to an account, newest first."""
    return list(db.session.scalars(
        select(AuditEvent)
        .where(or_(and_(AuditEvent.target_type == "user", AuditEvent.target_id == user.id),
                   AuditEvent.actor_id == user.id))
        .order_by(AuditEvent.at.desc())
        .limit(limit)
    ))
