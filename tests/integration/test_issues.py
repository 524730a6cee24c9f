"""A call's common issues: organisers tag entries in their own words and see the most frequent tags first; two
near-identical ideas are merged without losing either one's provenance, and no vote moves."""
import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from contest.extensions import db
from contest.minhash import jaccard, shingles
from contest.models import (
    AuditEvent,
    CallKind,
    Channel,
    Entry,
    EntryStatus,
    EntryTag,
    MeetingKind,
    SimilarEntry,
    Tag,
    Vote,
)
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services import issues as issue_service
from contest.services import meetings as meeting_service
from contest.services import public as public_service
from contest.services.entries import EntryData, submit_entry
from contest.services.results import figures
from contest.services.similar import SIMILAR
from tests.helpers import (
    count_rows,
    csrf_token,
    log_in,
    log_out,
    make_call,
    make_organiser,
    make_public_round,
    make_user,
    make_voter,
    post_form,
    zh,
)


def ideas(call, n, prefix="想法"):
    """n approved ideas of the call by n different citizens."""
    entries = []
    for i in range(n):
        author = make_user(f"idea{call.id}-{prefix}-{i}@example.org", name=f"居民{i}")
        with current_app.test_request_context():
            entry = submit_entry(author, call, EntryData(title=f"{prefix}{i}", description="多放几张长椅。",
                                                         topic_id=call.topics[0].id), [], accepted_terms=True)
        entry.status = EntryStatus.APPROVED
        db.session.commit()
        entries.append(entry)
    return entries


def tag(client, call, entries, name, action="add", tag_id=None):
    data = {"name": name, action: "y", "entry": [str(e.id) for e in entries]}
    if tag_id is not None:
        data["tag_id"] = str(tag_id)
    return post_form(client, f"/console/calls/{call.id}/issues", data)


def merge(client, call, entry, into, reason="同一个想法：都希望在小区多放长椅。"):
    page = f"/console/calls/{call.id}/issues"
    return client.post(f"{page}/merge", data={"merge-entry_id": str(entry.id), "merge-into_id": str(into.id),
                                              "merge-reason": reason, "merge-csrf_token": csrf_token(client, page)})


def vote_for(round_, entry, voters):
    with current_app.test_request_context():
        for voter in voters:
            public_service.cast_vote(voter, round_, entry)
    db.session.commit()


def votes_of(entry) -> int:
    return db.session.scalar(select(func.count()).select_from(Vote).where(Vote.entry_id == entry.id))


