"""City scale: a round page costs the same queries whatever the round's size, shows one page of entries at a time
(a seek on the id, never a deep OFFSET), and the main queries of the round pages are served by indexes."""
import re

import pytest
from sqlalchemy import insert, select, text, update

from contest.extensions import db
from contest.models import Channel, Comparison, Entry, EntryStatus, ParticipantGroup, User, Vote
from contest.models.types import utcnow
from contest.services import public as public_service
from contest.services.counts import recount
from contest.services.public.settings import ROUND_PAGE
from contest.services.rounds import entries_in_round
from tests.helpers import approved_entries, make_public_round, query_plan, zh_n

CARD = re.compile(r'class="entry-card" id="entry-(\d+)"')


def more_entries(call, n: int, first: int = 0) -> list[int]:
    """n approved entries without pictures by n citizens, written in bulk (the pages only list them)."""
    now = utcnow()
    authors = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
        {"email": f"bulk{call.id}-{first + k}@example.org", "password_hash": "not-a-hash",
         "display_name": f"市民{k}", "group": ParticipantGroup.CITIZEN, "locale": "zh", "is_admin": False,
         "created_at": now, "email_confirmed_at": now} for k in range(n)]))
    ids = list(db.session.scalars(insert(Entry).returning(Entry.id, sort_by_parameter_order=True), [
        {"call_id": call.id, "author_id": a, "slot": 1, "channel": Channel.WEB, "status": EntryStatus.APPROVED,
         "title": f"建议{first + k}：小区停车难", "description": "错峰开放停车场。", "licence_accepted_at": now,
         "created_at": now, "updated_at": now, "moderated_at": now, "rejection_reason": ""}
        for k, a in enumerate(authors)]))
    recount(db.session.connection(), [call.id])  # past the session: counted as its hook would
    db.session.commit()
    return ids


@pytest.mark.parametrize("mode", ["votes", "pairwise"])
def test_a_round_page_runs_the_same_queries_whatever_the_rounds_size(client, railing_call, transport_organiser,
                                                                     count_queries, mode):
    approved_entries(railing_call, 3)
    round_ = make_public_round(railing_call, transport_organiser, mode=mode, hide_counts=False)
    page = f"/rounds/{round_.id}"
    client.get(page)  # warm: the first request of an app loads what later ones reuse
    with count_queries() as small:
        html = client.get(page).get_data(as_text=True)
    assert len(CARD.findall(html)) == 3 and "rel=\"next\"" not in html

    more_entries(railing_call, 2 * ROUND_PAGE)
    with count_queries() as big:
        html = client.get(page).get_data(as_text=True)
    shown = [int(i) for i in CARD.findall(html)]
    assert len(shown) == ROUND_PAGE
    assert big.n == small.n, "\n".join(big.statements)


