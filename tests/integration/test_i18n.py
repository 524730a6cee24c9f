"""Chinese and English throughout: every message has its Chinese translation, and every page is walked in both."""
import functools
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import url_for

from contest.extensions import db
from contest.tokens import make_token
from tests.helpers import log_in, make_call, make_user, picture_bytes

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "contest" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}
METHODS = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]


@functools.cache  # the sources do not change during a run; three tests ask
def extracted_messages() -> frozenset:
    """Every message the code and the templates ask to translate (msgid, or (singular, plural))."""
    found = set()
    for folder in ("contest", "templates"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, METHODS, keywords=KEYWORDS
        ):
            found.add(message)
    return frozenset(found)


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as f:
        return read_po(f)


def test_every_message_has_a_chinese_translation(catalog):
    missing = []
    for message in sorted(extracted_messages(), key=str):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ("",))
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(msgid)
    assert missing == [], f"{len(missing)} messages have no Chinese translation: {missing}"


def test_the_translations_keep_their_placeholders(catalog):
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check() if errors]
    assert problems == []


def test_the_catalog_holds_no_obsolete_messages(catalog):
    wanted = {m[0] if isinstance(m, tuple) else m for m in extracted_messages()}
    stale = [m.id for m in catalog if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in wanted]
    assert stale == [], "messages no longer used; run pybabel update"


# Whole sentences ---------------------------------------------------------------------------------
# A sentence glued from translated pieces reads wrong in the other language ("4件作品晋级, 其中最低分为6.20.");
# each language's catalog holds whole sentences with placeholders, and lists are joined by Babel (|listing).
PIECE_START = re.compile(r"^[\s,.;:!?)\]、，。；：！？）]")
PIECE_END = re.compile(r"[\s,;(\[—–-]$")
SALUTATION = re.compile(r"^Hello( %\(name\)s)?,$")  # a letter's first line, whole ("%(name)s，您好：")
# Between two template expressions, nothing but sentence punctuation: the two make one sentence glued in code.
GLUED = re.compile(r"(?:\}\}|%\})([^{}<>\w]*?)(?=\{\{|\{%)")


def test_no_catalog_message_is_a_piece_of_a_sentence():
    pieces = []
    for message in extracted_messages():
        for text in message if isinstance(message, tuple) else (message,):
            if PIECE_START.search(text) or (PIECE_END.search(text) and not SALUTATION.match(text)):
                pieces.append(text)
    assert pieces == [], f"messages that begin or end where another piece is glued on: {sorted(pieces)}"


def test_no_template_glues_translated_pieces_with_punctuation():
    glued = []
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix not in (".html", ".txt", ".xml"):
            continue
        source = path.read_text(encoding="utf-8")
        for match in GLUED.finditer(source):
            inside_a_tag = source.rfind("<", 0, match.start()) > source.rfind(">", 0, match.start())
            if re.search(r"[,.;:()]", match.group(1)) and not inside_a_tag:  # a tag's attributes hold data
                glued.append(f"{path.relative_to(ROOT)}:{source.count(chr(10), 0, match.start()) + 1} "
                             f"{match.group(1)!r}")
    assert glued == [], f"punctuation glued between template pieces (make it one message): {glued}"


def test_pieces_are_caught_where_they_are_glued():
    assert PIECE_START.search(", ") and PIECE_START.search("。您的作品已晋级") and PIECE_END.search("Before,")
    assert not PIECE_START.search("Status: %(status)s") and not PIECE_END.search("Reason:")
    glued = '{{ ngettext("%(num)d entry advanced") }}, {{ _("the lowest scoring %(s)s") }}'
    assert [m.group(1) for m in GLUED.finditer(glued)] == [", "]


def test_lists_are_joined_as_each_language_joins_them(app):
    from flask_babel import refresh

    from contest.i18n import listing

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert listing(["a summary", "a brief", "the licence terms"]) == "a summary, a brief, and the licence terms"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        refresh()  # the test's app context outlives one request: the language is looked up again
        assert listing(["简介", "征集说明", "授权条款"]) == "简介、征集说明和授权条款"


# The page walk ----------------------------------------------------------------------------------

