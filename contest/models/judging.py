"""Rounds of judging on a call: expert rounds with criteria, jurors, assignments and scores (public rounds later)."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    case,
    false,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.i18n import Bilingual
from contest.models.accounts import User
from contest.models.calls import Call
from contest.models.entries import Entry
from contest.models.types import UTCDateTime, enum_column, utcnow


class RoundKind(enum.Enum):
    EXPERT = "expert"
    PUBLIC = "public"

    @property
    def label(self) -> str:
        return str({RoundKind.EXPERT: _l("Expert round"), RoundKind.PUBLIC: _l("Public round")}[self])


class RoundState(enum.Enum):
    """Computed from the clock and the round's dates, like a call's state."""

    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"  # scoring is over; the organiser decides who advances
    DECIDED = "decided"

    @property
    def label(self) -> str:
        return str({RoundState.UPCOMING: _l("Not open yet"), RoundState.OPEN: _l("Scoring open"),
                    RoundState.CLOSED: _l("Scoring closed"), RoundState.DECIDED: _l("Advancement decided")}[self])

    @classmethod
    def at(cls, now: datetime, opens_at: datetime, closes_at: datetime, decided_at: datetime | None) -> RoundState:
        """A round's state from its dates alone (a vote reads them without loading the round)."""
        if decided_at is not None:
            return cls.DECIDED
        if now < opens_at:
            return cls.UPCOMING
        if now < closes_at:
            return cls.OPEN
        return cls.CLOSED


class PublicMode(enum.Enum):
    VOTES = "votes"  # each citizen has V votes, one per entry
    PAIRWISE = "pairwise"  # "which do you prefer?", fitted with Bradley-Terry

    @property
    def label(self) -> str:
        return str({PublicMode.VOTES: _l("Votes"), PublicMode.PAIRWISE: _l("Compare pairs")}[self])


class AdvanceMode(enum.Enum):
    TOP_N = "top_n"
    TOP_SHARE = "top_share"
    HAND = "hand"


def new_seed() -> int:
    return secrets.randbelow(2**31)


