"""The models, one module per aggregate; importing this package registers them all with the metadata."""
from contest.models.accounts import GROUP_LABELS, ParticipantGroup, PhoneCode, User
from contest.models.audit import AuditEvent
from contest.models.calls import (
    Call,
    CallDepartment,
    CallEvent,
    CallKind,
    CallState,
    CallTheme,
    CombineOn,
    Prize,
    Topic,
)
from contest.models.comments import (
    REPORT_LABELS,
    Comment,
    CommentEndorsement,
    CommentReport,
    CommentStatus,
    ReportCategory,
)
from contest.models.departments import ALLOWED_PARENTS, Department, DepartmentKind, DepartmentMember
from contest.models.entries import (
    CHANNEL_LABELS,
    STAFF_CHANNELS,
    Channel,
    DuplicateFlag,
    Entry,
    EntryBand,
    EntryCount,
    EntryImage,
    EntryStatus,
    EntryTag,
    MapCell,
    PendingUpload,
    SimilarEntry,
    Tag,
)
from contest.models.judging import (
    AdvanceMode,
    Assignment,
    Comparison,
    Conflict,
    Criterion,
    PublicMode,
    Round,
    RoundEntry,
    RoundKind,
    RoundMember,
    RoundStanding,
    RoundState,
    Score,
    ShownPair,
    Vote,
    VoteAllowance,
)
from contest.models.media import RENDITIONS, Image, ImageFile
from contest.models.notifications import MAIL_KIND_LABELS, ApiToken, CallFollower, MailKind, OutboxMail
from contest.models.outreach import MEETING_KIND_LABELS, Meeting, MeetingKind, Poster
from contest.models.results import (
    STAGE_LABELS,
    Award,
    FollowUp,
    FollowUpStage,
    FollowUpUpdate,
    JobKind,
    JobState,
    Objection,
    ResultRow,
    ResultsJob,
)

__all__ = [
    "AdvanceMode", "Assignment", "Conflict", "Criterion", "Round", "RoundEntry", "RoundKind", "RoundMember",
    "RoundState", "Score", "ShownPair", "Comparison", "RoundStanding", "PublicMode", "Vote", "VoteAllowance",
    "ALLOWED_PARENTS", "CHANNEL_LABELS", "GROUP_LABELS", "RENDITIONS", "STAFF_CHANNELS",
    "AuditEvent", "Call", "CallDepartment", "CallEvent", "CallKind", "CallState", "CallTheme", "Channel",
    "Department", "DepartmentKind", "DepartmentMember", "DuplicateFlag", "Entry", "EntryBand", "EntryImage",
    "EntryStatus", "Image", "ImageFile", "ParticipantGroup", "PhoneCode", "Prize", "Topic", "User",
    "STAGE_LABELS", "Award", "CombineOn", "FollowUp", "FollowUpStage", "FollowUpUpdate", "Objection", "ResultRow",
    "JobKind", "JobState", "ResultsJob",
    "EntryTag",
    "MapCell", "SimilarEntry", "EntryCount",
    "PendingUpload", "Tag", "MAIL_KIND_LABELS", "ApiToken", "CallFollower", "MailKind", "OutboxMail",
    "MEETING_KIND_LABELS", "Meeting", "MeetingKind", "Poster", "REPORT_LABELS", "Comment", "CommentEndorsement",
    "CommentReport", "CommentStatus", "ReportCategory",
]
