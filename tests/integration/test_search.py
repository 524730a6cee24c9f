"""Finding entries by their words in Chinese (jieba's words in a tsvector with a GIN index, or FTS5), within a
call's gallery with its filters, and across calls."""
import re
import threading

import pytest
from flask import current_app
from sqlalchemy import text

from contest.extensions import db
from contest.models import Channel, EntryStatus
from contest.services import issues as issue_service
from contest.services import search
from contest.services.entries import EntryData, edit_entry, moderate, submit_entry, withdraw_entry
from tests import helpers

TEXTS = {
    "parking": ("小区门口停车难", "晚上回家找不到车位，建议在小区门口划出临时停车位。"),
    "ageing": ("楼道加装扶手", "推进适老化改造，老人上下楼更安全。"),
    "park": ("闲置空地变口袋公园", "把菜场旁的闲置空地改成口袋公园，多放些长椅。"),
    "canteen": ("社区食堂", "希望社区食堂的价格再便宜一些。"),
}


def _idea(call, key, *, status=EntryStatus.APPROVED, **data):
    title, description = TEXTS[key]
    data.setdefault("topic_id", call.topics[0].id)
    author = helpers.make_user(f"{key}-{call.id}-{status.value}@example.org", name=f"居民{key}")
    with current_app.test_request_context():
        entry = submit_entry(author, call, EntryData(title=title, description=description, **data), [],
                             accepted_terms=True)
    entry.status = status
    db.session.commit()
    return entry


def _found(client, url) -> list[int]:
    page = client.get(url)
    assert page.status_code == 200
    return [int(i) for i in re.findall(r'class="entry-card">\s*<a href="/entries/(\d+)"', page.text)]


@pytest.fixture
def ideas(idea_call):
    return {key: _idea(idea_call, key) for key in TEXTS}


@pytest.mark.parametrize("word,key", [("停车", "parking"), ("适老化", "ageing"), ("口袋公园", "park")])
def test_a_chinese_word_finds_the_entries_that_hold_it(client, idea_call, ideas, word, key):
    assert _found(client, f"/calls/{idea_call.id}/entries?q={word}") == [ideas[key].id]


def test_a_search_marks_the_words_found_and_escapes_the_rest(client, idea_call, ideas):
    page = client.get(f"/calls/{idea_call.id}/entries?q=停车").text
    assert "小区门口<mark>停车</mark>难" in page
    assert "临时<mark>停车</mark>位" in page
    assert search.highlight("<b>停车</b>", ["停车"]) == "&lt;b&gt;<mark>停车</mark>&lt;/b&gt;"


def test_a_word_in_no_entry_finds_nothing_and_two_words_must_both_be_there(client, idea_call, ideas):
    assert _found(client, f"/calls/{idea_call.id}/entries?q=地铁") == []
    assert _found(client, f"/calls/{idea_call.id}/entries?q=社区食堂 价格") == [ideas["canteen"].id]
    assert _found(client, f"/calls/{idea_call.id}/entries?q=停车 价格") == []
    assert _found(client, f"/calls/{idea_call.id}/entries?q=，。") == sorted(
        (e.id for e in ideas.values()), reverse=True)  # punctuation only: no narrowing


def test_the_public_finds_only_approved_entries_and_the_index_follows_edits_and_withdrawals(client, idea_call,
                                                                                             transport_organiser):
    waiting = _idea(idea_call, "parking", status=EntryStatus.SUBMITTED)
    rejected = _idea(idea_call, "ageing", status=EntryStatus.REJECTED)
    shown = _idea(idea_call, "park")
    assert _found(client, f"/calls/{idea_call.id}/entries?q=停车") == []
    assert _found(client, f"/calls/{idea_call.id}/entries?q=适老化") == []
    waiting.status = EntryStatus.APPROVED
    db.session.commit()
    assert _found(client, f"/calls/{idea_call.id}/entries?q=停车") == [waiting.id]
    assert rejected.id not in _found(client, f"/calls/{idea_call.id}/entries")

    with current_app.test_request_context():
        edit_entry(shown.author, shown, EntryData(title="停车棚", description="自行车停车棚不够。",
                                                    topic_id=shown.topic_id), {}, set(), [])
    db.session.commit()
    assert _found(client, f"/calls/{idea_call.id}/entries?q=停车") == [waiting.id]  # changed: moderated again
    with current_app.test_request_context():
        moderate(transport_organiser, [shown], approve=True)
    db.session.commit()
    assert _found(client, f"/calls/{idea_call.id}/entries?q=口袋公园") == []
    assert _found(client, f"/calls/{idea_call.id}/entries?q=停车") == [shown.id, waiting.id]
    with current_app.test_request_context():
        withdraw_entry(shown.author, shown)
    db.session.commit()
    assert _found(client, f"/calls/{idea_call.id}/entries?q=停车") == [waiting.id]


