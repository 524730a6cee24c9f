"""The department tree: creating, renaming, moving and removing departments, and reading the tree."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from contest.extensions import db
from contest.models import ALLOWED_PARENTS, Department, DepartmentKind, DepartmentMember, User
from contest.services import ServiceError
from contest.services.audit import record


@dataclass
class TreeRow:
    department: Department
    depth: int
    member_count: int


def tree() -> list[TreeRow]:
    """Every department in tree order, with its depth and number of members, in two queries."""
    departments = db.session.scalars(select(Department).order_by(Department.id)).all()
    counts = dict(
        db.session.execute(
            select(DepartmentMember.department_id, func.count()).group_by(DepartmentMember.department_id)
        ).all()
    )
    children = defaultdict(list)
    for d in departments:
        children[d.parent_id].append(d)
    rows: list[TreeRow] = []

    def walk(parent_id, depth):
        for d in children[parent_id]:
            rows.append(TreeRow(d, depth, counts.get(d.id, 0)))
            walk(d.id, depth + 1)

    walk(None, 0)
    return rows


def ancestors(department: Department) -> list[Department]:
    """From the root down to the department's parent."""
    chain = []
    node = department.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def _check_place(kind: DepartmentKind, parent: Department | None) -> None:
    parent_kind = parent.kind if parent is not None else None
    if parent_kind not in ALLOWED_PARENTS[kind]:
        if parent is None:
            raise ServiceError(_("A department of the level “%(kind)s” needs a parent department.", kind=kind.label))
        raise ServiceError(
            _("A department of the level “%(kind)s” cannot sit under one of the level “%(parent)s”.",
              kind=kind.label, parent=parent.kind.label)
        )


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ServiceError(_("Give the department a name."))
    return name


def create_department(
    actor: User | None, kind: DepartmentKind, name: str, name_en: str = "", parent: Department | None = None
) -> Department:
    _check_place(kind, parent)
    department = Department(kind=kind, name=_check_name(name), name_en=name_en.strip() or None, parent=parent)
    db.session.add(department)
    db.session.flush()
    record(actor, "department.create", "department", department.id, name=department.name)
    return department


def update_department(
    actor: User, department: Department, name: str, name_en: str, parent: Department | None
) -> None:
    if parent is not None and (parent.id == department.id or department in ancestors(parent)):
        raise ServiceError(_("A department cannot sit under itself or one of its own sub-departments."))
    _check_place(department.kind, parent)
    before = {"name": department.name, "name_en": department.name_en, "parent_id": department.parent_id}
    department.name = _check_name(name)
    department.name_en = name_en.strip() or None
    department.parent = parent
    db.session.flush()
    record(actor, "department.update", "department", department.id, before=before)


def delete_department(actor: User, department: Department) -> None:
    if department.children:
        raise ServiceError(_("Remove or move the sub-departments first."))
    if department.members:
        raise ServiceError(_("Remove the department's organisers first."))
    record(actor, "department.delete", "department", department.id, name=department.name)
    db.session.delete(department)
    db.session.flush()


def is_place(department: Department) -> bool:
    """Whether an entry may name the department as its place: a part of the city, never an agency."""
    return department.kind is not DepartmentKind.AGENCY


def check_point(lat: float | None, lng: float | None) -> None:
    """A point as a place may carry it (an entry, a meeting, a built object): both numbers or neither, finite,
    within the city; else a ServiceError saying what to do."""
    import math

    from contest.geo import in_city_bounds

    if (lat is None) != (lng is None):
        raise ServiceError(_("Give both the latitude and the longitude of the place, or neither."))
    if lat is not None and (not (math.isfinite(lat) and math.isfinite(lng)) or not in_city_bounds(lat, lng)):
        raise ServiceError(_("This point is outside the city: choose a place in Shanghai."))


def place_at(lat: float, lng: float, chosen: Department | None = None) -> Department | None:
    """The place of a point: the district whose vendored outline holds it (contest.geo), or the street or
    community chosen under that district; None where no outline holds it or the tree has no such district."""
    from contest.geo import district_at

    district = district_at(lat, lng)
    if district is None:
        return None
    department = db.session.scalar(select(Department).where(Department.kind == DepartmentKind.DISTRICT,
                                                            Department.name == district.name).limit(1))
    if department is None:
        return None
    if chosen is not None and any(a.id == department.id for a in ancestors(chosen)):
        return chosen  # a street or community inside the district the point falls in
    return department