def _comparisons(round_, entry_ids: list[int], voter_id: int, n: int, first: int = 0) -> None:
    """n answers of one citizen in bulk, to pairs of neighbouring entries (each pair once), the lower id winning."""
    now = utcnow()
    pairs = [(entry_ids[k % len(entry_ids)], entry_ids[(k + 1 + k // len(entry_ids)) % len(entry_ids)])
             for k in range(first, first + n)]
    db.session.execute(insert(Comparison), [
        {"round_id": round_.id, "user_id": voter_id, "nonce": f"bulk{k}", "left_id": a, "right_id": b,
         "low_id": min(a, b), "high_id": max(a, b), "winner_id": min(a, b), "created_at": now, "address": "",
         "voided_reason": ""} for k, (a, b) in enumerate(pairs, start=first)])
    db.session.commit()


def test_a_pairwise_round_page_reads_its_stored_fit_whatever_the_rounds_size(client, railing_call,
                                                                             transport_organiser, count_queries):
    """The page shows the chances of its own entries, read from the stored fit: no fit of every answer per view."""
    small_ids = more_entries(railing_call, 3)
    voter = db.session.scalar(select(User).where(User.email == f"bulk{railing_call.id}-0@example.org"))
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise", hide_counts=False)
    _comparisons(round_, small_ids, voter.id, 3)
    page = f"/rounds/{round_.id}"
    client.get(page)  # makes the fit
    with count_queries() as small:
        client.get(page)

    big_ids = small_ids + more_entries(railing_call, 2 * ROUND_PAGE, first=3)
    other = db.session.scalar(select(User).where(User.email == f"bulk{railing_call.id}-1@example.org"))
    _comparisons(round_, big_ids, other.id, 600, first=3)
    db.session.execute(text("UPDATE round SET standing_made_at = NULL WHERE id = :id"), {"id": round_.id})
    db.session.commit()
    client.get(page)  # the fit is made again, with every answer
    with count_queries() as big:
        html = client.get(page).get_data(as_text=True)
    assert big.n == small.n, "\n".join(big.statements)
    assert not any("FROM comparison" in s and "winner_id" in s for s in big.statements)
    assert len(CARD.findall(html)) == ROUND_PAGE
    assert public_service.stored_standing(round_, big_ids) == pytest.approx(
        public_service.pairwise_scores(round_), abs=1e-12)


def test_the_round_pages_follow_one_another_by_the_entry_id(client, railing_call, transport_organiser):
    ids = more_entries(railing_call, 2 * ROUND_PAGE + 5)
    round_ = make_public_round(railing_call, transport_organiser, mode="votes", hide_counts=False)
    seen, page = [], f"/rounds/{round_.id}"
    while page:
        html = client.get(page).get_data(as_text=True)
        seen += [int(i) for i in CARD.findall(html)]
        following = re.search(r'href="([^"]+)" rel="next"', html)
        page = following.group(1).replace("&amp;", "&") if following else None
    assert seen == sorted(ids)  # every entry once, in order, over three pages


def test_a_page_of_a_votes_round_shows_the_counts_of_its_entries(client, railing_call, transport_organiser):
    ids = more_entries(railing_call, ROUND_PAGE + 2)
    round_ = make_public_round(railing_call, transport_organiser, mode="votes", hide_counts=False)
    voter = db.session.scalar(select(User).where(User.email == f"bulk{railing_call.id}-0@example.org"))
    now = utcnow()
    db.session.execute(insert(Vote), [{"round_id": round_.id, "user_id": voter.id, "entry_id": e, "created_at": now,
                                       "address": "", "voided_reason": ""} for e in (ids[1], ids[-1])])
    db.session.commit()
    assert public_service.vote_counts(round_, ids[:ROUND_PAGE]) == {ids[1]: 1}
    assert public_service.vote_counts(round_) == {ids[1]: 1, ids[-1]: 1}
    last = client.get(f"/rounds/{round_.id}?start={ids[ROUND_PAGE]}").get_data(as_text=True)
    assert [int(i) for i in CARD.findall(last)] == ids[ROUND_PAGE:]
    assert last.count(zh_n("%(num)d vote", "%(num)d votes", 1)) == 1  # ids[-1]'s, not ids[1]'s of the first page


def _full_scans(plan: str) -> list[str]:
    """The entry, vote and comparison tables read whole: "Seq Scan on vote" (PostgreSQL), "SCAN vote" (SQLite, which
    says SEARCH when it uses an index)."""
    return re.findall(r"(?:Seq Scan on|^SCAN) (entry|vote|comparison)\b", plan, re.M)


def test_the_main_queries_of_a_round_are_served_by_indexes(app, railing_call, transport_organiser):
    ids = more_entries(railing_call, 50)
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise", hide_counts=False)
    statements = {
        "the round's entries, a page": select(Entry.id).where(Entry.id.in_(entries_in_round(round_.id)),
                                                              Entry.id >= ids[10]).order_by(Entry.id).limit(61),
        "a page's vote counts": select(Vote.entry_id, db.func.count()).where(
            Vote.round_id == round_.id, Vote.voided_at.is_(None), Vote.entry_id.in_(ids[:5])).group_by(Vote.entry_id),
        "an entry's comparisons as left": select(db.func.count()).select_from(Comparison).where(
            Comparison.left_id == ids[0]),
        "an entry's comparisons as right": select(db.func.count()).select_from(Comparison).where(
            Comparison.right_id == ids[0]),
        "an entry's wins": select(db.func.count()).select_from(Comparison).where(Comparison.winner_id == ids[0]),
    }
    scans = {name: _full_scans(query_plan(stmt)) for name, stmt in statements.items()}
    assert scans == {name: [] for name in statements}, {name: query_plan(s) for name, s in statements.items()}


def _published_call(department, organiser, size: int, first: int):
    from datetime import timedelta

    from flask import current_app

    from contest.services import results as results_service
    from tests.helpers import make_call

    call = make_call(department, title=f"金点子征集{first}", state="closed")
    more_entries(call, size, first=first)
    round_ = make_public_round(call, organiser, mode="votes", hide_counts=False)
    round_.opens_at, round_.closes_at = utcnow() - timedelta(days=3), utcnow() - timedelta(days=1)
    db.session.commit()
    with current_app.test_request_context():
        results_service.publish(organiser, call, 7, None)
    db.session.commit()
    return call


def test_the_results_page_shows_a_page_of_the_ranking_in_the_same_queries(client, transport_commission,
                                                                          transport_organiser, count_queries):
    from contest.services.results import RESULTS_PAGE

    small = _published_call(transport_commission, transport_organiser, 5, first=0)
    big = _published_call(transport_commission, transport_organiser, RESULTS_PAGE + 30, first=1000)
    client.get(f"/calls/{small.id}/results")  # warm
    with count_queries() as few:
        small_html = client.get(f"/calls/{small.id}/results").get_data(as_text=True)
    with count_queries() as many:
        big_html = client.get(f"/calls/{big.id}/results").get_data(as_text=True)
    ranked = re.compile(r'<tr[^>]*>\s*<td>\d+</td>')
    assert len(ranked.findall(small_html)) == 5 and 'rel="next"' not in small_html
    assert len(ranked.findall(big_html)) == RESULTS_PAGE and 'rel="next"' in big_html
    second = client.get(f"/calls/{big.id}/results?page=2").get_data(as_text=True)
    assert len(ranked.findall(second)) == 30 and 'rel="prev"' in second
    assert many.n == few.n, "\n".join(many.statements)


def test_a_citizen_objects_to_an_entry_far_down_the_ranking_by_its_number(client, transport_commission,
                                                                         transport_organiser):
    """The objection form asks for the number shown beside each entry (no list of the page's entries to choose
    from); a number that is no entry of this call is refused with a message that says so; empty, it is the results
    as a whole."""
    from contest.models import Objection
    from contest.services.results import RESULTS_PAGE
    from tests.helpers import log_in, make_user, post_form, zh

    call = _published_call(transport_commission, transport_organiser, RESULTS_PAGE + 30, first=0)
    elsewhere = _published_call(transport_commission, transport_organiser, 2, first=5000)
    results = f"/calls/{call.id}/results"
    log_in(client, make_user("objector@example.org").email)
    first = client.get(results).get_data(as_text=True)
    assert re.search(r'<input[^>]+name="entry_id"', first) and "<select" not in first
    second = client.get(results + "?page=2").get_data(as_text=True)
    far = int(re.findall(r'<a href="/entries/(\d+)">', second)[-1])
    assert zh("No. %(number)d", number=far) in second  # the number a citizen types is beside the title

    def objecting(number: str) -> str:
        return post_form(client, results + "/objections", {"entry_id": number, "reason": "计票有误，请复核。"},
                         page=results, follow_redirects=True).get_data(as_text=True)

    assert zh("Your objection is filed. The organisers answer it publicly on this page.") in objecting(str(far))
    assert db.session.scalar(select(Objection.entry_id)) == far
    other = db.session.scalar(select(Entry.id).where(Entry.call_id == elsewhere.id))
    assert zh("No entry of this call has the number %(number)d.", number=other) in objecting(f" {other} ")
    assert zh("Give the entry's number in digits, e.g. 1024, or leave it empty to object to the results as a "
              "whole.") in objecting("第12号")
    assert db.session.scalar(select(db.func.count()).select_from(Objection)) == 1
    objecting("")
    assert sorted(db.session.scalars(select(Objection.entry_id)), key=str) == [far, None]


def test_the_next_pair_reads_counts_by_entry_that_equal_counting_every_comparison(app, railing_call,
                                                                                  transport_organiser):
    import random
    from collections import Counter

    from contest.services.public.pairs import _appearances, _PairCounts

    ids = more_entries(railing_call, 12)
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise", hide_counts=False)
    voters = list(db.session.scalars(select(User.id).where(User.email.like(f"bulk{railing_call.id}-%"))))
    rng, rows, now = random.Random(7), [], utcnow()
    for n, voter in enumerate(voters):
        for left, right in {tuple(rng.sample(ids, 2)) for _ in range(8)}:
            if any(r["user_id"] == voter and {r["left_id"], r["right_id"]} == {left, right} for r in rows):
                continue
            rows.append({"round_id": round_.id, "user_id": voter, "nonce": f"{n}-{left}-{right}", "left_id": left,
                         "right_id": right, "winner_id": left, "created_at": now, "address": "",
                         "voided_at": now if len(rows) % 9 == 0 else None, "voided_reason": ""})
    db.session.execute(insert(Comparison), rows)
    db.session.commit()
    counted = [r for r in rows if r["voided_at"] is None]
    appearances = Counter([r["left_id"] for r in counted] + [r["right_id"] for r in counted])
    pairs = Counter(frozenset((r["left_id"], r["right_id"])) for r in counted)
    assert _appearances(round_) == appearances
    lazily = _PairCounts(round_)
    first = ids[3]
    assert {e: lazily.get(frozenset((first, e)), 0) for e in ids if e != first} == \
        {e: pairs.get(frozenset((first, e)), 0) for e in ids if e != first}
    assert lazily.get(frozenset((ids[0], ids[1])), 0) == pairs.get(frozenset((ids[0], ids[1])), 0)


def _votes_for(round_, ids: list[int], per_entry) -> None:
    """Votes in bulk: entry ids[k] gets per_entry(k) votes, from the bulk citizens of the round's call (old
    accounts: no burst)."""
    from datetime import timedelta

    from sqlalchemy import update

    now = utcnow()
    bulk = User.email.like(f"bulk{round_.call_id}-%")
    db.session.execute(update(User).where(bulk).values(created_at=now - timedelta(days=365)))
    voters = list(db.session.scalars(select(User.id).where(bulk).order_by(User.id)))
    db.session.execute(insert(Vote), [
        {"round_id": round_.id, "user_id": voters[v], "entry_id": e, "created_at": now, "address": f"10.0.{v}.1",
         "voided_reason": ""} for k, e in enumerate(ids) for v in range(per_entry(k))])
    db.session.commit()


RESULT_ROW = re.compile(r'<tr><td><a href="/entries/(\d+)">#\d+ ')


def test_the_organisers_round_page_runs_the_same_queries_whatever_the_rounds_size(
        client, railing_call, transport_organiser, count_queries):
    from tests.helpers import log_in

    round_ = make_public_round(railing_call, transport_organiser, mode="votes", hide_counts=False)
    small = more_entries(railing_call, 20)
    _votes_for(round_, small, lambda k: 1 + k % 3)
    log_in(client, transport_organiser.email)
    page = f"/console/rounds/{round_.id}/"
    client.get(page)  # warm
    with count_queries() as few:
        html = client.get(page).get_data(as_text=True)
    assert len(RESULT_ROW.findall(html)) == 20 and 'rel="next"' not in html

    big = more_entries(railing_call, 3 * public_service.STANDINGS_PAGE, first=100)
    _votes_for(round_, big, lambda k: 1 + k % 5)
    with count_queries() as many:
        html = client.get(page).get_data(as_text=True)
    assert len(RESULT_ROW.findall(html)) == public_service.STANDINGS_PAGE and 'rel="next"' in html
    assert many.n == few.n, "\n".join(many.statements)


def test_the_organisers_results_so_far_follow_one_another_by_a_seek(client, railing_call, transport_organiser):
    from tests.helpers import log_in

    round_ = make_public_round(railing_call, transport_organiser, mode="votes", hide_counts=False)
    ids = more_entries(railing_call, 2 * public_service.STANDINGS_PAGE + 7)
    _votes_for(round_, ids, lambda k: 1 + k % 4)  # many ties: the seek goes on by entry id within a count
    log_in(client, transport_organiser.email)
    seen, page = [], f"/console/rounds/{round_.id}/"
    while page:
        html = client.get(page).get_data(as_text=True)
        seen += [int(i) for i in RESULT_ROW.findall(html)]
        following = re.search(r'href="([^"]+)" rel="next"', html)
        page = following.group(1).replace("&amp;", "&") if following else None
    expected = sorted(ids, key=lambda e: (-(1 + ids.index(e) % 4), e))
    assert seen == expected  # every entry once, the most votes first, over three pages


def test_bursts_are_found_in_sql_among_new_accounts_only(app, railing_call, transport_organiser):
    from datetime import timedelta

    round_ = make_public_round(railing_call, transport_organiser, mode="votes", hide_counts=False)
    ids = more_entries(railing_call, 12)
    voters = list(db.session.scalars(select(User).where(User.email.like(f"bulk{railing_call.id}-%"))
                                     .order_by(User.id)))
    now = utcnow().replace(minute=10)
    for n, voter in enumerate(voters):  # the first eight accounts are a day old, the others a year
        voter.created_at = now - (timedelta(days=1) if n < 8 else timedelta(days=365))
    round_.opens_at = now - timedelta(days=2)
    db.session.execute(insert(Vote), [
        {"round_id": round_.id, "user_id": v.id, "entry_id": ids[0], "created_at": now + timedelta(minutes=n),
         "address": "", "voided_reason": ""} for n, v in enumerate(voters)])
    db.session.commit()
    found = public_service.bursts(round_, threshold=5)
    assert [(b.entry_id, b.count) for b in found] == [(ids[0], 8)]
    assert found[0].ids == sorted(found[0].ids) and len(found[0].ids) == 8


def test_the_integrity_queries_are_served_by_indexes(app, railing_call, transport_organiser):
    round_ = make_public_round(railing_call, transport_organiser, mode="votes", hide_counts=False)
    more_entries(railing_call, 30)
    addresses = (select(Vote.address, db.func.count(db.func.distinct(Vote.user_id))).where(
        Vote.round_id == round_.id, Vote.voided_at.is_(None), Vote.address != "").group_by(Vote.address))
    counted = (select(Vote.entry_id, db.func.count()).where(Vote.round_id == round_.id, Vote.voided_at.is_(None))
               .group_by(Vote.entry_id).order_by(db.func.count().desc(), Vote.entry_id).limit(51))
    new_accounts = (select(Vote.id).join(User, User.id == Vote.user_id)
                    .where(Vote.round_id == round_.id, User.created_at >= utcnow()))
    scans = {name: _full_scans(query_plan(stmt)) for name, stmt in
             {"addresses": addresses, "counts": counted, "new accounts' votes": new_accounts}.items()}
    assert scans == {"addresses": [], "counts": [], "new accounts' votes": []}
    for model in (Vote, Comparison):  # the few voided ballots of a round, not found among all its counted ones
        plan = query_plan(select(model.voided_reason, db.func.count()).where(
            model.round_id == round_.id, model.voided_at.is_not(None)).group_by(model.voided_reason))
        assert f"ix_{model.__tablename__}_voided" in plan and not _full_scans(plan), plan


def test_the_organisers_round_page_counts_the_ballots_of_its_hours(client, railing_call, transport_organiser):
    """The ballots counted, said above the results, are the sum of the ballots per hour (read once): old and new
    accounts alike, the voided ones apart."""
    from datetime import timedelta

    from tests.helpers import log_in

    round_ = make_public_round(railing_call, transport_organiser, mode="votes", hide_counts=False)
    ids = more_entries(railing_call, 6)
    _votes_for(round_, ids, lambda k: 1 + k % 3)  # 12 ballots of old accounts
    voters = list(db.session.scalars(select(User).where(User.email.like(f"bulk{railing_call.id}-%"))
                                     .order_by(User.id)))
    voters[2].created_at = utcnow() - timedelta(hours=1)  # now a new account: its two ballots count as new
    one = db.session.scalar(select(Vote.id).where(Vote.round_id == round_.id, Vote.user_id == voters[0].id))
    db.session.execute(update(Vote).where(Vote.id == one).values(voided_at=utcnow(), voided_reason="bought"))
    db.session.commit()
    log_in(client, transport_organiser.email)
    html = client.get(f"/console/rounds/{round_.id}/").get_data(as_text=True)
    table = re.search(r'<table class="ballots-per-hour">.*?</table>', html, re.S).group(0)
    hours = [(int(n), int(new)) for n, new in re.findall(r"</time></td><td>(\d+)</td><td>(\d+)</td>", table)]
    assert (sum(n for n, _new in hours), sum(new for _n, new in hours)) == (11, 2)
    assert zh_n("%(num)d ballot counted.", "%(num)d ballots counted.", 11) in html


TAGGABLE = re.compile(r'<input type="checkbox" id="entry-(\d+)" name="entry"')


def _tag_in_bulk(call, organiser, ids: list[int], name: str) -> None:
    from contest.models import EntryTag, Tag

    tag = db.session.scalar(select(Tag).where(Tag.call_id == call.id, Tag.name == name))
    if tag is None:
        tag = Tag(call_id=call.id, name=name, created_by_id=organiser.id)
        db.session.add(tag)
        db.session.flush()
    db.session.execute(insert(EntryTag), [{"entry_id": e, "tag_id": tag.id, "tagged_at": utcnow(),
                                           "tagged_by_id": organiser.id} for e in ids])
    db.session.commit()


def test_the_common_issues_view_runs_the_same_queries_whatever_the_calls_size(
        client, idea_call, transport_organiser, count_queries):
    from contest.services.issues import ENTRIES_PAGE, ISSUE_ENTRIES_SHOWN
    from tests.helpers import log_in

    small = more_entries(idea_call, 20)
    _tag_in_bulk(idea_call, transport_organiser, small[:5], "停车与快递")
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{idea_call.id}/issues"
    client.get(page)  # warm
    with count_queries() as few:
        html = client.get(page).get_data(as_text=True)
    assert 20 <= len(TAGGABLE.findall(html)) <= ENTRIES_PAGE and 'rel="next"' not in html

    big = more_entries(idea_call, 3 * ENTRIES_PAGE, first=100)
    _tag_in_bulk(idea_call, transport_organiser, big, "停车与快递")
    with count_queries() as many:
        html = client.get(page).get_data(as_text=True)
    assert len(TAGGABLE.findall(html)) == ENTRIES_PAGE and 'rel="next"' in html
    assert "<select" not in html.split('id="merge-heading"')[1]  # the merge form takes entry numbers
    listed = re.search(r'id="issue-\d+".*?</ul>', html, re.S).group(0)
    assert listed.count("<li>") == ISSUE_ENTRIES_SHOWN
    assert many.n == few.n, "\n".join(many.statements)


def test_the_entries_to_tag_follow_one_another_by_a_seek_and_filter_by_tag(client, idea_call,
                                                                          transport_organiser):
    from contest.models import EntryStatus as Status
    from contest.services.issues import ENTRIES_PAGE
    from tests.helpers import log_in

    ids = more_entries(idea_call, 2 * ENTRIES_PAGE + 3)
    taggable = sorted(db.session.scalars(select(Entry.id).where(
        Entry.call_id == idea_call.id, Entry.status.in_([Status.APPROVED, Status.SUBMITTED]))))
    _tag_in_bulk(idea_call, transport_organiser, ids[::7], "适老化")
    log_in(client, transport_organiser.email)

    def walk(page):
        seen = []
        while page:
            html = client.get(page).get_data(as_text=True)
            seen += [int(i) for i in TAGGABLE.findall(html)]
            following = re.search(r'href="([^"]+)" rel="next"', html)
            page = following.group(1).replace("&amp;", "&") if following else None
        return seen

    assert walk(f"/console/calls/{idea_call.id}/issues") == taggable  # every entry once, in order
    from contest.models import Tag
    tag = db.session.scalar(select(Tag).where(Tag.call_id == idea_call.id, Tag.name == "适老化"))
    assert walk(f"/console/calls/{idea_call.id}/issues?tag={tag.id}") == ids[::7]


ADOPTED = re.compile(r'<h3 id="follow-up-(\d+)-title">')


def test_the_organisers_follow_up_runs_the_same_queries_and_pages_by_a_seek(client, idea_call, transport_organiser,
                                                                            count_queries):
    from datetime import timedelta

    from contest.models import FollowUp, FollowUpStage
    from contest.services.followup import FOLLOW_UPS_PAGE
    from tests.helpers import log_in

    idea_call.results_published_at = utcnow()
    now = utcnow()

    def adopt_in_bulk(ids, first):  # some share a moment: the seek goes on by id among them
        return list(db.session.scalars(insert(FollowUp).returning(FollowUp.id, sort_by_parameter_order=True), [
            {"call_id": idea_call.id, "entry_id": e, "stage": FollowUpStage.ADOPTED, "progress": 0,
             "created_at": now, "updated_at": now - timedelta(minutes=(first + k) // 3)}
            for k, e in enumerate(ids)]))

    adopted = adopt_in_bulk(more_entries(idea_call, 3), 0)
    db.session.commit()
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{idea_call.id}/follow-up"
    client.get(page)  # warm
    with count_queries() as few:
        html = client.get(page).get_data(as_text=True)
    assert len(ADOPTED.findall(html)) == 3 and 'rel="next"' not in html
    adopted += adopt_in_bulk(more_entries(idea_call, 2 * FOLLOW_UPS_PAGE, first=100), 3)
    db.session.commit()
    with count_queries() as many:
        html = client.get(page).get_data(as_text=True)
    assert len(ADOPTED.findall(html)) == FOLLOW_UPS_PAGE and 'rel="next"' in html
    assert many.n == few.n, "\n".join(many.statements)
    seen = []
    while page:
        html = client.get(page).get_data(as_text=True)
        seen += [int(i) for i in ADOPTED.findall(html)]
        following = re.search(r'href="([^"]+)" rel="next"', html)
        page = following.group(1).replace("&amp;", "&") if following else None
    rows = {f.id: (f.updated_at, f.id) for f in db.session.scalars(select(FollowUp))}
    assert seen == sorted(adopted, key=lambda i: rows[i], reverse=True)  # each once, the latest updated first


GALLERY_CARD = re.compile(r'class="entry-card">\s*<a href="/entries/(\d+)"')


def _gallery_pages(client, url: str, rel: str = "next") -> list[list[int]]:
    """The entries of each page of a gallery, following its `rel` links from `url` to the end."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append([int(i) for i in GALLERY_CARD.findall(html)])
        following = re.search(rf'href="([^"]+)" rel="{rel}"', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    return pages


def _link_to_last_page(html: str) -> str:
    return re.search(r'href="([^"]*last=1[^"]*)"', html).group(1).replace("&amp;", "&")


def test_the_gallery_follows_its_pages_by_a_seek_and_reaches_its_last_page_in_the_same_queries(
        client, idea_call, count_queries):
    """Newest first, twelve a page: every entry once over three pages, by a seek on the id (no OFFSET); the last
    page is a link from the first and costs the queries the first does, however many entries come before it."""
    base = f"/calls/{idea_call.id}/entries?per_page=12&channel=web"
    ids = more_entries(idea_call, 2 * 12 + 5)
    pages = _gallery_pages(client, base)
    assert [len(p) for p in pages] == [12, 12, 5] and sum(pages, []) == sorted(ids, reverse=True)
    first = client.get(base).get_data(as_text=True)
    assert "channel=web" in _link_to_last_page(first)  # the filters (words, the page's size) stay in the URL
    backwards = _gallery_pages(client, _link_to_last_page(first), rel="prev")
    assert sum(reversed(backwards), []) == sorted(ids, reverse=True)
    assert backwards[0] == sorted(ids, reverse=True)[-12:]  # the last page: the twelve oldest

    plain = f"/calls/{idea_call.id}/entries?per_page=12"  # no words: every entry of the call, counted
    last = _link_to_last_page(client.get(plain).get_data(as_text=True))
    with count_queries() as small:
        client.get(last)
    more_entries(idea_call, 60, first=100)
    with count_queries() as big:
        html = client.get(last).get_data(as_text=True)
    assert [int(i) for i in GALLERY_CARD.findall(html)] == sorted(ids, reverse=True)[-12:]
    assert big.n == small.n, "\n".join(big.statements)
    # (SQLite's statements always say "LIMIT ? OFFSET ?", with 0; PostgreSQL's say OFFSET only when there is one.)
    assert db.engine.dialect.name != "postgresql" or not any("OFFSET" in s for s in big.statements), big.statements


def test_the_gallery_shuffled_during_a_public_round_shows_every_entry_once_forwards_and_backwards(
        client, idea_call, transport_organiser):
    ids = more_entries(idea_call, 2 * 12 + 5)
    make_public_round(idea_call, transport_organiser, mode="votes")
    db.session.expire_all()  # the call's rounds, loaded before this one was made
    base = f"/calls/{idea_call.id}/entries?per_page=12"
    pages = _gallery_pages(client, base)
    shown = sum(pages, [])
    assert sorted(shown) == sorted(ids) and shown != sorted(ids, reverse=True)  # the visitor's own order
    backwards = _gallery_pages(client, _link_to_last_page(client.get(base).get_data(as_text=True)), rel="prev")
    assert sum(reversed(backwards), []) == shown


def test_the_api_follows_a_calls_entries_by_a_seek(client, idea_call):
    ids = more_entries(idea_call, 25)
    seen, url = [], f"/api/v1/calls/{idea_call.id}/entries?per_page=10"
    while url:
        body = client.get(url).get_json()
        assert body["total"] == 25 and body["total_capped"] is False
        seen.append([e["id"] for e in body["items"]])
        url = body["next"] and body["next"].removeprefix("http://localhost")
    assert [len(p) for p in seen] == [10, 10, 5] and sum(seen, []) == sorted(ids, reverse=True)
    last = client.get(f"/api/v1/calls/{idea_call.id}/entries?per_page=10&last=1").get_json()
    assert [e["id"] for e in last["items"]] == sorted(ids, reverse=True)[-10:] and last["next"] is None
    assert "before=" in last["prev"]
    refused = client.get(f"/api/v1/calls/{idea_call.id}/entries?page=3")
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_parameter"


def test_the_gallerys_filter_choices_are_served_by_indexes(app, idea_call, transport_organiser):
    """Which topics, themes, places and channels a call's public entries use, each read from an index of the call's
    public entries by that column (one probe per value used), not from the call's entries read whole."""
    from contest.models import CallTheme, Department
    from contest.services import search

    ids = more_entries(idea_call, 300)  # enough rows for the planner to tell an index read at its first row
    theme = CallTheme(call_id=idea_call.id, name="适老化")
    db.session.add(theme)
    db.session.flush()
    place = db.session.scalar(select(Department.id).limit(1))
    db.session.execute(update(Entry).where(Entry.id.in_(ids[::3])).values(topic_id=idea_call.topics[0].id))
    db.session.execute(update(Entry).where(Entry.id.in_(ids[1::3])).values(topic_id=idea_call.topics[1].id))
    db.session.execute(update(Entry).where(Entry.id.in_(ids[::5])).values(theme_id=theme.id))
    db.session.execute(update(Entry).where(Entry.id.in_(ids[::4])).values(place_id=place))
    db.session.commit()
    _tag_in_bulk(idea_call, transport_organiser, ids[:3], "停车")
    choices = search.filter_choices(idea_call)
    assert ([t for t, _ in choices.topics], [t for t, _ in choices.themes], [p for p, _ in choices.places],
            choices.channels) == ([t.id for t in idea_call.topics[:2]], [theme.id], [place], [Channel.WEB])
    db.session.execute(text("ANALYZE"))
    plans = {name: query_plan(stmt, run=True) for name, stmt in search.choice_statements(idea_call).items()}
    assert set(plans) == {"topic", "theme", "place", "channel", "tag"}
    assert {name: _full_scans(plan) for name, plan in plans.items()} == {name: [] for name in plans}
    for name in ("topic", "theme", "place", "channel"):
        assert plans[name].count(f"ix_entry_public_{name}") == 2, (name, plans[name])  # the first value, the next
        assert not re.search(r"ix_entry_gallery|Sort|HashAggregate|TEMP B-TREE", plans[name]), (name, plans[name])


PAIR = re.compile(r'<li class="card"><p><a href="/entries/(\d+)">.*?<a href="/entries/(\d+)">', re.S)


def _indexed(ids: list[int]) -> list[int]:
    """Entries written in bulk, indexed as bench/city.py indexes them (words, bands and similar entries)."""
    from contest.services.search import index_entries

    index_entries(db.session.connection(), ids)
    db.session.commit()
    return ids


def _pairs_shown(html: str) -> list[tuple[int, int]]:
    section = html.split('id="similar-heading"')[1].split("</section>")[0]
    return [(int(a), int(b)) for a, b in PAIR.findall(section)]


def test_the_common_issues_view_reads_its_similar_texts_in_the_same_queries_whatever_their_number(
        client, idea_call, transport_organiser, count_queries):
    """more_entries' texts differ by their number only: every entry says what every other says, so that every
    band's bucket holds them all. Finding an entry's pairs reads a few of each bucket; the view reads a page."""
    from contest.models import SimilarEntry
    from contest.services.issues import SIMILAR_PAIRS
    from contest.services.similar import KEPT
    from tests.helpers import count_rows, log_in

    _indexed(more_entries(idea_call, 6))
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{idea_call.id}/issues"
    client.get(page)  # warm
    with count_queries() as few:
        html = client.get(page).get_data(as_text=True)
    assert 1 <= len(_pairs_shown(html)) < SIMILAR_PAIRS and "pairs_after=" not in html

    _indexed(more_entries(idea_call, 150, first=100))
    with count_queries() as many:
        html = client.get(page).get_data(as_text=True)
    assert len(_pairs_shown(html)) == SIMILAR_PAIRS and "pairs_after=" in html
    assert many.n == few.n, "\n".join(many.statements)
    assert count_rows(SimilarEntry) <= KEPT * 156  # a few pairs an entry, not every pair of the 156


def test_the_similar_texts_follow_one_another_by_a_seek(client, idea_call, transport_organiser):
    from contest.models import SimilarEntry
    from tests.helpers import log_in

    _indexed(more_entries(idea_call, 40))
    stored = [(e, o) for _s, e, o in db.session.execute(
        select(SimilarEntry.similarity, SimilarEntry.entry_id, SimilarEntry.other_id)
        .order_by(SimilarEntry.similarity.desc(), SimilarEntry.entry_id.desc(), SimilarEntry.other_id.desc()))]
    log_in(client, transport_organiser.email)
    page, seen = f"/console/calls/{idea_call.id}/issues", []
    while page:
        html = client.get(page).get_data(as_text=True)
        seen += _pairs_shown(html)
        following = re.search(r'href="([^"]+pairs_after=[^"]+)" rel="next"', html)
        page = following.group(1).replace("&amp;", "&") if following else None
    assert len(stored) > 30 and seen == stored  # every pair once, in order


def test_the_queries_of_similar_texts_are_served_by_indexes(app, idea_call):
    from contest.minhash import text_bands
    from contest.services.issues import similar_pairs_query
    from contest.services.similar import candidates_query

    ids = _indexed(more_entries(idea_call, 30))
    values = text_bands("建议7：小区停车难 错峰开放停车场。")
    statements = {"a page of pairs": similar_pairs_query(idea_call, "0.9_5_9", 31),
                  "an entry's candidates": candidates_query(idea_call.id, values, ids[7]),
                  "a new text's candidates": candidates_query(idea_call.id, values)}
    scans = {name: re.findall(r"(?:Seq Scan on|^SCAN) (entry|similar_entry|entry_band)\b", query_plan(stmt), re.M)
             for name, stmt in statements.items()}
    assert scans == {name: [] for name in statements}, {name: query_plan(s) for name, s in statements.items()}


def test_a_page_of_a_rounds_entries_seeks_within_its_call(app, idea_call, railing_call, transport_organiser):
    """A round's page is read from its call's entries by an index of the call (PostgreSQL: the gallery's, (call,
    status, id), in id order from the page's first id), not along every call's ids from the first, past all the
    entries of the calls before it (at city size, 160,000 ideas walked for each page of a 5,000-entry round)."""
    from contest.services.rounds import candidates_statement

    more_entries(idea_call, 600)  # the larger call's entries come before (as the city's 160,000 ideas did) and after
    ids = more_entries(railing_call, 2 * ROUND_PAGE, first=600)
    more_entries(idea_call, 600, first=600 + 2 * ROUND_PAGE)
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise", hide_counts=False)
    first = _outer_entry_read(query_plan(candidates_statement(round_, limit=ROUND_PAGE + 1)))
    assert re.search(r"ix_entry_(gallery|call_id)\b.*\(?call_id ?=", first), first
    if db.engine.dialect.name == "sqlite":  # PostgreSQL may seek a later page by the id alone at this size
        later = _outer_entry_read(query_plan(candidates_statement(round_, start=ids[ROUND_PAGE], limit=ROUND_PAGE + 1)))
        assert re.search(r"ix_entry_(gallery|call_id)\b.*\(?call_id ?=", later), later


def _outer_entry_read(plan: str) -> str:
    """How a plan reads the statement's own `entry` (not the rule's alias of it), with its index condition."""
    lines = plan.split("\n")
    for k, line in enumerate(lines):
        if re.search(r"^SEARCH entry USING|Scan(?: Backward)? using \w+ on entry  ", line):
            return " ".join(lines[k:k + 2])
    return plan


def _live_counts(call) -> tuple[dict[str, int], int]:
    """The call's entries counted from the entries themselves: by status, and those the public sees."""
    from sqlalchemy import func

    from contest.services.visibility import public_entries

    by_status = {s.value: n for s, n in db.session.execute(
        select(Entry.status, func.count()).where(Entry.call_id == call.id).group_by(Entry.status))}
    public = db.session.scalar(select(func.count()).where(Entry.call_id == call.id, *public_entries()))
    return by_status, public


def _kept_counts(call) -> tuple[dict[str, int], int]:
    from contest.services.entries import status_counts
    from contest.services.visibility import public_counts

    return status_counts(call), public_counts([call.id]).get(call.id, 0)


def test_a_calls_counts_follow_every_write_to_its_entries(app, railing_call, transport_organiser, citizen):
    """Sent, approved, rejected, merged, withdrawn, deleted: the counts kept are those of the entries, each time."""
    from contest.services import issues as issue_service
    from contest.services.entries import moderate, withdraw_entry

    first, second, third, fourth = approved_entries(railing_call, 4)
    assert _kept_counts(railing_call) == _live_counts(railing_call) == ({"approved": 4}, 4)
    moderate(transport_organiser, [fourth], approve=False, reason="不符合要求")
    db.session.commit()
    assert _kept_counts(railing_call) == _live_counts(railing_call) == ({"approved": 3, "rejected": 1}, 3)
    issue_service.merge(transport_organiser, second, first, "同一个设计")
    db.session.commit()
    assert _kept_counts(railing_call) == _live_counts(railing_call) == ({"approved": 3, "rejected": 1}, 2)
    db.session.expire_all()  # a change to entries loaded afresh counts the same
    withdraw_entry(third.author, db.session.get(Entry, third.id))
    db.session.commit()
    assert _kept_counts(railing_call) == _live_counts(railing_call) == ({"approved": 2, "rejected": 1,
                                                                          "withdrawn": 1}, 1)
    db.session.delete(db.session.get(Entry, fourth.id))
    db.session.commit()
    assert _kept_counts(railing_call) == _live_counts(railing_call) == ({"approved": 2, "withdrawn": 1}, 1)


def test_a_calls_totals_are_read_from_its_counts_never_from_its_entries(organiser_client, railing_call,
                                                                        count_queries):
    """The gallery's, the API's and the console's totals of a city call (160,000 ideas counted on every view: 33
    to 38 ms of the page) are read from the call's few counts."""
    more_entries(railing_call, 30)
    for url in (f"/calls/{railing_call.id}/entries", f"/calls/{railing_call.id}/entries?last=1",
                f"/api/v1/calls/{railing_call.id}/entries", f"/console/calls/{railing_call.id}/"):
        with count_queries() as queries:
            answer = organiser_client.get(url)
        assert answer.status_code == 200, url
        if "/api/" in url:
            assert answer.get_json()["total"] == 30
        else:
            assert "30" in answer.text, url
        counted = [s for s in queries.statements if re.search(r"count\(\*\)(?:(?!FROM \().)*FROM entry\b", s, re.S)]
        assert not counted, (url, counted)