class Round(Bilingual, db.Model):
    __tablename__ = "round"
    TRANSLATED = ("title",)
    __table_args__ = (UniqueConstraint("call_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[RoundKind] = mapped_column(enum_column(RoundKind))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(300))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Expert rounds
    scale_low: Mapped[float] = mapped_column(default=1.0)
    scale_high: Mapped[float] = mapped_column(default=10.0)
    scale_step: Mapped[float] = mapped_column(default=0.5)
    jurors_per_entry: Mapped[int] = mapped_column(default=3)
    blind: Mapped[bool] = mapped_column(default=True)
    normalise: Mapped[bool] = mapped_column(default=True)
    trim: Mapped[float] = mapped_column(default=0.0)
    seed: Mapped[int] = mapped_column(default=new_seed)  # assignments and bootstrap are reproducible
    # Public rounds
    public_mode: Mapped[PublicMode | None] = mapped_column(enum_column(PublicMode))
    votes_per_citizen: Mapped[int] = mapped_column(default=3)
    min_account_age_hours: Mapped[int] = mapped_column(default=24)
    hide_counts: Mapped[bool] = mapped_column(default=True)  # until the round closes
    requires_phone: Mapped[bool] = mapped_column(default=False, server_default=false())  # a verified phone to take part
    # Which entries the round holds (see services.rounds.source_of): the entries advanced by source_round, or
    # every approved entry when takes_all_approved; neither set: the previous round's, as for any round.
    source_round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id", ondelete="SET NULL"))
    takes_all_approved: Mapped[bool] = mapped_column(default=False)
    # The outcome
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    advance_mode: Mapped[AdvanceMode | None] = mapped_column(enum_column(AdvanceMode))
    advance_value: Mapped[float | None]
    # When the call's followers were told that the round opened (once: claimed by the worker)
    opening_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A public round's stored standing (RoundStanding): when it was made (None: there is none, or it is out of
    # date) and how many ballots it counted (what decides how soon it is made again: services/public/standings.py)
    standing_made_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    standing_ballots: Mapped[int | None]
    # The round's ballots per hour and crowded addresses, counted with the standing (standings.Tallies as JSON;
    # None: there is none, the standing is made again)
    standing_tallies: Mapped[dict | None] = mapped_column(JSON)

    call: Mapped[Call] = relationship(back_populates="rounds")
    source_round: Mapped[Round | None] = relationship(remote_side="Round.id", foreign_keys=[source_round_id])
    criteria: Mapped[list[Criterion]] = relationship(cascade="all, delete-orphan", order_by="Criterion.position",
                                                     back_populates="round")
    members: Mapped[list[RoundMember]] = relationship(cascade="all, delete-orphan", order_by="RoundMember.id",
                                                      back_populates="round")

    def state_at(self, now: datetime) -> RoundState:
        return RoundState.at(now, self.opens_at, self.closes_at, self.decided_at)

    @property
    def state(self) -> RoundState:
        return self.state_at(utcnow())

    @classmethod
    def over_at(cls, now: datetime) -> ColumnElement[bool]:
        """SQL: the round is over at `now` (closed or decided), as RoundState.at says: for the clock's queries."""
        return or_(cls.decided_at.is_not(None), cls.closes_at <= now)

    @classmethod
    def ended_at(cls) -> ColumnElement[datetime]:
        """SQL: when the round ended: its closing date (an early close moves it), or its decision if that came
        first (a round is decided once closed, but the date is what the state reads)."""
        return case((cls.decided_at < cls.closes_at, cls.decided_at), else_=cls.closes_at)

    @property
    def scale_marks(self) -> list[str]:
        """Every mark of the scale, as shown: "1", "1.5", ... "10"."""
        count = round((self.scale_high - self.scale_low) / self.scale_step)
        return [f"{self.scale_low + i * self.scale_step:g}" for i in range(count + 1)]

    @property
    def public_state_label(self) -> str:
        """The state in citizens' words: they vote, they do not score."""
        return str({RoundState.UPCOMING: _l("Voting not open yet"), RoundState.OPEN: _l("Voting open"),
                    RoundState.CLOSED: _l("Voting closed"), RoundState.DECIDED: _l("Results decided")}[self.state])

    @property
    def state_label(self) -> str:
        """The state in the words its audience uses: citizens vote in a public round, jurors score."""
        return self.public_state_label if self.kind is RoundKind.PUBLIC else self.state.label

    @property
    def jurors(self) -> list[RoundMember]:
        return [m for m in self.members if m.role == "juror"]


class Criterion(Bilingual, db.Model):
    __tablename__ = "criterion"
    TRANSLATED = ("name", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int]  # the weights of a round add up to 100

    round: Mapped[Round] = relationship(back_populates="criteria")


class RoundMember(db.Model):
    """A person's role in one round (a juror): jurors belong to the round, not to the site."""

    __tablename__ = "round_member"
    __table_args__ = (UniqueConstraint("round_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))  # where the invitation went
    name: Mapped[str] = mapped_column(String(80), default="")
    role: Mapped[str] = mapped_column(String(20), default="juror")
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    round: Mapped[Round] = relationship(back_populates="members")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def display_name(self) -> str:
        """The juror as the organisers know them: their account's name, else the invitation's name or address."""
        return self.user.display_name if self.user else self.name or self.email


class RoundEntry(db.Model):
    """An entry taking part in a round, and whether it went on to the next."""

    __tablename__ = "round_entry"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True, index=True)
    advanced: Mapped[bool | None]
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entry: Mapped[Entry] = relationship()


class Conflict(db.Model):
    """A juror's declared conflict of interest with an entry: they never see it."""

    __tablename__ = "conflict"

    member_id: Mapped[int] = mapped_column(ForeignKey("round_member.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assignment(db.Model):
    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("member_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("round_member.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)  # the order of the juror's list
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recusal_reason: Mapped[str] = mapped_column(String(500), default="")

    member: Mapped[RoundMember] = relationship()
    entry: Mapped[Entry] = relationship()
    score: Mapped[Score | None] = relationship(back_populates="assignment", uselist=False,
                                               cascade="all, delete-orphan")

    @property
    def active(self) -> bool:
        return self.recused_at is None


class Score(db.Model):
    """A juror's marks for one entry: a draft until submitted; changeable until the round closes."""

    __tablename__ = "score"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), unique=True)
    marks: Mapped[dict] = mapped_column(JSON, default=dict)  # criterion id (as text) -> mark
    note_to_organisers: Mapped[str] = mapped_column(Text, default="")
    note_to_entrant: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Two tabs saving the same score: the second save names the version it started from and is refused.
    version: Mapped[int] = mapped_column(default=1)

    assignment: Mapped[Assignment] = relationship(back_populates="score")

    __mapper_args__ = {"version_id_col": version}


class VoteAllowance(db.Model):
    """How many of their votes a citizen has used in a round: raised by one atomic conditional UPDATE, so
    votes sent at the same moment can never take a citizen past their quota."""

    __tablename__ = "vote_allowance"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


VOIDED = text("voided_at IS NOT NULL")


class Vote(db.Model):
    """One citizen's vote for one entry in a votes round; the unique key makes a second copy impossible."""

    __tablename__ = "vote"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", "entry_id"),
        # The round's counted votes, grouped by entry (the counts of a page, the tally) from the index alone.
        Index("ix_vote_counted", "round_id", "entry_id", sqlite_where=text("voided_at IS NULL"),
              postgresql_where=text("voided_at IS NULL")),
        # The addresses many accounts voted from (the integrity view), from the index alone.
        Index("ix_vote_address", "round_id", "address", "user_id", sqlite_where=text("voided_at IS NULL"),
              postgresql_where=text("voided_at IS NULL")),
        # The few voided votes of a round and their reasons (the integrity view, the results), never the round's
        # counted votes read to find them.
        Index("ix_vote_voided", "round_id", "voided_reason", sqlite_where=VOIDED, postgresql_where=VOIDED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    voided_reason: Mapped[str] = mapped_column(String(500), default="")


def _lower_entry(context) -> int:
    shown = context.get_current_parameters()
    return min(shown["left_id"], shown["right_id"])


def _higher_entry(context) -> int:
    shown = context.get_current_parameters()
    return max(shown["left_id"], shown["right_id"])


NOT_VOIDED = text("voided_at IS NULL")


class Comparison(db.Model):
    """One answer to "which do you prefer?": one citizen, one counted answer per unordered pair of a round.

    The database holds that rule (a unique index on the pair, lower entry id first, over the answers not
    voided), so two answers sent at the same moment cannot both count; the nonce of the pair shown makes a
    double submit of one page count once too.
    """

    __tablename__ = "comparison"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", "nonce"),
        Index("uq_comparison_one_answer_per_pair", "round_id", "user_id", "low_id", "high_id", unique=True,
              sqlite_where=NOT_VOIDED, postgresql_where=NOT_VOIDED),
        Index("ix_comparison_address", "round_id", "address", "user_id", sqlite_where=NOT_VOIDED,
              postgresql_where=NOT_VOIDED),
        Index("ix_comparison_voided", "round_id", "voided_reason", sqlite_where=VOIDED, postgresql_where=VOIDED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    # Indexed: an entry's comparisons (how often it was shown, its wins) and deleting an entry read them.
    left_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"),
                                                  index=True)  # None: can't decide
    # The pair without its sides, for the unique index: (A, B) and (B, A) are the same question.
    low_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), default=_lower_entry)
    high_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), default=_higher_entry)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    voided_reason: Mapped[str] = mapped_column(String(500), default="")


