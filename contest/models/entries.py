"""Entries: designs and ideas submitted to a call, their images, their moderation, and near-duplicate flags."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.models.accounts import User
from contest.models.calls import Call, CallTheme, Topic
from contest.models.departments import Department
from contest.models.media import Image
from contest.models.types import UTCDateTime, enum_column, utcnow

WITHDRAWN_PARTICIPANT = _l("Withdrawn participant")


class Channel(enum.Enum):
    WEB = "web"
    MOBILE = "mobile"
    PAPER = "paper"  # a paper form, e.g. from a red mailbox
    MEETING = "meeting"  # a long-table talk or a panel
    QUESTIONNAIRE = "questionnaire"
    POSTER = "poster"  # through the QR code of a printed poster

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    Channel.WEB: _l("Web"),
    Channel.MOBILE: _l("Mobile"),
    Channel.PAPER: _l("Paper form"),
    Channel.MEETING: _l("Meeting"),
    Channel.QUESTIONNAIRE: _l("Questionnaire"),
    Channel.POSTER: _l("Poster (QR code)"),
}
STAFF_CHANNELS = (Channel.PAPER, Channel.MEETING, Channel.QUESTIONNAIRE)


class EntryStatus(enum.Enum):
    SUBMITTED = "submitted"  # waiting for moderation
    APPROVED = "approved"  # public
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    EntryStatus.SUBMITTED: _l("Waiting for moderation"),
    EntryStatus.APPROVED: _l("Approved"),
    EntryStatus.REJECTED: _l("Rejected"),
    EntryStatus.WITHDRAWN: _l("Withdrawn"),
}


MERGED_ROWS = text("merged_into_id IS NOT NULL")
MAP_ROWS = text("status = 'approved' AND merged_into_id IS NULL AND lat IS NOT NULL")
# The entries a gallery lists (visibility.public_entries, once the call is known to be published), in the literal
# words of the partial indexes below, which a query repeats so that the planner matches them.
PUBLIC_ROWS = text("status = 'approved' AND merged_into_id IS NULL")


class Entry(db.Model):
    __tablename__ = "entry"
    # Held per author and call: a slot number below the call's limit. Two submissions at the same moment
    # cannot take the same slot, so the limit holds without a lock (withdrawing frees the slot).
    __table_args__ = (
        UniqueConstraint("call_id", "author_id", "slot"),
        # The gallery: a call's approved entries, newest first, a page at a time.
        Index("ix_entry_gallery", "call_id", "status", "id"),
        # The map reads only public placed entries: a viewport's clusters group by a prefix of the cell, the walk
        # reads a box of latitudes. Partial, and holding the point, so both are read from the index alone.
        Index("ix_entry_map_cell", "call_id", "cell", "lat", "lng", postgresql_where=MAP_ROWS, sqlite_where=MAP_ROWS),
        Index("ix_entry_map_lat", "call_id", "lat", "lng", postgresql_where=MAP_ROWS, sqlite_where=MAP_ROWS),
        # The common-issues view lists a call's latest merged entries: few among many.
        Index("ix_entry_merged", "call_id", "merged_at", postgresql_where=MERGED_ROWS, sqlite_where=MERGED_ROWS),
        # The gallery's filter choices: which topics, themes, places and channels a call's public entries use,
        # read one value at a time (contest.services.search.filter_choices).
        *(Index(f"ix_entry_public_{name}", "call_id", column, postgresql_where=PUBLIC_ROWS, sqlite_where=PUBLIC_ROWS)
          for name, column in (("topic", "topic_id"), ("theme", "theme_id"), ("place", "place_id"),
                               ("channel", "channel"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    slot: Mapped[int | None] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(String(80), default="")  # for entries made on someone's behalf
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus), default=EntryStatus.SUBMITTED, index=True,
                                                active_history=True)  # as the cell's (below)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="SET NULL"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("call_theme.id", ondelete="SET NULL"))  # which it answers
    place_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"))
    # Where exactly, when the author gave it: a WGS-84 point and the address as typed (contest.geo).
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The point's geohash, set with it; its old value is loaded when it changes, so that the cell the entry
    # leaves is counted again on the map (contest.services.map), even when it is set on an expired entry.
    cell: Mapped[str | None] = mapped_column(String(9), active_history=True)
    licence_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where it came from, beyond the channel: the meeting it was raised at, the poster whose code was scanned.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"), index=True)
    poster_id: Mapped[int | None] = mapped_column(ForeignKey("poster.id", ondelete="SET NULL"), index=True)
    # A near-identical idea merged into another: it keeps its text, author and votes, and points to the one kept.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id", ondelete="SET NULL"), index=True,
                                                       active_history=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    merge_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")

    call: Mapped[Call] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    merged_into: Mapped[Entry | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    topic: Mapped[Topic | None] = relationship()
    theme: Mapped[CallTheme | None] = relationship()
    place: Mapped[Department | None] = relationship()
    pictures: Mapped[list[EntryImage]] = relationship(back_populates="entry", cascade="all, delete-orphan",
                                                      order_by="EntryImage.position")

    @property
    def images(self) -> list[EntryImage]:
        """The entry's own images, in order (what the public sees once it is approved)."""
        return [p for p in self.pictures if not p.is_scan]

    @property
    def scans(self) -> list[EntryImage]:
        """Scans or photos of a paper original: for the call's staff only."""
        return [p for p in self.pictures if p.is_scan]

    @property
    def byline(self) -> str:
        if self.author is not None:
            # An author who deleted their account leaves the entry as the call's record, without their name.
            return str(WITHDRAWN_PARTICIPANT) if self.author.deleted_at else self.author.display_name
        return self.author_name

    @property
    def cover(self) -> EntryImage | None:
        return self.images[0] if self.images else None


