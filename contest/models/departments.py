"""Departments: the tree of city, districts, streets and towns, communities, and agencies at any level."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.i18n import Bilingual
from contest.models.accounts import User
from contest.models.types import UTCDateTime, enum_column, utcnow


class DepartmentKind(enum.Enum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"  # a street office or a town
    COMMUNITY = "community"
    AGENCY = "agency"  # a functional department: a commission, a bureau, an office

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    DepartmentKind.CITY: _l("City"),
    DepartmentKind.DISTRICT: _l("District"),
    DepartmentKind.STREET: _l("Street or town"),
    DepartmentKind.COMMUNITY: _l("Community"),
    DepartmentKind.AGENCY: _l("Agency"),
}

# Which kind of department may sit under which: the tree the brief describes.
ALLOWED_PARENTS = {
    DepartmentKind.CITY: {None},
    DepartmentKind.DISTRICT: {DepartmentKind.CITY},
    DepartmentKind.STREET: {DepartmentKind.DISTRICT},
    DepartmentKind.COMMUNITY: {DepartmentKind.STREET},
    DepartmentKind.AGENCY: {DepartmentKind.CITY, DepartmentKind.DISTRICT, DepartmentKind.STREET},
}


class Department(Bilingual, db.Model):
    TRANSLATED = ("name",)
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[DepartmentKind] = mapped_column(enum_column(DepartmentKind))
    name: Mapped[str] = mapped_column(String(120))  # Chinese, the name of record
    name_en: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent", order_by="Department.id")
    members: Mapped[list[DepartmentMember]] = relationship(
        back_populates="department", cascade="all, delete-orphan"
    )

    @property
    def display_name(self) -> str:
        return self.local("name").text

    def __repr__(self) -> str:
        return f"<Department {self.id} {self.name}>"


class DepartmentMember(db.Model):
    """An organiser's membership of a department: it lets them run the department's calls."""

    __tablename__ = "department_member"

    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")