def test_tags_group_entries_and_the_merge_keeps_provenance(organiser_client, idea_call, transport_organiser):
    kept, other, third = ideas(idea_call, 3)
    with current_app.test_request_context():
        meeting = meeting_service.create_meeting(transport_organiser, idea_call, meeting_service.MeetingData(
            title="田林长桌会", kind=MeetingKind.LONG_TABLE, held_at=utcnow() - timedelta(days=1), attendees=20))
        raised = meeting_service.add_suggestion(transport_organiser, meeting, EntryData(
            title="楼下放长椅", description="老人走累了没地方坐。", topic_id=idea_call.topics[0].id),
            author_name="王阿姨")
    db.session.commit()

    # Tags: the most frequent first, each with its entries.
    assert tag(organiser_client, idea_call, [kept, other, raised], "  座椅  不够 ").status_code == 302
    assert tag(organiser_client, idea_call, [third], "照明").status_code == 302
    assert tag(organiser_client, idea_call, [third, kept], "座椅 不够").status_code == 302  # the same tag
    assert db.session.scalars(select(Tag.name).order_by(Tag.id)).all() == ["座椅 不够", "照明"]
    issues = issue_service.common_issues(idea_call)
    assert [(i.tag.name, i.count, [e.id for e in i.entries]) for i in issues] == [
        ("座椅 不够", 4, sorted([kept.id, other.id, third.id, raised.id])), ("照明", 1, [third.id])]
    page = organiser_client.get(f"/console/calls/{idea_call.id}/issues").get_data(as_text=True)
    assert page.index("座椅 不够") < page.index("照明")

    # Votes in a public round, before the merge.
    round_ = make_public_round(idea_call, transport_organiser, votes=3)
    voters = [make_voter(f"voter{n}@example.org") for n in range(3)]
    vote_for(round_, kept, voters[:1])
    vote_for(round_, raised, voters)

    response = merge(organiser_client, idea_call, raised, kept)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(raised)
    assert (raised.merged_into_id, raised.merged_by_id, raised.merge_reason) == (
        kept.id, transport_organiser.id, "同一个想法：都希望在小区多放长椅。")
    assert raised.merged_at is not None
    # The merged entry keeps its author, channel, meeting, text and votes; the kept one's votes are its own.
    assert (raised.author_name, raised.channel, raised.meeting_id, raised.title, raised.status) == (
        "王阿姨", Channel.MEETING, meeting.id, "楼下放长椅", EntryStatus.APPROVED)
    assert (votes_of(raised), votes_of(kept)) == (3, 1)
    assert public_service.vote_counts(round_) == {raised.id: 3, kept.id: 1}

    visitor = organiser_client.application.test_client()
    kept_page = visitor.get(f"/entries/{kept.id}").get_data(as_text=True)
    assert zh("Also raised by") in kept_page and "楼下放长椅" in kept_page and "王阿姨" in kept_page
    assert zh("Meeting") in kept_page and "田林长桌会" in kept_page and f"/meetings/{meeting.id}" in kept_page
    merged_page = visitor.get(f"/entries/{raised.id}")
    assert merged_page.status_code == 200  # still reachable by its address
    html = merged_page.get_data(as_text=True)
    assert zh("Merged into another entry:") in html and f'href="/entries/{kept.id}"' in html
    assert "同一个想法" in html and "王阿姨" in html
    gallery = visitor.get(f"/calls/{idea_call.id}/entries").get_data(as_text=True)
    assert f"/entries/{kept.id}" in gallery and f"/entries/{raised.id}" not in gallery
    assert figures(idea_call).by_channel == [("web", 3), ("meeting", 1)]  # the figures still count it
    organiser_page = organiser_client.get(f"/console/calls/{idea_call.id}/issues").get_data(as_text=True)
    assert zh("merged into #%(id)d", id=kept.id) in organiser_page

    # Un-merge: back in the gallery, logged.
    page = f"/console/calls/{idea_call.id}/issues"
    response = organiser_client.post(f"/console/entries/{raised.id}/unmerge",
                                     data={"csrf_token": csrf_token(organiser_client, page)})
    assert response.status_code == 302
    db.session.refresh(raised)
    assert (raised.merged_into_id, raised.merged_at, raised.merge_reason) == (None, None, "")
    assert f"/entries/{raised.id}" in visitor.get(f"/calls/{idea_call.id}/entries").get_data(as_text=True)
    assert (votes_of(raised), votes_of(kept)) == (3, 1)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith(("tag.", "entry.merge", "entry.unmerge"))] == [
        "tag.add", "tag.add", "tag.add", "entry.merge", "entry.unmerge"]
    unmerged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "entry.unmerge")).one()
    assert unmerged.detail["was_into"] == kept.id