class RoundStanding(db.Model):
    """An entry's standing in a public round as it was at the round's `standing_made_at`: its counted votes, or its
    chance to be preferred from the Bradley-Terry fit of every counted comparison (0 to 1). Stored
    (contest/services/public/standings.py), so that the round's pages read a page of it, by its index in the
    standing's order, rather than counting or fitting every ballot of the round on every view. The results never
    read it: they count and fit the ballots themselves."""

    __tablename__ = "round_standing"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)
    value: Mapped[float] = mapped_column(Float)


# The results so far, a page at a time: the most first, ties by entry, sought after the last one shown.
Index("ix_round_standing_order", RoundStanding.round_id, RoundStanding.value.desc(), RoundStanding.entry_id)


OUTSTANDING = text("answered_at IS NULL AND dropped_at IS NULL")


class ShownPair(db.Model):
    """A pair shown to a citizen in a pairwise round. At most one per citizen and round is outstanding (shown,
    neither answered nor dropped): opening the page again shows it again instead of drawing a new one.

    `refusals` counts the answers sent for it that did not count (sent twice, or sent after it was dropped);
    a pair never answered was abandoned. Both feed the round's integrity view.
    """

    __tablename__ = "shown_pair"
    __table_args__ = (
        # Per round and citizen, as a comparison's: an archive imported twice brings the same nonces again.
        UniqueConstraint("round_id", "user_id", "nonce"),
        Index("uq_shown_pair_outstanding", "round_id", "user_id", unique=True,
              sqlite_where=OUTSTANDING, postgresql_where=OUTSTANDING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    left_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"))
    right_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"))
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # an entry left the round
    refusals: Mapped[int] = mapped_column(default=0)