class EntryImage(db.Model):
    """An image of an entry, in order, with its alt text; a scan is the paper original, never public."""

    __tablename__ = "entry_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    alt_text: Mapped[str] = mapped_column(String(300), default="")
    is_scan: Mapped[bool] = mapped_column(default=False)

    entry: Mapped[Entry] = relationship(back_populates="pictures")
    image: Mapped[Image] = relationship(lazy="joined")


class DuplicateFlag(db.Model):
    """Two images that look the same (a design uploaded twice, or copied from another entry)."""

    __tablename__ = "duplicate_flag"
    __table_args__ = (UniqueConstraint("image_id", "other_image_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), index=True)
    other_image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), index=True)
    distance: Mapped[int]  # differing bits of the perceptual hashes; 0 for the same file
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class EntryBand(db.Model):
    """One band of an entry's MinHash signature (contest.minhash): entries of a call sharing a band's value are
    candidates for saying the same thing, found by the index without reading every entry."""

    __tablename__ = "entry_band"
    # The entries of a bucket in id order, so that a few of them are read from either side of an id, however
    # many texts the bucket holds (contest.services.similar).
    __table_args__ = (Index("ix_entry_band_call_id_band_value", "call_id", "band", "value", "entry_id"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    # The entry's call, without a key of its own: the entry's key removes the row with it (0130).
    call_id: Mapped[int] = mapped_column()
    value: Mapped[int] = mapped_column(BigInteger)


class SimilarEntry(db.Model):
    """Two entries of a call whose texts say nearly the same thing (the exact share of their shingles), found once
    when the text of either was indexed (contest.services.similar), never when a page is viewed; entry_id is the
    lower id."""

    __tablename__ = "similar_entry"
    __table_args__ = (Index("ix_similar_entry_call_id_similarity", "call_id", "similarity", "entry_id", "other_id"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True, index=True)
    call_id: Mapped[int] = mapped_column()  # the entries' call, without a key of its own (as EntryBand's)
    similarity: Mapped[float] = mapped_column(Float)


class MapCell(db.Model):
    """A call's public placed entries counted per geohash cell of 4, 5 or 6 characters, with their mean point
    and their lowest id (the entry itself when it is alone): a viewport of the city or a district is answered
    from these few rows, never from its entries. Kept in step with the entries by contest.services.map."""

    __tablename__ = "map_cell"
    __table_args__ = (Index("ix_map_cell_call_id_precision_lat", "call_id", "precision", "lat", "lng"),)

    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    cell: Mapped[str] = mapped_column(String(6), primary_key=True)
    precision: Mapped[int] = mapped_column(SmallInteger)  # the cell's length
    count: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    entry_id: Mapped[int] = mapped_column(Integer)  # no key: a cell is rewritten whenever its entries change


class EntryCount(db.Model):
    """A call's entries counted by status, those merged into another apart: the totals of its gallery, the API and
    the console read from these few rows, never from its entries. Kept in step by contest.services.counts."""

    __tablename__ = "entry_count"

    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus), primary_key=True)
    merged: Mapped[bool] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class Tag(db.Model):
    """An issue an organiser names in their own words ("not enough benches"), to group a call's entries."""

    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("call_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class EntryTag(db.Model):
    __tablename__ = "entry_tag"

    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True)
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    tagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class PendingUpload(db.Model):
    """A picture an entrant sent with a form that came back with an error: processed and stored, held for them
    (and only them) until the form is sent again or it expires, so that it need not be chosen again. The form
    carries a signed token naming it (contest.services.pending_uploads)."""

    __tablename__ = "pending_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    image: Mapped[Image] = relationship(lazy="joined")