def test_removing_tags(organiser_client, idea_call):
    a, b, c = ideas(idea_call, 3)
    tag(organiser_client, idea_call, [a, b, c], "停车难")
    tag(organiser_client, idea_call, [a], "绿化")
    parking, green = db.session.scalars(select(Tag).order_by(Tag.id)).all()
    assert tag(organiser_client, idea_call, [a, b], "", action="remove", tag_id=parking.id).status_code == 302
    assert db.session.scalars(select(EntryTag.entry_id).where(EntryTag.tag_id == parking.id)).all() == [c.id]
    assert tag(organiser_client, idea_call, [a], "", action="remove", tag_id=green.id).status_code == 302
    assert db.session.scalars(select(Tag.name)).all() == ["停车难"]  # a tag on no entry is gone
    assert tag(organiser_client, idea_call, [], "", action="delete", tag_id=parking.id).status_code == 302
    assert (count_rows(Tag), count_rows(EntryTag)) == (0, 0)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("tag.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["tag.add", "tag.add", "tag.remove", "tag.remove", "tag.delete", "tag.delete"]


@pytest.mark.parametrize("name,message", [
    ("   ", "Name the issue: a tag cannot be empty."),
    ("长" * 61, "A tag has at most %(n)d characters."),
])
def test_a_bad_tag_is_refused(organiser_client, idea_call, name, message):
    (entry,) = ideas(idea_call, 1)
    response = tag(organiser_client, idea_call, [entry], name)
    assert response.status_code == 400
    variables = {"n": 60} if "%(n)d" in message else {}
    assert zh(message, **variables) in response.get_data(as_text=True)
    assert (count_rows(Tag), count_rows(EntryTag)) == (0, 0)


def test_tagging_needs_entries_of_this_call(organiser_client, idea_call, transport_commission):
    other_call = make_call(transport_commission, kind=CallKind.IDEA, title="口袋公园", images_min=0)
    (mine,) = ideas(idea_call, 1)
    (theirs,) = ideas(other_call, 1, prefix="别处")
    response = tag(organiser_client, idea_call, [], "座椅")
    assert response.status_code == 400 and zh("Select at least one entry.") in response.get_data(as_text=True)
    response = tag(organiser_client, idea_call, [mine, theirs], "座椅")
    assert response.status_code == 400
    assert zh("Only entries of this call can be tagged.") in response.get_data(as_text=True)
    assert (count_rows(Tag), count_rows(EntryTag)) == (0, 0)


def test_bad_merges_are_refused_and_change_nothing(organiser_client, idea_call, transport_commission):
    a, b, c = ideas(idea_call, 3)
    other_call = make_call(transport_commission, kind=CallKind.IDEA, title="口袋公园", images_min=0)
    (elsewhere,) = ideas(other_call, 1, prefix="别处")
    pending = ideas(idea_call, 1, prefix="待审")[0]
    pending.status = EntryStatus.SUBMITTED
    db.session.commit()
    cases = [
        ((a, elsewhere, "理由"), "Only entries of the same call can be merged."),
        ((a, a, "理由"), "An entry cannot be merged into itself."),
        ((a, b, "   "), "Give the reason for the merge: it is shown on both entries."),
        ((a, pending, "理由"), "Only approved entries can be merged."),
    ]
    for (entry, into, reason), message in cases:
        response = merge(organiser_client, idea_call, entry, into, reason)
        assert response.status_code == 400, message
        assert zh(message) in response.get_data(as_text=True), message
    assert merge(organiser_client, idea_call, b, a).status_code == 302
    for (entry, into), message, title in [
        ((b, c), "“%(title)s” is already merged into another entry.", b.title),
        ((c, b), "“%(title)s” is itself merged into another entry: merge into that one instead.", b.title),
        ((a, c), "Other entries are merged into “%(title)s”: un-merge them first, or merge them into the kept "
                 "entry directly.", a.title),
    ]:
        response = merge(organiser_client, idea_call, entry, into)
        assert response.status_code == 400, message
        assert zh(message, title=title) in response.get_data(as_text=True), message
    # Without a CSRF token.
    response = organiser_client.post(f"/console/calls/{idea_call.id}/issues/merge", data={
        "merge-entry_id": str(c.id), "merge-into_id": str(a.id), "merge-reason": "理由"})
    assert response.status_code == 400
    response = organiser_client.post(f"/console/calls/{idea_call.id}/issues", data={
        "name": "座椅", "add": "y", "entry": [str(a.id)]})
    assert response.status_code == 400
    response = organiser_client.post(f"/console/entries/{b.id}/unmerge")
    assert response.status_code == 400
    merged = db.session.scalars(select(Entry.id).where(Entry.merged_into_id.is_not(None))).all()
    assert merged == [b.id] and count_rows(Tag) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "entry.merge")) == 1
    with current_app.test_request_context(), pytest.raises(ServiceError):
        issue_service.merge(make_user("x@example.org"), c, a, "理由")


