"""Accounts: users, their participant group and what they may administer."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from contest.models.departments import Department, DepartmentMember


class ParticipantGroup(enum.Enum):
    PROFESSIONAL = "professional"
    STUDENT = "student"
    CITIZEN = "citizen"
    ORGANISATION = "organisation"

    @property
    def label(self) -> str:
        return str(GROUP_LABELS[self])


GROUP_LABELS = {
    ParticipantGroup.PROFESSIONAL: _l("Professional"),
    ParticipantGroup.STUDENT: _l("Student"),
    ParticipantGroup.CITIZEN: _l("Citizen"),
    ParticipantGroup.ORGANISATION: _l("Organisation"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # always stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    group: Mapped[ParticipantGroup] = mapped_column(enum_column(ParticipantGroup))
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Indexed: the integrity view's bursts read the accounts made shortly before a round opened.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    # Part of every session's identity: replacing it ends all sessions of the user at once,
    # on every app server, because each request checks it against the database.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Notifications: the kinds of mail this person turned off (see contest.models.notifications), and whether
    # the rest comes as one daily digest instead of a mail each.
    mail_off: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    mail_digest: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A verified mobile number, never stored itself: a keyed HMAC of its E.164 form (contest.phones) so that one
    # number belongs to one account, and its last two digits, shown to the owner alone.
    phone_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_last2: Mapped[str] = mapped_column(String(2), default="", server_default="")
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The person deleted their account (contest.services.account_deletion): what is left is a numbered row
    # without anything of them, so that the votes and entries they leave behind stay counted.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[DepartmentMember]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def departments(self) -> list[Department]:
        return [m.department for m in self.memberships]

    @property
    def is_organiser(self) -> bool:
        return bool(self.memberships)

    @property
    def is_juror(self) -> bool:
        """A juror of any round (jurors belong to rounds, so this asks the rounds)."""
        from sqlalchemy import exists, select

        from contest.models.judging import RoundMember

        if "_is_juror" not in self.__dict__:
            self.__dict__["_is_juror"] = db.session.scalar(
                select(exists().where(RoundMember.user_id == self.id)))
        return self.__dict__["_is_juror"]

    @property
    def role_labels(self) -> list[str]:
        labels = []
        if self.is_admin:
            labels.append(str(_l("Administrator")))
        if self.is_organiser:
            labels.append(str(_l("Organiser")))
        if not labels:
            labels.append(str(_l("Citizen")))
        return labels

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class PhoneCode(db.Model):
    """A six-digit code sent by SMS to a number an account wants to add: only its hash is kept, it expires, and
    five wrong answers lock the number for a while (contest.services.phones)."""

    __tablename__ = "phone_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    phone_key: Mapped[str] = mapped_column(String(64), index=True)
    phone_last2: Mapped[str] = mapped_column(String(2))
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
