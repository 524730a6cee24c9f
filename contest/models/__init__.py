"""The models, one module per aggregate; importing this package registers them all with the metadata."""
from contest.models.accounts import GROUP_LABELS, ParticipantGroup, User
from contest.models.audit import AuditEvent
from contest.models.departments import ALLOWED_PARENTS, Department, DepartmentKind, DepartmentMember

__all__ = [
    "ALLOWED_PARENTS",
    "AuditEvent",
    "GROUP_LABELS",
    "Department",
    "DepartmentKind",
    "DepartmentMember",
    "ParticipantGroup",
    "User",
]