def test_only_the_calls_organisers_tag_and_merge(client, idea_call, city, transport_organiser, citizen):
    from contest.models import DepartmentKind
    from tests.helpers import make_department

    a, b = ideas(idea_call, 2)
    with current_app.test_request_context():
        issue_service.tag_entries(transport_organiser, idea_call, [a], "座椅")
        issue_service.merge(transport_organiser, b, a, "同一个想法")
    db.session.commit()
    planning = make_department("上海市规划和自然资源局", DepartmentKind.AGENCY, city)
    outsider = make_organiser(planning, "planning@example.org")
    tag_id = db.session.scalar(select(Tag.id))
    for person in (citizen, outsider):
        log_in(client, person.email)
        token = csrf_token(client, "/account/profile")
        assert client.get(f"/console/calls/{idea_call.id}/issues").status_code == 403
        assert client.post(f"/console/calls/{idea_call.id}/issues", data={
            "csrf_token": token, "name": "停车", "add": "y", "entry": [str(a.id), str(b.id)]}).status_code == 403
        assert client.post(f"/console/calls/{idea_call.id}/issues", data={
            "csrf_token": token, "delete": "y", "tag_id": str(tag_id)}).status_code == 403
        assert client.post(f"/console/calls/{idea_call.id}/issues/merge", data={
            "merge-csrf_token": token, "merge-entry_id": str(a.id), "merge-into_id": str(b.id),
            "merge-reason": "x"}).status_code == 403
        assert client.post(f"/console/entries/{b.id}/unmerge", data={"csrf_token": token}).status_code == 403
        log_out(client)
    assert client.get("/console/calls/999999/issues").status_code == 302  # anonymous: log in first
    log_in(client, transport_organiser.email)
    assert client.get("/console/calls/999999/issues").status_code == 404
    assert client.post("/console/entries/999999/unmerge", data={
        "csrf_token": csrf_token(client, "/account/profile")}).status_code == 404
    db.session.refresh(b)
    assert db.session.scalars(select(Tag.name)).all() == ["座椅"] and count_rows(EntryTag) == 1
    assert b.merged_into_id == a.id
    with current_app.test_request_context(), pytest.raises(ServiceError):
        issue_service.tag_entries(outsider, idea_call, [a], "停车")


def test_the_issues_page_runs_a_fixed_number_of_queries(organiser_client, idea_call, transport_organiser,
                                                        count_queries):
    def tagged(n, prefix):
        entries = ideas(idea_call, n, prefix=prefix)
        with current_app.test_request_context():
            for k, name in enumerate(("座椅", "照明", "停车", "绿化", "噪音")):
                issue_service.tag_entries(transport_organiser, idea_call, entries[k::5] or entries[:1], name)
            issue_service.merge(transport_organiser, entries[1], entries[0], "同一个想法")
        db.session.commit()

    page = f"/console/calls/{idea_call.id}/issues"
    tagged(5, "甲")
    organiser_client.get(page)
    with count_queries() as few:
        html = organiser_client.get(page).get_data(as_text=True)
    assert "甲4" in html
    tagged(45, "乙")
    with count_queries() as many:
        html = organiser_client.get(page).get_data(as_text=True)
    assert "乙44" in html and count_rows(EntryTag) == 50
    assert many.n == few.n, many.statements
    print(f"issues page: {few.n} queries with 5 tagged entries, {many.n} with 50")


# Texts that say the same thing ------------------------------------------------------------------------------