@pytest.fixture
def cast(app, city, transport_commission, transport_organiser, admin):
    from contest.models import CallKind, EntryStatus
    from contest.services.entries import EntryData, Upload, submit_entry

    citizen = make_user("citizen@example.org", name="张三", confirmed=False)
    entrant = make_user("entrant@example.org", name="李四")
    call = make_call(transport_commission, themes=[])
    idea_call = make_call(transport_commission, kind=CallKind.IDEA, title="社区生活圈", images_min=0)
    with app.test_request_context():
        entry = submit_entry(entrant, call, EntryData(title="海派栏杆"), [Upload(picture_bytes(1), "红色栏杆")],
                             accepted_terms=True)
    entry.status = EntryStatus.APPROVED
    db.session.commit()
    from contest.services.rounds import assign
    from tests.helpers import make_juror, make_round

    round_ = make_round(call, transport_organiser, k=1)
    juror, _member = make_juror(round_, "juror@example.org", name="评委")
    with app.test_request_context():
        assign(transport_organiser, round_)
    db.session.commit()
    from contest.models import Assignment
    from contest.tokens import make_token as token

    assignment = db.session.scalar(db.select(Assignment))
    invitation = token("juror-invitation", {"member": _member.id, "email": _member.email})
    from tests.helpers import make_public_round

    public_round = make_public_round(idea_call, transport_organiser, mode="pairwise")
    from tests.helpers import adopted_entry

    followed_call = adopted_entry(make_call(transport_commission, title="口袋公园"), transport_organiser).call
    results_call, feedback_entry = _published_results(app, transport_organiser, transport_commission, entrant)
    return {"juror": juror, "round": round_, "assignment": assignment, "invitation": invitation,
            "results_call": results_call, "feedback_entry": feedback_entry,
            "followed_call": followed_call,
            "public_round": public_round,
            "citizen": citizen, "entrant": entrant, "organiser": transport_organiser, "admin": admin,
            "department": transport_commission, "city": city, "call": call, "idea_call": idea_call,
            "entry": entry, "image_id": entry.images[0].image_id}


# endpoint -> (who visits, how to build its address, expected status)
def _published_results(app, organiser, department, entrant):
    """A call whose votes round is over and whose results are published, with an answered objection."""
    from datetime import timedelta

    from contest.models import EntryStatus, Prize
    from contest.models.types import utcnow
    from contest.services import results
    from contest.services.entries import EntryData, Upload, submit_entry
    from tests.helpers import make_public_round

    call = make_call(department, title="口袋公园设计")
    call.expert_weight, call.public_weight = 0, 100
    call.prizes = [Prize(position=0, name="一等奖", count=1)]  # the entry's award has a certificate
    with app.test_request_context():
        entry = submit_entry(entrant, call, EntryData(title="小小沙坑"), [Upload(picture_bytes(2), "沙坑")],
                             accepted_terms=True)
    entry.status = EntryStatus.APPROVED
    round_ = make_public_round(call, organiser, mode="votes")
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with app.test_request_context():
        results.publish(organiser, call, 7, None)
        objection = results.file_objection(entrant, call, None, "请公布投票细节")
        results.answer_objection(organiser, objection, "已在本页公布")
    db.session.commit()
    return call, entry