def test_an_organisers_tag_is_one_word_of_the_dictionary(app, idea_call, ideas, transport_organiser):
    issue_service.tag_entries(transport_organiser, idea_call, [ideas["canteen"]], "社区食堂")
    db.session.commit()
    assert "社区食堂" in search.query_words("社区食堂")
    assert "社区食堂" in search.segment("社区食堂的价格")
    stmt = search.search_public("社区食堂", call_id=idea_call.id)
    assert [e.id for e in db.session.scalars(stmt)] == [ideas["canteen"].id]


def test_tags_learnt_while_other_threads_segment_texts_are_learnt_and_no_text_fails():
    """The segmenter (rjieba) refuses a word added while it cuts a text in another thread, as a site's threads
    would do at once (a tag given, ideas sent)."""
    failures: list[str] = []
    names = [f"试点词{n}号" for n in range(3000)]

    def failing_aloud(work):
        def run() -> None:
            try:
                work()
            except Exception as error:  # any failure of a thread is the finding
                failures.append(repr(error))
        return run

    def cut() -> None:
        for _ in range(3000):
            search.segment("老旧小区加装电梯适老化改造，建议在小区周边增设临时停车位。" * 4)

    def learn() -> None:
        for name in names:
            search.learn_words([name])

    threads = [threading.Thread(target=failing_aloud(cut)) for _ in range(3)] + [
        threading.Thread(target=failing_aloud(learn))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert all(name in search.segment(f"关于{name}的建议") for name in names[::300])


def test_the_gallerys_filters_combine_and_stay_in_the_url(client, idea_call, ideas, transport_organiser):
    topic, other_topic = idea_call.topics
    ideas["parking"].topic_id = topic.id
    ideas["park"].topic_id = topic.id
    ideas["canteen"].topic_id = ideas["ageing"].topic_id = other_topic.id
    ideas["park"].channel = Channel.PAPER
    db.session.commit()
    tag = issue_service.tag_entries(transport_organiser, idea_call, [ideas["park"], ideas["canteen"]], "空间")
    db.session.commit()
    base = f"/calls/{idea_call.id}/entries"
    assert _found(client, f"{base}?topic={topic.id}") == [ideas["park"].id, ideas["parking"].id]
    assert _found(client, f"{base}?topic={topic.id}&channel=web") == [ideas["parking"].id]
    assert _found(client, f"{base}?topic={topic.id}&tag={tag.id}") == [ideas["park"].id]
    assert _found(client, f"{base}?tag={tag.id}&q=食堂") == [ideas["canteen"].id]
    assert _found(client, f"{base}?topic={topic.id}&tag={tag.id}&channel=web") == []
    page = client.get(f"{base}?topic={topic.id}&per_page=12").text
    assert f'<option value="{topic.id}" selected>' in page
    assert _found(client, f"{base}?topic=nonsense&channel=nowhere") != []  # meaningless values filter nothing


def test_the_search_is_served_by_its_index(app, idea_call, ideas):
    """The GIN index on PostgreSQL (sequential scans turned off, to show it can be used at all: on four rows the
    planner rightly prefers other paths); FTS5's own index on SQLite."""
    stmt = search.search_public("停车", call_id=idea_call.id)
    index_only = search.found_ids(search.query_words("停车"), db.engine.dialect.name)
    plan = helpers.query_plan(index_only)
    if db.engine.dialect.name == "postgresql":
        assert "Bitmap Index Scan on ix_entry_search_document" in plan, plan
    else:
        assert "VIRTUAL TABLE INDEX" in plan, plan
    assert [e.id for e in db.session.scalars(stmt)] == [ideas["parking"].id]


def test_reindex_search_rebuilds_the_words_of_every_entry(app, runner, idea_call, ideas):
    db.session.execute(text("DELETE FROM entry_search"))
    db.session.commit()
    assert [e.id for e in db.session.scalars(search.search_public("停车"))] == []
    result = runner.invoke(args=["reindex-search"])
    assert result.exit_code == 0, result.output
    assert "4 entries indexed" in result.output
    assert [e.id for e in db.session.scalars(search.search_public("停车"))] == [ideas["parking"].id]


def test_the_calls_list_finds_entries_across_calls(client, transport_commission, idea_call, ideas):
    other = helpers.make_call(transport_commission, kind=idea_call.kind, title="社区更新", images_min=0)
    elsewhere = _idea(other, "parking")
    _idea(other, "ageing", status=EntryStatus.SUBMITTED)
    page = client.get("/calls?q=停车").text
    hits = re.findall(r'<li><a href="/entries/(\d+)">', page)
    assert hits == [str(elsewhere.id), str(ideas["parking"].id)]
    assert f'/calls/{other.id}/entries?q=%E5%81%9C%E8%BD%A6' in page
    assert "<mark>停车</mark>" in page
    assert re.findall(r'<li><a href="/entries/(\d+)">', client.get("/calls?q=适老化").text) == [
        str(ideas["ageing"].id)]  # the other call's is not approved


def test_the_api_searches_and_filters_a_calls_entries_the_same_way(client, idea_call, ideas):
    ideas["park"].channel = Channel.PAPER
    db.session.commit()
    found = client.get(f"/api/v1/calls/{idea_call.id}/entries?q=口袋公园").get_json()
    assert [e["id"] for e in found["items"]] == [ideas["park"].id] and found["total"] == 1
    assert client.get(f"/api/v1/calls/{idea_call.id}/entries?q=口袋公园&channel=web").get_json()["items"] == []
    assert client.get(f"/api/v1/calls/{idea_call.id}/entries?channel=paper").get_json()["total"] == 1


NEAR = ("小区门口停车太难了", "晚上回家找不到车位，建议在小区门口划出临时停车位，方便居民停车。")
NEARLY = ("小区门口停车太难", "晚上回家找不到车位！建议在小区门口划出临时停车位，方便居民停车")


def test_the_common_issues_view_shows_texts_that_say_the_same_thing(organiser_client, idea_call, ideas):
    first, second = ideas["parking"], ideas["canteen"]
    first.title, first.description = NEAR
    second.title, second.description = NEARLY
    db.session.commit()
    page = organiser_client.get(f"/console/calls/{idea_call.id}/issues").text
    section = page.split('id="similar-heading"')[1].split("</section>")[0]
    assert re.findall(r'href="/entries/(\d+)"', section) == [str(first.id), str(second.id)]
    assert str(ideas["park"].id) not in re.findall(r'href="/entries/(\d+)"', section)


def test_a_citizen_writing_an_idea_sees_similar_ones_already_sent_and_may_still_send(idea_call, ideas):
    from contest.services.issues import similar_sent

    ideas["parking"].title, ideas["parking"].description = NEAR
    db.session.commit()
    assert similar_sent(idea_call, *NEARLY) == [ideas["parking"]]
    assert similar_sent(idea_call, "菜场", "希望菜场周末也开门，方便上班的人买菜。") == []
    hidden = _idea(idea_call, "ageing", status=EntryStatus.SUBMITTED)
    hidden.title, hidden.description = NEAR
    db.session.commit()
    assert similar_sent(idea_call, *NEARLY) == [ideas["parking"]]  # only what the public may see


def test_the_idea_form_shows_similar_suggestions_as_a_hint_and_sends_nothing(client, citizen, idea_call, ideas):
    from contest.models import Entry

    ideas["parking"].title, ideas["parking"].description = NEAR
    db.session.commit()
    helpers.log_in(client, citizen.email)
    before = helpers.count_rows(Entry)
    data = {"title": NEARLY[0], "description": NEARLY[1], "topic_id": str(idea_call.topics[0].id), "place_id": "0",
            "similar": "1"}
    page = helpers.post_form(client, f"/calls/{idea_call.id}/enter", data, content_type="multipart/form-data")
    assert page.status_code == 200
    hint = page.text.split('id="similar-heading"')[1].split("</section>")[0]
    assert f'/entries/{ideas["parking"].id}"' in hint
    assert helpers.count_rows(Entry) == before  # only a hint: nothing sent
    del data["similar"]
    data["accept"] = "y"
    sent = helpers.post_form(client, f"/calls/{idea_call.id}/enter", data, content_type="multipart/form-data")
    assert sent.status_code == 302  # and the idea may still be sent
    assert helpers.count_rows(Entry) == before + 1


def test_a_searchs_page_and_its_count_read_the_words_index_and_no_whole_entry_table(app, idea_call, ideas):
    """The gallery's page of hits (newest first) and its bounded count, as the gallery runs them: the words read by
    an index on PostgreSQL (FTS5's index on SQLite), the entries reached by their ids, neither table read whole.
    Sequential scans are made as dear as they go, so that a plan that would need one shows it on four rows."""
    found = search.search_public("停车", call_id=idea_call.id)
    statements = {"page": found.limit(24), "count": search.counting(found)}
    plans = {name: helpers.query_plan(stmt) for name, stmt in statements.items()}
    for name, plan in plans.items():
        if db.engine.dialect.name == "postgresql":
            # The words read by the GIN index (a rare word) or, under a LIMIT, the newest entries walked and each
            # one's words asked by its key (the planner's choice for a common word): an index either way.
            words_read = ["ix_entry_search_document", "entry_search_pkey"]
            assert any(re.search(rf"Index Scan (Backward )?(on|using) {i}\b", plan) for i in words_read), (name, plan)
            assert not re.search(r"Seq Scan on (entry|entry_search)\b", plan), (name, plan)
        else:
            assert "VIRTUAL TABLE INDEX" in plan, (name, plan)
            assert not re.search(r"^SCAN entry\b", plan, re.M), (name, plan)
    assert [e.id for e in db.session.scalars(found)] == [ideas["parking"].id]
    assert db.session.scalar(statements["count"]) == 1


def test_a_search_finding_more_than_it_counts_says_so_and_pages_through_all_it_found(client, idea_call, ideas,
                                                                                   monkeypatch):
    """The count stops past COUNT_CAP (1,000): made 2 here, the topic's four ideas are "more than 2" (counted up to
    3), and the pages, followed by a seek, still hold every one of them."""
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    topic = idea_call.topics[0]
    url = f"/calls/{idea_call.id}/entries?topic={topic.id}&per_page=12"
    page = client.get(url).text
    more = "More than %(num)s entries found: add words or a filter to narrow them."
    assert helpers.zh(more, num="2") in page
    found = [e.id for e in db.session.scalars(search.search_public("", search.Filters(topic_id=topic.id),
                                                                   call_id=idea_call.id))]
    assert _found(client, url) == found and len(found) == 4  # one page holds all four
    assert search.count(search.search_public("", search.Filters(topic_id=topic.id), call_id=idea_call.id)) == 3
    monkeypatch.setattr(search, "COUNT_CAP", 4)
    page = client.get(f"/calls/{idea_call.id}/entries?topic={topic.id}").text
    assert helpers.zh(more, num="4") not in page
    assert helpers.zh_n("%(num)d entry found", "%(num)d entries found", 4) in page


def test_the_apis_search_counts_as_far_as_the_pages_and_says_so(client, idea_call, ideas, monkeypatch):
    """The API's total stops where the gallery's count does, and says it stopped (total_capped); its pages, by a
    seek, still reach every entry found."""
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    topic = idea_call.topics[0]
    body = client.get(f"/api/v1/calls/{idea_call.id}/entries?topic={topic.id}&per_page=2").get_json()
    assert (body["total"], body["total_capped"], len(body["items"])) == (2, True, 2)
    rest = client.get(body["next"].removeprefix("http://localhost")).get_json()
    assert len(rest["items"]) == 2 and rest["next"] is None and f"topic={topic.id}" in body["next"]
    monkeypatch.setattr(search, "COUNT_CAP", 4)
    body = client.get(f"/api/v1/calls/{idea_call.id}/entries?topic={topic.id}").get_json()
    assert (body["total"], body["total_capped"]) == (4, False)


def test_a_rare_word_reads_the_words_index_once_and_its_page_by_the_ids_found(client, idea_call, ideas,
                                                                               count_queries):
    """A word in few entries (or none): the entries found are read once from the words' index, up to the cap, and
    their page by those ids. Asked for its page with the words' clause too, the planner walked the call's newest
    entries asking each for its words: for a word in no entry, all 160,000 of a city's ideas (154 ms)."""
    url = f"/calls/{idea_call.id}/entries?q=社区食堂"
    client.get(url)  # warm
    with count_queries() as queries:
        assert _found(client, url) == [ideas["canteen"].id]
    read_words = [s for s in queries.statements if "entry_search" in s]
    assert len(read_words) == 1, "\n\n".join(read_words)
    with count_queries() as none:
        assert _found(client, f"/calls/{idea_call.id}/entries?q=地铁") == []
    assert len([s for s in none.statements if "entry_search" in s]) == 1