NEAR = ("小区门口停车太难了", "晚上回家找不到车位，建议在小区门口划出临时停车位，方便居民停车。")
NEARLY = ("小区门口停车太难", "晚上回家找不到车位！建议在小区门口划出临时停车位，方便居民停车")
APART = ("菜场周末也开门", "希望菜场周末也开门，方便上班的人买菜。")
PAIR = re.compile(r'<li class="card"><p><a href="/entries/(\d+)">.*?<a href="/entries/(\d+)">', re.S)


def sent(call, text, email):
    """An approved idea of the call with this title and description, sent by a citizen of its own."""
    author = make_user(email, name="居民")
    with current_app.test_request_context():
        entry = submit_entry(author, call, EntryData(title=text[0], description=text[1],
                                                     topic_id=call.topics[0].id), [], accepted_terms=True)
    entry.status = EntryStatus.APPROVED
    db.session.commit()
    return entry


def similar_shown(client, call) -> list[tuple[int, int]]:
    page = client.get(f"/console/calls/{call.id}/issues")
    assert page.status_code == 200
    section = page.get_data(as_text=True).split('id="similar-heading"')[1].split("</section>")[0]
    return [(int(a), int(b)) for a, b in PAIR.findall(section)]


def stored_pairs() -> list[tuple[int, int]]:
    return [tuple(r) for r in db.session.execute(select(SimilarEntry.entry_id, SimilarEntry.other_id)
                                                 .order_by(SimilarEntry.entry_id, SimilarEntry.other_id))]


def test_texts_that_say_the_same_thing_are_paired_when_sent_and_shown_to_the_organisers(organiser_client,
                                                                                        idea_call):
    near, nearly = sent(idea_call, NEAR, "near@example.org"), sent(idea_call, NEARLY, "nearly@example.org")
    apart = sent(idea_call, APART, "apart@example.org")
    assert stored_pairs() == [(near.id, nearly.id)]  # found when the texts were written, not when viewed
    similarity = db.session.scalar(select(SimilarEntry.similarity))
    assert similarity == pytest.approx(jaccard(shingles(" ".join(NEAR)), shingles(" ".join(NEARLY))))
    assert similarity >= SIMILAR
    assert similar_shown(organiser_client, idea_call) == [(near.id, nearly.id)]
    assert apart.id not in {i for pair in similar_shown(organiser_client, idea_call) for i in pair}


def test_editing_an_entrys_text_finds_its_pairs_again(organiser_client, another_client, idea_call):
    near, nearly = sent(idea_call, NEAR, "near@example.org"), sent(idea_call, NEARLY, "nearly@example.org")
    apart = sent(idea_call, APART, "apart@example.org")
    log_in(another_client, "nearly@example.org")
    edited = {"title": "菜场周末也要开门", "description": "希望菜场周末也开门，方便上班的人买菜！",
              "topic_id": str(idea_call.topics[0].id), "place_id": "0"}
    assert post_form(another_client, f"/entries/{nearly.id}/edit", edited).status_code == 302
    assert stored_pairs() == [(nearly.id, apart.id)]
    assert similar_shown(organiser_client, idea_call) == [(nearly.id, apart.id)]  # waiting again, still shown
    assert near.id not in {i for pair in similar_shown(organiser_client, idea_call) for i in pair}


def test_merged_entries_leave_the_similar_texts_and_deleted_ones_take_their_pairs(organiser_client, idea_call):
    near, nearly = sent(idea_call, NEAR, "near@example.org"), sent(idea_call, NEARLY, "nearly@example.org")
    assert similar_shown(organiser_client, idea_call) == [(near.id, nearly.id)]
    assert merge(organiser_client, idea_call, nearly, near).status_code == 302
    page = organiser_client.get(f"/console/calls/{idea_call.id}/issues").get_data(as_text=True)
    assert zh("No two entries say the same thing.") in page.split('id="similar-heading"')[1].split("</section>")[0]
    assert stored_pairs() == [(near.id, nearly.id)]  # kept: un-merging shows it again
    db.session.delete(db.session.get(Entry, nearly.id))
    db.session.commit()
    assert stored_pairs() == []