PAGES = {
    "public.results": ("anonymous", lambda c: url_for("public.results", call_id=c["results_call"].id), 200),
    "console.results": ("organiser", lambda c: url_for("console.results", call_id=c["results_call"].id), 200),
    "console.results_csv": ("organiser", lambda c: url_for("console.results_csv", call_id=c["results_call"].id), 200),
    "console.results_xlsx": ("organiser", lambda c: url_for("console.results_xlsx", call_id=c["results_call"].id),
                             200),
    "console.results_json": ("organiser", lambda c: url_for("console.results_json",
                                                            call_id=c["results_call"].id), 200),
    "submit.feedback": ("entrant", lambda c: url_for("submit.feedback", entry_id=c["feedback_entry"].id), 200),
    "submit.certificate": ("entrant", lambda c: url_for("submit.certificate", entry_id=c["feedback_entry"].id),
                           200),
    "console.results_notice": ("organiser", lambda c: url_for("console.results_notice",
                                                              call_id=c["results_call"].id), 200),
    "public.index": ("anonymous", lambda c: url_for("public.index"), 200),
    "public.set_language": ("anonymous", lambda c: url_for("public.set_language", code=c["language"]), 302),
    "public.privacy": ("anonymous", lambda c: url_for("public.privacy"), 200),
    "auth.my_data": ("citizen", lambda c: url_for("auth.my_data"), 200),
    "auth.delete_account": ("citizen", lambda c: url_for("auth.delete_account"), 200),
    "auth.phone": ("citizen", lambda c: url_for("auth.phone"), 200),
    "public.set_text_size": ("anonymous", lambda c: url_for("public.set_text_size", size="standard"), 302),
    "auth.register": ("anonymous", lambda c: url_for("auth.register"), 200),
    "auth.check_mail": ("anonymous", lambda c: url_for("auth.check_mail", reason="reset"), 200),
    "auth.confirm_email": ("anonymous", lambda c: url_for(
        "auth.confirm_email", token=make_token("confirm-email", {"uid": c["citizen"].id,
                                                                 "email": c["citizen"].email})), 302),
    "public.unfollow_by_link": ("anonymous", lambda c: url_for(
        "public.unfollow_by_link", token=make_token("unfollow", {"user": c["citizen"].id, "call": c["call"].id})),
        200),
    "auth.login": ("anonymous", lambda c: url_for("auth.login"), 200),
    "auth.forgot_password": ("anonymous", lambda c: url_for("auth.forgot_password"), 200),
    "auth.reset_password": ("anonymous", lambda c: url_for("auth.reset_password", token=_reset_token(c)), 200),
    "auth.profile": ("citizen", lambda c: url_for("auth.profile"), 200),
    "auth.change_password": ("citizen", lambda c: url_for("auth.change_password"), 200),
    "auth.notifications": ("citizen", lambda c: url_for("auth.notifications"), 200),
    "console.index": ("organiser", lambda c: url_for("console.index"), 200),
    "console.department": ("organiser", lambda c: url_for("console.department",
                                                          department_id=c["department"].id), 200),
    "admin.index": ("admin", lambda c: url_for("admin.index"), 200),
    "admin.departments": ("admin", lambda c: url_for("admin.departments"), 200),
    "admin.department": ("admin", lambda c: url_for("admin.department", department_id=c["city"].id), 200),
    "admin.users": ("admin", lambda c: url_for("admin.users"), 200),
    "admin.user": ("admin", lambda c: url_for("admin.user", user_id=c["citizen"].id), 200),
    "public.calls": ("anonymous", lambda c: url_for("public.calls"), 200),
    "public.call": ("anonymous", lambda c: url_for("public.call", call_id=c["call"].id), 200),
    "public.gallery": ("anonymous", lambda c: url_for("public.gallery", call_id=c["call"].id), 200),
    "public.call_map": ("anonymous", lambda c: url_for("public.call_map", call_id=c["call"].id), 200),
    "public.entry": ("anonymous", lambda c: url_for("public.entry", entry_id=c["entry"].id), 200),
    "media.image": ("anonymous", lambda c: url_for("media.image", image_id=c["image_id"], name="gallery"), 200),
    "submit.enter": ("entrant", lambda c: url_for("submit.enter", call_id=c["idea_call"].id), 200),
    "submit.my_entries": ("entrant", lambda c: url_for("submit.my_entries"), 200),
    "submit.edit": ("entrant", lambda c: url_for("submit.edit", entry_id=c["entry"].id), 200),
    "console.new_call": ("organiser", lambda c: url_for("console.new_call", department_id=c["department"].id), 200),
    "console.edit_call": ("organiser", lambda c: url_for("console.edit_call", call_id=c["call"].id), 200),
    "console.call": ("organiser", lambda c: url_for("console.call", call_id=c["call"].id), 200),
    "console.moderation": ("organiser", lambda c: url_for("console.moderation", call_id=c["call"].id), 200),
    "console.duplicates": ("organiser", lambda c: url_for("console.duplicates", call_id=c["call"].id), 200),
    "console.staff_entry": ("organiser", lambda c: url_for("console.staff_entry", call_id=c["call"].id), 200),
    "console.new_round": ("organiser", lambda c: url_for("console.new_round", call_id=c["call"].id), 200),
    "console.edit_round": ("organiser", lambda c: url_for("console.edit_round", round_id=c["round"].id), 200),
    "console.round": ("organiser", lambda c: url_for("console.round", round_id=c["round"].id), 200),
    "console.assignments": ("organiser", lambda c: url_for("console.assignments", round_id=c["round"].id), 200),
    "jury.index": ("juror", lambda c: url_for("jury.index"), 200),
    "console.new_public_round": ("organiser", lambda c: url_for("console.new_public_round",
                                                                call_id=c["idea_call"].id), 200),
    "console.close_public_round": ("organiser", lambda c: url_for("console.close_public_round",
                                                                  round_id=c["public_round"].id), 200),
    "console.close_round": ("organiser", lambda c: url_for("console.close_round", round_id=c["round"].id), 200),
    "console.finalise_results": ("organiser", lambda c: url_for("console.finalise_results",
                                                                call_id=c["results_call"].id), 200),
    "console.remove_round": ("organiser", lambda c: url_for("console.remove_round",
                                                            round_id=c["public_round"].id), 200),
    "vote.round": ("anonymous", lambda c: url_for("vote.round", round_id=c["public_round"].id), 200),
    "vote.compare": ("entrant", lambda c: url_for("vote.compare", round_id=c["public_round"].id), 200),
    "jury.invitation": ("anonymous", lambda c: url_for("jury.invitation", token=c["invitation"]), 200),
    "jury.round": ("juror", lambda c: url_for("jury.round", round_id=c["round"].id), 200),
    "jury.score": ("juror", lambda c: url_for("jury.score", assignment_id=c["assignment"].id), 200),
    "followup.index": ("anonymous", lambda c: url_for("followup.index"), 200),
    "followup.call": ("anonymous", lambda c: url_for("followup.call", call_id=c["followed_call"].id), 200),
    "followup.manage": ("organiser", lambda c: url_for("followup.manage", call_id=c["followed_call"].id), 200),
    "meetings.console_list": ("organiser", lambda c: url_for("meetings.console_list",
                                                             call_id=_meeting(c).call_id), 200),
    "meetings.console_meeting": ("organiser", lambda c: url_for("meetings.console_meeting",
                                                                meeting_id=_meeting(c).id), 200),
    "meetings.meeting": ("anonymous", lambda c: url_for("meetings.meeting", meeting_id=_meeting(c).id), 200),
    "meetings.issues": ("organiser", lambda c: url_for("meetings.issues", call_id=_meeting(c).call_id), 200),
    "comments.report": ("citizen", lambda c: url_for("comments.report", comment_id=_comment(c).id), 200),
    "comments.queue": ("organiser", lambda c: url_for("comments.queue", call_id=c["call"].id), 200),
    "statistics.index": ("anonymous", lambda c: url_for("statistics.index"), 200),
    "statistics.department": ("anonymous", lambda c: url_for("statistics.department",
                                                             department_id=c["department"].id), 200),
    "posters.poster": ("organiser", lambda c: url_for("posters.poster", poster_id=_poster(c).id), 200),
    "posters.png": ("organiser", lambda c: url_for("posters.png", poster_id=_poster(c).id), 200),
    "posters.pdf": ("organiser", lambda c: url_for("posters.pdf", poster_id=_poster(c).id), 200),
    "posters.manage": ("organiser", lambda c: url_for("posters.manage", call_id=c["call"].id), 200),
    "api_tokens.index": ("citizen", lambda c: url_for("api_tokens.index"), 200),
    "console.entries_csv": ("organiser", lambda c: url_for("console.entries_csv", call_id=c["call"].id), 200),
    "console.figures_csv": ("organiser", lambda c: url_for("console.figures_csv", call_id=c["call"].id), 200),
    "console.entries_xlsx": ("organiser", lambda c: url_for("console.entries_xlsx", call_id=c["call"].id), 200),
    "console.figures_xlsx": ("organiser", lambda c: url_for("console.figures_xlsx", call_id=c["call"].id), 200),
    "console.ballots_csv": ("organiser", lambda c: url_for("console.ballots_csv", call_id=c["call"].id), 200),
    "console.ballots_xlsx": ("organiser", lambda c: url_for("console.ballots_xlsx", call_id=c["call"].id), 200),
    "console.meetings_csv": ("organiser", lambda c: url_for("console.meetings_csv", call_id=c["call"].id), 200),
    "console.meetings_xlsx": ("organiser", lambda c: url_for("console.meetings_xlsx", call_id=c["call"].id), 200),
    "console.follow_up_csv": ("organiser", lambda c: url_for("console.follow_up_csv", call_id=c["call"].id), 200),
    "console.follow_up_xlsx": ("organiser", lambda c: url_for("console.follow_up_xlsx", call_id=c["call"].id), 200),
    **{f"api.{name}": ("anonymous", build, status) for name, build, status in [
        ("index", lambda c: url_for("api.index"), 200), ("openapi", lambda c: url_for("api.openapi"), 200),
        ("calls", lambda c: url_for("api.calls"), 200),
        ("call", lambda c: url_for("api.call", call_id=c["call"].id), 200),
        ("call_entries", lambda c: url_for("api.call_entries", call_id=c["call"].id), 200),
        ("call_entries_geojson", lambda c: url_for("api.call_entries_geojson", call_id=c["call"].id), 200),
        ("call_clusters", lambda c: url_for("api.call_clusters", call_id=c["call"].id,
                                            bbox="30.6,120.8,31.9,122.2"), 200),
        ("call_built_geojson", lambda c: url_for("api.call_built_geojson", call_id=c["call"].id), 200),
        ("entry", lambda c: url_for("api.entry", entry_id=c["entry"].id), 200),
        ("call_rounds", lambda c: url_for("api.call_rounds", call_id=c["call"].id), 200),
        ("call_results", lambda c: url_for("api.call_results", call_id=c["results_call"].id), 200),
        ("call_follow_ups", lambda c: url_for("api.call_follow_ups", call_id=c["followed_call"].id), 200),
        ("follow_ups", lambda c: url_for("api.follow_ups"), 200),
        ("statistics", lambda c: url_for("api.statistics"), 200)]},
    "health.healthz": ("anonymous", lambda c: url_for("health.healthz"), 200),
    "health.readyz": ("anonymous", lambda c: url_for("health.readyz"), 200),
    "feeds.call_calendar": ("anonymous", lambda c: url_for("feeds.call_calendar", call_id=c["call"].id), 200),
    "feeds.meeting_calendar": ("anonymous", lambda c: url_for("feeds.meeting_calendar",
                                                              meeting_id=_meeting(c).id), 200),
    "feeds.calendar": ("anonymous", lambda c: url_for("feeds.calendar"), 200),
    "feeds.feed": ("anonymous", lambda c: url_for("feeds.feed"), 200),
    "feeds.sitemap": ("anonymous", lambda c: url_for("feeds.sitemap"), 200),
    "feeds.robots": ("anonymous", lambda c: url_for("feeds.robots"), 200),
}
# Pages that are not HTML.
NOT_HTML = {"media.image", "console.results_csv", "console.results_json", "posters.png", "posters.pdf",
            "console.results_xlsx", "console.entries_xlsx", "console.figures_xlsx", "console.ballots_csv",
            "console.ballots_xlsx", "console.meetings_csv", "console.meetings_xlsx", "console.follow_up_csv",
            "console.follow_up_xlsx", "console.results_notice",
            "submit.certificate",
            "console.entries_csv", "console.figures_csv", "health.healthz", "health.readyz", "feeds.call_calendar",
            "feeds.meeting_calendar", "feeds.calendar", "feeds.feed", "feeds.sitemap", "feeds.robots"} | {
    e for e in PAGES if e.startswith("api.")}


