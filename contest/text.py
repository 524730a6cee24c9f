"""Text that comes in: the one check of characters and lengths every form, the API and the services use.

- Control characters (NUL, the other C0 and C1 controls, DEL) are refused with a clear message before the text
  reaches a query: PostgreSQL refuses NUL in a text column (a 500), SQLite would store it. Multi-line fields
  keep tab, line feed and carriage return; single-line fields none of them.
- An address's parameters (`?q=`, `?theme=`, `?via=` ...) are checked once for every request
  (`refuse_control_characters_in_args`): a 400 that says why, on the pages and in the API alike.
- Line ends are LF alone (`line_ends`): browsers send a textarea's lines joined by CR LF, and every form's
  multi-line field (contest.forms.Form) and every limit's check turn them into LF before the text is stored, so
  the pages, exports and the API give one kind of line end.
- Each kind of text has one limit (`TITLE`, `DESCRIPTION`, ...), read by the forms, the API and the services;
  text over it is refused, never cut.
- A display name is normalised (NFKC, spaces folded), may hold no invisible or direction-turning characters,
  may not be empty, and may not pose as the site's staff (`display_name`).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

from contest.services import ServiceError

# C0 controls but tab, LF and CR; DEL; C1 controls. Single-line text refuses tab, LF and CR too.
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

CONTROL_MESSAGE = _l("Remove the invisible control characters (such as NUL) from this text.")
ARGS_MESSAGE = _l("The address contains invisible control characters (such as NUL). Remove them and try again.")


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    return (_CONTROL_MULTILINE if multiline else _CONTROL).search(text) is not None


def check_characters(text: str, *, multiline: bool = False) -> None:
    """Refuse (ServiceError) text with control characters."""
    if has_control_characters(text, multiline=multiline):
        raise ServiceError(str(CONTROL_MESSAGE))


def line_ends(text: str) -> str:
    """`text` with its CR LF and lone CR line ends made LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Limits ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    """How long one kind of text may be, and whether it may hold line breaks."""

    max: int
    multiline: bool
    message: object  # a lazy text taking %(max)d and %(count)d

    def check(self, text: str) -> str:
        """`text` stripped, or a ServiceError when it has control characters or is over the limit."""
        check_characters(text, multiline=self.multiline)
        text = text.strip()
        if self.multiline:
            text = line_ends(text)
        if len(text) > self.max:
            raise ServiceError(str(self.message % {"max": self.max, "count": len(text)}))
        return text


TITLE = Limit(200, False, _l("The title may have up to %(max)d characters (this one has %(count)d)."))
DESCRIPTION = Limit(10000, True, _l("The description may have up to %(max)d characters (this one has %(count)d)."))
PICTURE_DESCRIPTION = Limit(300, False, _l("A picture's description may have up to %(max)d characters (this one "
                                           "has %(count)d)."))
ADDRESS = Limit(200, False, _l("An address may have up to %(max)d characters (this one has %(count)d)."))
PERSON_NAME = Limit(80, False, _l("A name may have up to %(max)d characters (this one has %(count)d)."))
TOKEN_NAME = Limit(80, False, _l("A token's name may have up to %(max)d characters (this one has %(count)d)."))


# Display names ---------------------------------------------------------------------------------------------

# Invisible (zero-width, joiners, the byte-order mark, soft hyphen) and direction-turning characters: Unicode's
# "format" category, which holds them all, and the Hangul and Braille blanks that render as nothing.
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
# The site's staff, in the words a citizen might borrow: one list, matched on the normalised, case-folded name.
# Chinese titles anywhere in the name; English ones as whole words ("Badminton" is no "admin").
STAFF_TITLES_ZH = ("管理员", "管理員", "组织者", "組織者", "主办方", "主辦方", "官方", "评委", "評委", "评审",
                   "評審", "工作人员", "工作人員", "客服", "版主", "站长", "站長")
STAFF_TITLES_EN = ("admin", "administrator", "moderator", "organiser", "organizer", "official", "juror", "jury",
                   "staff", "webmaster", "sysop")
_STAFF_EN = re.compile(r"\b(?:" + "|".join(STAFF_TITLES_EN) + r")s?\b")

HIDDEN_MESSAGE = _l("A name may not contain invisible characters or characters that turn the direction of the text.")
EMPTY_MESSAGE = _l("Enter a name made of visible letters.")
STAFF_MESSAGE = _l("This name looks like a title of the site's staff (such as administrator, organiser or juror). "
                   "Please choose another.")


def poses_as_staff(name: str) -> bool:
    folded = unicodedata.normalize("NFKC", name).casefold()
    return any(title in folded for title in STAFF_TITLES_ZH) or _STAFF_EN.search(folded) is not None


def display_name(value: str, *, staff: bool = False, optional: bool = False) -> str:
    """The name a person is shown by, normalised; a ServiceError when it hides characters, is empty (unless
    `optional`), is too long, or poses as staff (unless the person is `staff`). Used wherever a name is set:
    registration, the profile, the names staff give to entries on someone's behalf."""
    check_characters(value)
    name = " ".join(unicodedata.normalize("NFKC", value).split())
    if any(unicodedata.category(c) == "Cf" or c in _BLANK_LETTERS for c in name):
        raise ServiceError(str(HIDDEN_MESSAGE))
    if not name:
        if optional:
            return ""
        raise ServiceError(str(EMPTY_MESSAGE))
    name = PERSON_NAME.check(name)
    if not staff and poses_as_staff(name):
        raise ServiceError(str(STAFF_MESSAGE))
    return name


# An address's parameters -----------------------------------------------------------------------------------

class ControlCharactersInAddress(BadRequest):
    """A 400 whose message says what to change; the pages and the API show `message`."""

    code_name = "invalid_parameter"

    @property
    def message(self):
        return ARGS_MESSAGE


def refuse_control_characters_in_args() -> None:
    """Before every request: no parameter of the address (name or value) holds a control character, so that
    no route's query ever gets one, whichever parameters it reads."""
    for key, values in request.args.lists():
        if has_control_characters(key) or any(has_control_characters(v) for v in values):
            raise ControlCharactersInAddress()
