"""The open-data API's reads: every response validates against the OpenAPI document, and none ever holds an
e-mail, a password or its hash, a name, an unapproved or merged entry, a scan, or an original image of a call
that does not publish its originals."""

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import CallTheme, Channel, EntryStatus, FollowUpStage, Objection, User
from contest.models.types import utcnow
from contest.services import results as results_service
from contest.services.entries import EntryData, Upload, staff_entry, submit_entry
from contest.services.followup import add_update
from tests.helpers import adopt, approved_entries, log_in, make_call, make_user, picture_bytes, post_form
from tests.openapi_contract import Contract, body_text, entry_ids, media_ids, path_of, private_leaks


@pytest.fixture
def contract(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return Contract(response.get_json())


def _entry(app, author, call, title, status, seed):
    with app.test_request_context():
        entry = submit_entry(author, call, EntryData(title=title, description="说明", topic_id=(
            call.topics[0].id if call.topics else None)), [Upload(picture_bytes(seed), "图")], accepted_terms=True)
    entry.status = status
    db.session.commit()
    return entry


@pytest.fixture
def open_data(app, story, city, transport_commission, transport_organiser):  # noqa: F811
    """Published results with an objection and a followed winner; an open design call with approved, waiting,
    rejected, merged and paper entries; an idea call that publishes its originals; a draft call."""
    from contest.models import CallKind

    results_call, ranked = story["call"], story["entries"]
    with app.test_request_context():
        results_service.publish(transport_organiser, results_call, 7, None)
        objection = results_service.file_objection(story["voters"][0], results_call, ranked[1].id, "请复核")
        results_service.answer_objection(transport_organiser, objection, "已复核，结果不变")
    db.session.commit()
    follow_up = adopt(ranked[0], transport_organiser)
    with app.test_request_context():
        add_update(transport_organiser, follow_up, stage=FollowUpStage.REFINING, progress=30, text="专家深化设计",
                   happened_on=utcnow(), upload=picture_bytes(900), image_alt="深化后的栏杆效果图")
    follow_up.lat, follow_up.lng, follow_up.address = 31.1900, 121.4380, "漕溪北路中央隔离带"  # where it is built
    db.session.commit()

    design = make_call(transport_commission, title="栏杆设计", themes=[], entries_per_person=5)
    shown = approved_entries(design, 2, start_seed=200)
    entrant = make_user("entrant@example.org", name="李四")
    waiting = _entry(app, entrant, design, "未审核的作品", EntryStatus.SUBMITTED, 300)
    rejected = _entry(app, entrant, design, "被拒绝的作品", EntryStatus.REJECTED, 301)
    merged = _entry(app, entrant, design, "被合并的作品", EntryStatus.APPROVED, 302)
    merged.merged_into_id, merged.merged_at = shown[0].id, utcnow()
    with app.test_request_context():
        paper = staff_entry(transport_organiser, design, channel=Channel.PAPER, data=EntryData(title="纸质来信"),
                            uploads=[Upload(picture_bytes(303), "来信附图")],
                            scans=[Upload(picture_bytes(304), "来信扫描件")], author_name="王阿姨")
    db.session.commit()

    ideas = make_call(transport_commission, kind=CallKind.IDEA, title="口袋公园点子", images_min=0,
                      originals_public=True)
    idea = _entry(app, entrant, ideas, "街角的长椅", EntryStatus.APPROVED, 400)
    idea.place_id = city.id
    idea.lat, idea.lng, idea.cell, idea.address = 31.1886, 121.4368, "wtw37me", "漕溪北路"
    draft = make_call(transport_commission, title="未发布的征集")
    hidden = approved_entries(draft, 1, start_seed=500)[0]
    draft.published_at = None
    db.session.commit()
    return {"results_call": results_call, "ranked": ranked, "design": design, "shown": shown, "ideas": ideas,
            "idea": idea, "paper": paper, "draft": draft, "hidden": hidden,
            "unpublic": [waiting.id, rejected.id, merged.id, hidden.id], "scan": paper.scans[0].image_id,
            "original_calls": {ideas.id}}


def _urls(data) -> list[tuple[str, int]]:
    calls = [data["results_call"], data["design"], data["ideas"]]
    public = [*data["ranked"], *data["shown"], data["idea"], data["paper"]]
    urls = [("/api/v1/", 200), ("/api/v1/openapi.json", 200), ("/api/v1/calls", 200), ("/api/v1/calls?state=open", 200),
            ("/api/v1/calls?per_page=1&page=2", 200), ("/api/v1/follow-ups", 200), ("/api/v1/statistics", 200),
            (f"/api/v1/statistics?department={data['design'].department_id}", 200),
            ("/api/v1/statistics?department=999999", 404), ("/api/v1/calls?page=0", 400),
            ("/api/v1/calls?state=draft", 400), ("/api/v1/calls?per_page=abc", 400),
            (f"/api/v1/calls/{data['results_call'].id}/results", 200),
            (f"/api/v1/calls/{data['design'].id}/results", 404)]
    for call in calls:
        urls += [(f"/api/v1/calls/{call.id}", 200), (f"/api/v1/calls/{call.id}/entries", 200),
                 (f"/api/v1/calls/{call.id}/rounds", 200), (f"/api/v1/calls/{call.id}/follow-ups", 200)]
    urls += [(f"/api/v1/entries/{e.id}", 200) for e in public]
    ideas = data["ideas"].id
    urls += [(f"/api/v1/calls/{ideas}/entries.geojson", 200), (f"/api/v1/calls/{ideas}/entries.geojson?page=2", 200),
             (f"/api/v1/calls/{ideas}/entries.geojson?near=31.19,121.437&minutes=10", 200),
             (f"/api/v1/calls/{ideas}/entries.geojson?near=1,2", 400),
             (f"/api/v1/calls/{ideas}/clusters.geojson?bbox=30.6,120.8,31.9,122.2", 200),
             (f"/api/v1/calls/{ideas}/clusters.geojson?bbox=31.18,121.43,31.19,121.44", 200),
             (f"/api/v1/calls/{ideas}/clusters.geojson", 400)]
    built = data["results_call"].id
    urls += [(f"/api/v1/calls/{built}/built.geojson", 200),
             (f"/api/v1/calls/{built}/built.geojson?near=31.19,121.437&minutes=10", 200),
             (f"/api/v1/calls/{built}/built.geojson?near=1,2", 400)]
    urls += [(f"/api/v1/entries/{entry_id}", 404) for entry_id in data["unpublic"]]
    draft = data["draft"].id
    urls += [(f"/api/v1/calls/{draft}{tail}", 404) for tail in ("", "/entries", "/rounds", "/results", "/follow-ups")]
    return urls


def test_every_read_validates_against_the_document_and_gives_away_nothing_private(client, app, contract, open_data):
    names = set(db.session.scalars(select(User.display_name))) | {"王阿姨"}
    seen_entries, bodies = set(), []
    for url, status in _urls(open_data):
        response = client.get(url)
        assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
        body = contract.check(response)
        text = body_text(response)
        bodies.append(text)
        assert private_leaks(text) == [], url
        assert [n for n in names if n in text] == [], f"{url} names a person"
        assert entry_ids(body).isdisjoint(open_data["unpublic"]), url
        seen_entries |= entry_ids(body)
        images, originals = media_ids(text)
        assert open_data["scan"] not in images, f"{url} links to a scan of a paper original"
        if originals:
            idea_images = {p.image_id for p in open_data["idea"].images}
            assert originals <= idea_images, f"{url} gives the original of a call that keeps them private"
    everything = "".join(bodies)
    for title in ("未审核的作品", "被拒绝的作品", "被合并的作品", "未发布的征集"):
        assert title not in everything
    public = {e.id for e in [*open_data["ranked"], *open_data["shown"], open_data["idea"], open_data["paper"]]}
    assert public <= seen_entries
    gets = {template for method, template, status in contract.seen if method == "get" and status == "200"}
    assert gets == {p for p, ops in contract.document["paths"].items() if "get" in ops}, "walk every read"


def test_the_front_door_answers_json_with_its_links_and_the_document(client, contract):
    response = client.get("/api/v1/", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = contract.check(response)
    assert path_of(body["openapi"]) == "/api/v1/openapi.json"
    assert client.get(path_of(body["openapi"])).status_code == 200
    for name, url in body["links"].items():
        assert client.get(path_of(url)).status_code == 200, name
    assert {"calls", "follow_ups", "statistics"} <= set(body["links"])
    bare = client.get("/api/v1")  # without the slash: led to the front door, not a page
    assert bare.status_code in (301, 308) and bare.headers["Location"].endswith("/api/v1/")
    unknown = client.get("/api/v1/calls/1/nothing-here", headers={"Accept-Language": "zh-CN"})
    assert unknown.status_code == 404 and unknown.mimetype == "application/json"
    assert unknown.get_json()["error"] == {"code": "not_found", "message": "此地址没有内容。"}


def test_lists_are_paged_with_links(client, contract, open_data):
    first = contract.check(client.get("/api/v1/calls?per_page=2"))
    assert (first["page"], first["per_page"], first["total"], first["prev"]) == (1, 2, 3, None)
    assert len(first["items"]) == 2 and "page=2" in first["next"]
    second = contract.check(client.get(path_of(first["next"])))
    assert len(second["items"]) == 1 and second["next"] is None and "page=1" in second["prev"]
    assert {c["id"] for c in first["items"] + second["items"]} == {
        open_data["results_call"].id, open_data["design"].id, open_data["ideas"].id}
    capped = contract.check(client.get("/api/v1/calls?per_page=5000"))
    assert capped["per_page"] == 100
    beyond = contract.check(client.get("/api/v1/calls?page=9"))
    assert beyond["items"] == [] and beyond["total"] == 3 and "page=2" in beyond["prev"]


def test_a_call_and_its_entries_say_what_the_public_pages_say(client, contract, open_data):
    design = open_data["design"]
    call = contract.check(client.get(f"/api/v1/calls/{design.id}"))
    assert call["title"] == {"zh": "栏杆设计", "en": None}  # no English text given: the Chinese one stands in
    assert call["state"] == "open" and call["kind"] == "design"
    assert call["departments"][0]["name"]["zh"] == "上海市交通委员会"
    assert call["entries"] == 3  # two approved, the paper one; not the merged one
    assert call["links"]["submit"].endswith(f"/api/v1/calls/{design.id}/entries")
    entries = contract.check(client.get(f"/api/v1/calls/{design.id}/entries"))
    assert [e["id"] for e in entries["items"]] == sorted(
        [e.id for e in open_data["shown"]] + [open_data["paper"].id], reverse=True)
    paper = next(e for e in entries["items"] if e["id"] == open_data["paper"].id)
    assert paper["channel"] == "paper" and len(paper["images"]) == 1  # the scan stays with the staff
    assert all(image["original"] is None for e in entries["items"] for image in e["images"])
    idea = contract.check(client.get(f"/api/v1/entries/{open_data['idea'].id}"))
    assert idea["place"]["name"]["zh"] == "上海市" and idea["topic"]["title"]["zh"] == "社区空间品质"
    original = idea["images"][0]["original"]
    assert original and client.get(path_of(original)).status_code == 200  # published originals are reachable


def test_rounds_carry_no_scores_and_results_carry_the_published_ranking(client, contract, open_data):
    call = open_data["results_call"]
    rounds = contract.check(client.get(f"/api/v1/calls/{call.id}/rounds"))["items"]
    assert [r["kind"] for r in rounds] == ["expert", "public"]
    assert [(c["name"]["zh"], c["weight"]) for c in rounds[0]["criteria"]] == [
        ("文化表达", 30), ("可行性与安全", 30), ("美观", 40)]
    assert rounds[1]["mode"] == "votes"
    results = contract.check(client.get(f"/api/v1/calls/{call.id}/results"))
    a, b, c, d = (e.id for e in open_data["ranked"])
    assert [(r["entry_id"], r["rank"]) for r in results["ranking"]] == [(a, 1), (b, 2), (c, 3), (d, None)]
    assert results["ranking"][3]["out_in"] == "专家评审"
    assert results["formula"]["expert_weight"] == 70 and results["formula"]["combine_on"] == "ranks"
    assert [(w["entry_id"], w["prize"]["zh"]) for w in results["awards"]] == [(a, "一等奖"), (b, "二等奖")]
    assert results["state"] == "notice_period"
    assert results["objections"] == [{**results["objections"][0], "entry_id": b, "reason": "请复核",
                                      "answer": {"zh": "已复核，结果不变", "en": None}}]
    assert results["figures"]["approved"] == 4
    follow_ups = contract.check(client.get(f"/api/v1/calls/{call.id}/follow-ups"))["items"]
    assert [(f["entry_id"], f["stage"], f["progress"]) for f in follow_ups] == [(a, "refining", 30)]
    assert follow_ups[0]["updates"][0]["photo"]["alt_text"] == "深化后的栏杆效果图"


def test_statistics_are_the_figures_of_the_published_calls(client, contract, open_data):
    stats = contract.check(client.get("/api/v1/statistics"))
    assert stats["calls"] == 3
    assert stats["approved"] == 4 + 3 + 1 + 1  # the merged entry is still an approved entry in the figures
    assert {r["key"]: r["count"] for r in stats["by_channel"]}["paper"] == 1
    assert stats["adopted"] == 1 and stats["department"] is None


def test_errors_are_json_in_the_callers_language(client, contract):
    response = client.get("/api/v1/calls/12345", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert contract.check(response)["error"] == {"code": "not_found", "message": "There is nothing at this address."}
    chinese = client.get("/api/v1/calls/12345", headers={"Accept-Language": "zh-CN"}).get_json()
    assert chinese["error"] == {"code": "not_found", "message": "此地址没有内容。"}
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/calls")
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"


def test_a_page_of_entries_costs_the_same_queries_however_many_entries(client, app, transport_commission,
                                                                       count_queries):
    call = make_call(transport_commission)
    approved_entries(call, 2, start_seed=10)

    def cost():
        with count_queries() as counter:
            assert client.get(f"/api/v1/calls/{call.id}/entries").status_code == 200
            assert client.get("/api/v1/calls").status_code == 200
        return counter.n

    few = cost()
    for n in range(6):
        _entry(app, make_user(f"more{n}@example.org"), call, f"又一件{n}", EntryStatus.APPROVED, 20 + n)
    other = make_call(transport_commission, title="另一个征集", themes=[CallTheme(name="海派文化")])
    approved_entries(other, 2, start_seed=40)
    assert cost() == few


def test_every_object_in_the_document_is_closed(contract):
    """So that a field the API does not mean to give (an e-mail, an author) fails validation."""
    open_objects = []

    def walk(node, where):
        if isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties") is not False:
                open_objects.append("/".join(where))
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):  # a map of names (GeoJSON has "properties")
                    for name, schema in value.items():
                        walk(schema, [*where, key, name])
                else:
                    walk(value, [*where, key])
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, [*where, str(n)])

    walk(contract.document["components"]["schemas"], ["schemas"])
    assert open_objects == []
    assert contract.document["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_text_sent_from_a_browser_with_crlf_line_ends_comes_out_with_lf(app, client, contract, story,  # noqa: F811
                                                                        transport_organiser):
    """Browsers send a textarea's lines joined by CR LF: the API gives every text with LF alone."""
    call = story["call"]
    with app.test_request_context():
        results_service.publish(transport_organiser, call, 7, None)
    db.session.commit()
    results_page = f"/calls/{call.id}/results"
    citizen = make_user("objector@example.org", name="较真的市民")
    log_in(client, citizen.email)
    post_form(client, f"/calls/{call.id}/results/objections",
              {"entry_id": story["entries"][0].id, "reason": "图案相似。\r\n请复核。"}, page=results_page)
    objection = db.session.scalar(select(Objection))
    organiser = app.test_client()
    log_in(organiser, transport_organiser.email)
    console = f"/console/calls/{call.id}/results"
    response = post_form(organiser, f"/console/calls/{call.id}/results/objections/{objection.id}/answer",
                         {"answer": "经核查：\r\n图案为原创。\r\n\r\n异议不成立。"}, page=console)
    assert response.status_code == 302
    results = contract.check(client.get(f"/api/v1/calls/{call.id}/results"))
    assert [(o["reason"], o["answer"]["zh"]) for o in results["objections"]] == [
        ("图案相似。\n请复核。", "经核查：\n图案为原创。\n\n异议不成立。")]
    assert "\r" not in client.get(f"/api/v1/calls/{call.id}/results").get_data(as_text=True)