def _poster(cast):
    """The call's poster (made on first use)."""
    from contest.models import Poster
    from contest.services.posters import create_poster

    poster = db.session.scalar(db.select(Poster).where(Poster.call_id == cast["call"].id))
    return poster or create_poster(cast["organiser"], cast["call"], label="田林街道 红色信箱 3号")


def _comment(cast):
    """The entrant's comment on their entry, reported once (made on first use)."""
    from contest.models import Comment, CommentStatus
    from contest.services.comments import post_comment, report

    comment = db.session.scalar(db.select(Comment).where(Comment.entry_id == cast["entry"].id))
    if comment is None:
        comment = post_comment(cast["entrant"], cast["call"], "颜色可以再亮一点吗？", entry=cast["entry"])
        comment.status = CommentStatus.VISIBLE  # a newcomer's first comment, let through
        report(cast["organiser"], comment, "off_topic", "与作品无关")
        db.session.commit()
    return comment


def _meeting(cast):
    """A meeting of the idea call with two suggestions, one tagged and merged into the other (made on first use)."""
    from datetime import timedelta

    from contest.models import Meeting, MeetingKind
    from contest.models.types import utcnow
    from contest.services import issues, meetings
    from contest.services.entries import EntryData

    call, organiser = cast["idea_call"], cast["organiser"]
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.call_id == call.id))
    if meeting is None:
        meeting = meetings.create_meeting(organiser, call, meetings.MeetingData(
            title="田林长桌会", kind=MeetingKind.LONG_TABLE, held_at=utcnow() - timedelta(days=1), attendees=20,
            organisations="田林街道办事处", minutes="居民提出**增加座椅**。"))
        kept, merged = (meetings.add_suggestion(organiser, meeting, EntryData(
            title=title, description="老人没有地方坐。", topic_id=call.topics[0].id), author_name="王阿姨")
            for title in ("增加座椅", "多放长椅"))
        issues.tag_entries(organiser, call, [kept, merged], "座椅不够")
        issues.merge(organiser, merged, kept, "同一个想法")
    return meeting


def _reset_token(cast):
    from contest.services.accounts import _password_fingerprint

    return make_token("reset-password", {"uid": cast["citizen"].id, "pw": _password_fingerprint(cast["citizen"])})


def test_the_walk_covers_every_page(app):
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and rule.endpoint != "static"}
    assert pages == set(PAGES), "add the new page to PAGES so that it is walked in both languages"


def english_phrases(catalog) -> list[str]:
    """Longer English messages: on a Chinese page, any of them showing means a string escaped translation."""
    phrases = []
    for message in catalog:
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        if msgid and len(msgid) >= 12 and "%(" not in msgid:
            phrases.append(msgid)
    return phrases


def visible_text(html: str) -> str:
    main = html.split("<body>", 1)[-1]
    main = re.sub(r"<[^>]+>", " ", main)
    return re.sub(r"\s+", " ", main)


@pytest.mark.parametrize("language,html_lang", [("zh", "zh-Hans"), ("en", "en")])
def test_every_page_in_both_languages(app, cast, catalog, language, html_lang):
    clients = {}
    for role in ("anonymous", "citizen", "entrant", "juror", "organiser", "admin"):
        client = app.test_client()
        if role != "anonymous":
            log_in(client, cast[role].email)
        client.get(f"/lang/{language}")
        clients[role] = client
    phrases = english_phrases(catalog)
    cast = dict(cast, language=language)
    walked = 0
    for endpoint, (role, build, status) in PAGES.items():
        with app.test_request_context():
            url = build(cast)
        response = clients[role].get(url)
        assert response.status_code == status, (endpoint, url)
        if status != 200 or endpoint in NOT_HTML:
            continue
        html = response.get_data(as_text=True)
        assert f'<html lang="{html_lang}">' in html, endpoint
        assert html.count("<h1") == 1, f"{endpoint}: a page has one main heading"
        if language == "zh":
            text = visible_text(html)
            leftovers = [p for p in phrases if p in text]
            assert leftovers == [], f"{endpoint} shows English on a Chinese page: {leftovers}"
        walked += 1
    assert walked == sum(1 for e, (_, _, s) in PAGES.items() if s == 200 and e not in NOT_HTML)
    print(f"walked {walked} pages in {language}")


def test_the_language_switch_changes_the_page(client):
    assert '<html lang="zh-Hans">' in client.get("/").get_data(as_text=True)
    client.get("/lang/en")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Help shape your city" in html
    assert client.get("/lang/fr").status_code == 404


def test_a_first_visit_speaks_the_language_the_browser_asks_for(client):
    """No cookie and Accept-Language English: the page is English; the switch then wins over the header."""
    english = {"Accept-Language": "en-US,en;q=0.9"}
    response = client.get("/", headers=english)
    assert response.status_code == 200 and '<html lang="en">' in response.get_data(as_text=True)
    assert "Accept-Language" in response.headers.get("Vary", "")
    client.get("/lang/zh", headers=english)
    assert '<html lang="zh-Hans">' in client.get("/", headers=english).get_data(as_text=True)


def test_chinese_stays_the_default_for_other_languages(client):
    for header in ("fr-FR,fr;q=0.9", "zh-CN,zh;q=0.9,en;q=0.8", "en;q=0.3,zh-TW;q=0.9", ""):
        html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
        assert '<html lang="zh-Hans">' in html, header


def test_a_static_file_speaks_no_language_and_is_cached_as_one(client):
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    response = client.get(stylesheet, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "Accept-Language" not in response.headers.get("Vary", "")
