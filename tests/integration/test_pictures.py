"""Pictures of the results drawn as inline SVG: one mark per row of the table beside them, with the table's values
(read back from the SVG here, so picture and table cannot drift), titled in the page's language."""
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from contest import pictures
from contest.extensions import db
from contest.models import Call, Comparison, User, Vote
from contest.models.types import utcnow
from contest.services import results as results_service
from tests.helpers import log_in, make_public_round, make_voter, zh

SVG = "{http://www.w3.org/2000/svg}"


def svgs(html: str, kind: str) -> list[ET.Element]:
    return [ET.fromstring(found) for found in re.findall(rf'<svg class="picture-svg {kind}".*?</svg>', html, re.S)]


def interval_cells(html: str) -> list[tuple[int, int, int]]:
    """The ranking table's "jury rank (interval)" cells, as (rank, low, high)."""
    return [tuple(map(int, found)) for found in re.findall(r"<td>(\d+)[（ ]\(?(\d+)–(\d+)[)）]</td>", html)]


@pytest.fixture
def published(app, story, transport_organiser):
    with app.test_request_context():
        results_service.publish(transport_organiser, story["call"], 7, None)
        db.session.commit()
    return story


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_rank_intervals_picture_holds_the_tables_values(app, published, language):
    title = zh("How sure the ranking is") if language == "zh" else "How sure the ranking is"
    client = app.test_client()
    client.get(f"/lang/{language}")
    html = client.get(f"/calls/{published['call'].id}/results").get_data(as_text=True)
    (picture,) = svgs(html, "rank-intervals")
    assert picture.find(f"{SVG}title").text == title
    assert picture.get("aria-labelledby") and picture.find(f"{SVG}desc").text.strip()
    marks = [(int(g.get("data-rank")), int(g.get("data-low")), int(g.get("data-high")))
             for g in picture.iter(f"{SVG}g") if "interval" in g.get("class", "")]
    table = interval_cells(html)
    assert marks == table and len(marks) == 4  # every entry the jury ranked, in the table's order
    for g in picture.iter(f"{SVG}g"):
        bar, point = g.find(f"{SVG}line"), g.find(f"{SVG}circle")
        # the point lies on its bar: rank within its interval, drawn where the axis puts it
        assert float(bar.get("x1")) <= float(point.get("cx")) <= float(bar.get("x2"))


def test_the_mark_counts_picture_holds_the_tables_counts(app, published, transport_organiser):
    client = app.test_client()
    log_in(client, transport_organiser.email)
    client.get("/lang/en")
    html = client.get(f"/calls/{published['call'].id}/results").get_data(as_text=True)
    drawn = svgs(html, "mark-counts")
    criteria = published["expert"].criteria
    assert len(drawn) == len(criteria)
    tables = re.findall(r'<table class="distribution">.*?</table>', html, re.S)
    for picture, table, criterion in zip(drawn, tables, criteria, strict=True):
        assert picture.find(f"{SVG}title").text == f"Marks given for “{criterion.name}”"
        heads = re.findall(r'<th scope="col">([^<]+)</th>', table)
        cells = [int(n) for n in re.findall(r"<td>(\d+)</td>", table)]
        bars = [(g.get("data-mark"), int(g.get("data-count"))) for g in picture.iter(f"{SVG}g")]
        assert bars == list(zip(heads, cells, strict=True))
        assert sum(cells) == 3 * 4  # three jurors each marked each of the four entries once on it


def test_a_city_size_ranking_draws_its_top_only():
    rows = [(n, f"作品{n}", n, max(1, n - 3), n + 3, n % 7 == 0) for n in range(1, 1001)]
    picture = pictures.rank_intervals(rows)
    assert len(picture.marks) == pictures.MOST_SHOWN and picture.more == 1000 - pictures.MOST_SHOWN
    assert [m.rank for m in picture.marks] == list(range(1, pictures.MOST_SHOWN + 1))
    assert len(picture.axis) <= 11 and picture.axis[0][0] == 1


def test_bars_are_as_high_as_their_counts():
    picture = pictures.counts(["1", "2", "3"], [2, 4, 0])
    heights = [bar.height for bar in picture.bars]
    assert heights[1] == pictures.BAR_AREA and heights[0] == pictures.BAR_AREA / 2 and heights[2] == 0
    assert all(bar.y + bar.height == picture.base_y for bar in picture.bars)
    assert pictures.counts([], []) is None and pictures.rank_intervals([]) is None


def cells_of(table: str) -> list[list[str]]:
    """The body cells of an HTML table, as text (tags stripped), row by row."""
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
    return [[re.sub(r"<[^>]+>", " ", cell).split("  ")[0].strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.fixture
def marked_round(app, railing_call, transport_organiser):
    """Five entries, three jurors who each mark all of them: 甲 as the others do, 乙 two points harsher, 丙 flat."""
    from contest.services import rounds as round_service
    from tests.helpers import approved_entries, make_juror, make_round

    entries = approved_entries(railing_call, 5)
    round_ = make_round(railing_call, transport_organiser, k=3, normalise=True)
    jurors = [make_juror(round_, f"marker{n}@example.org", name=name)
              for n, name in enumerate(["评委甲", "评委乙", "评委丙"])]
    base = {e.id: 5 + i for i, e in enumerate(entries)}  # 5 .. 9
    given = [base, {e: m - 2 for e, m in base.items()}, {e: 7 for e in base}]
    with app.test_request_context():
        round_service.assign(transport_organiser, round_)
        for (_user, member), marks in zip(jurors, given, strict=True):
            for assignment in round_service.juror_list(member):
                mark = str(marks[assignment.entry_id])
                round_service.save_score(member, assignment, {c.id: mark for c in round_.criteria}, "", "",
                                         submit=True, version=None)
        db.session.commit()
    return round_, jurors


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_juror_marks_picture_holds_the_tables_values(app, marked_round, transport_organiser, language):
    round_, _jurors = marked_round
    client = app.test_client()
    log_in(client, transport_organiser.email)
    client.get(f"/lang/{language}")
    response = client.get(f"/console/rounds/{round_.id}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    (picture,) = svgs(html, "juror-marks")
    title = "How each juror marks"
    assert picture.find(f"{SVG}title").text == (zh(title) if language == "zh" else title)
    assert picture.find(f"{SVG}desc").text.strip()
    table = re.search(r'<table class="juror-marks">.*?</table>', html, re.S).group(0)
    rows = cells_of(table)
    marks = [[g.get("data-sheets"), g.get("data-mean"), g.get("data-spread"), g.get("data-others"),
              g.get("data-normalised-mean"), g.get("data-normalised-spread")]
             for g in picture.iter(f"{SVG}g") if g.get("class") == "juror"]
    assert marks == [row[1:] for row in rows] and len(marks) == 3
    assert [row[0] for row in rows] == ["评委甲", "评委乙", "评委丙"]
    # 乙 marks two points below the others' mean for the same entries, 丙 gives everyone the same
    harsh, flat = rows[1], rows[2]
    assert float(harsh[2]) < float(harsh[4]) - 1.5 and float(flat[3]) == 0
    assert flat[0].startswith("评委丙")  # fell back: too flat to normalise, used as given
    for g in (g for g in picture.iter(f"{SVG}g") if g.get("class") == "juror"):
        assert len(g.findall(f"{SVG}circle")) == 5 + 1  # a dot per sheet and the mean


def test_the_juror_marks_are_the_organisers_only(app, marked_round, citizen):
    round_, jurors = marked_round
    page = f"/console/rounds/{round_.id}/"
    juror = app.test_client()
    log_in(juror, jurors[0][0].email)
    assert juror.get("/jury/").status_code == 200  # the juror is logged in and sees their own pages
    assert juror.get(page).status_code in (403, 404)
    neighbour = app.test_client()
    log_in(neighbour, citizen.email)
    assert neighbour.get(page).status_code in (403, 404)
    assert app.test_client().get(page).status_code in (302, 401, 403, 404)  # a visitor is sent to log in
    for client in (juror, neighbour):
        assert "juror-marks" not in client.get(f"/jury/rounds/{round_.id}/").get_data(as_text=True)


def _bulk(railing_call, n):
    from tests.integration.test_city_scale import more_entries

    ids = more_entries(railing_call, n)
    voters = list(db.session.scalars(select(User.id).where(User.email.like(f"bulk{railing_call.id}-%"))
                                     .order_by(User.id)))
    return ids, voters  # the voters' accounts are new (made now): less than a week old


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_ballots_per_hour_picture_holds_the_tables_counts_and_shades_the_bursts(
        app, railing_call, transport_organiser, language):
    ids, new_voters = _bulk(railing_call, 8)
    old_voters = [make_voter(f"old{n}@example.org", days_old=30).id for n in range(2)]
    round_ = make_public_round(railing_call, transport_organiser, mode="votes", votes=3, hide_counts=False)
    start = pictures.hour_of(utcnow()) - timedelta(hours=3)
    round_.opens_at = start - timedelta(hours=2)
    rows = [(voter, ids[0], start + timedelta(minutes=5 + n)) for n, voter in enumerate(new_voters[:6])]
    rows += [(voter, ids[1], start + timedelta(hours=2, minutes=10)) for voter in old_voters + new_voters[6:7]]
    db.session.execute(insert(Vote), [{"round_id": round_.id, "user_id": u, "entry_id": e, "created_at": at,
                                       "address": "", "voided_reason": ""} for u, e, at in rows])
    db.session.commit()
    client = app.test_client()
    log_in(client, transport_organiser.email)
    client.get(f"/lang/{language}")
    html = client.get(f"/console/rounds/{round_.id}/").get_data(as_text=True)
    (picture,) = svgs(html, "ballots-per-hour")
    title = "When the ballots came"
    assert picture.find(f"{SVG}title").text == (zh(title) if language == "zh" else title)
    table = re.search(r'<table class="ballots-per-hour">.*?</table>', html, re.S).group(0)
    cells = [(at, int(n), int(new)) for at, n, new in
             re.findall(r'<tr><td><time datetime="([^"]+)">[^<]*</time></td><td>(\d+)</td><td>(\d+)</td></tr>', table)]
    bars = [(g.get("data-hour"), int(g.get("data-ballots")), int(g.get("data-new")))
            for g in picture.iter(f"{SVG}g") if g.get("class") == "hour"]
    assert bars == cells == [(start.isoformat(), 6, 6), ((start + timedelta(hours=2)).isoformat(), 3, 1)]
    (burst,) = [g for g in picture.iter(f"{SVG}g") if g.get("class") == "burst"]
    assert (int(burst.get("data-entry")), int(burst.get("data-count"))) == (ids[0], 6)  # the burst listed below
    assert 'class="burst"' in html.split('class="picture-svg ballots-per-hour"')[1].split("</svg>")[1]
    shade, first_bar = burst.find(f"{SVG}rect"), [g for g in picture.iter(f"{SVG}g") if g.get("class") == "hour"][0]
    assert float(shade.get("x")) <= float(first_bar.find(f"{SVG}rect").get("x"))  # shaded where it came


@pytest.fixture
def compared(app, railing_call, transport_organiser):
    """A pairwise round of nine entries: each preferred to every entry after it, once by each of three voters, and
    entry 1 once to entry 0 by a fourth."""
    ids, voters = _bulk(railing_call, 9)
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise", hide_counts=False)
    now, rows = utcnow(), []
    for voter in voters[:3]:
        for i, winner in enumerate(ids):
            for loser in ids[i + 1:]:
                rows.append((voter, winner, loser, winner))
    rows.append((voters[3], ids[0], ids[1], ids[1]))
    db.session.execute(insert(Comparison), [
        {"round_id": round_.id, "user_id": u, "nonce": f"{u}-{left}-{right}", "left_id": left, "right_id": right,
         "winner_id": winner, "created_at": now, "address": "", "voided_reason": ""}
        for u, left, right, winner in rows])
    db.session.commit()
    return round_, ids


def test_the_win_matrix_holds_its_tables_counts_for_the_top_entries_and_draws_all_on_asking(
        app, compared, transport_organiser):
    round_, ids = compared
    client = app.test_client()
    log_in(client, transport_organiser.email)
    client.get("/lang/en")
    page = f"/console/rounds/{round_.id}/"
    html = client.get(page).get_data(as_text=True)
    (picture,) = svgs(html, "win-matrix")
    assert picture.find(f"{SVG}title").text == "Who beat whom"
    rows = [g for g in picture.iter(f"{SVG}g") if g.get("class") == "win-row"]
    assert [int(g.get("data-entry")) for g in rows] == ids[:pictures.MATRIX_SHOWN]  # the top, best first
    table = re.search(r'<table class="win-matrix">.*?</table>', html, re.S).group(0)
    body = re.findall(r"<tr><th scope=\"row\">[^<]*</th>(.*?)</tr>", table)
    for g, cells in zip(rows, body, strict=True):
        drawn = [int(c.get("data-wins")) for c in g.findall(f"{SVG}g")]
        shown = [int(n) for n in re.findall(r"<td>(\d+)</td>", cells)]
        assert drawn == shown
    first, second = rows[0], rows[1]
    assert [int(c.get("data-wins")) for c in first.findall(f"{SVG}g")] == [3] * (pictures.MATRIX_SHOWN - 1)
    assert [int(c.get("data-wins")) for c in second.findall(f"{SVG}g")][0] == 1
    link = re.search(r'href="([^"]*all=win-matrix[^"]*)"', html).group(1).replace("&amp;", "&")
    whole = client.get(link).get_data(as_text=True)
    (picture,) = svgs(whole, "win-matrix")
    assert [int(g.get("data-entry")) for g in picture.iter(f"{SVG}g") if g.get("class") == "win-row"] == ids
    assert "all=win-matrix" not in whole


@pytest.mark.parametrize("language", ["zh", "en"])
def test_an_entrys_wins_against_show_on_its_page_once_the_round_has_closed(app, compared, language):
    round_, ids = compared
    client = app.test_client()
    client.get(f"/lang/{language}")
    page = f"/entries/{ids[1]}"
    open_page = client.get(page).get_data(as_text=True)
    # Not while citizens still compare.
    assert "<h1" in open_page and "Traceback" not in open_page and not svgs(open_page, "wins-against")
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    html = client.get(page).get_data(as_text=True)
    (picture,) = svgs(html, "wins-against")
    title = "Wins against"
    assert picture.find(f"{SVG}title").text == (zh(title) if language == "zh" else title)
    bars = [(int(g.get("data-entry")), int(g.get("data-wins")), int(g.get("data-losses")))
            for g in picture.iter(f"{SVG}g") if g.get("class") == "opponent"]
    table = re.search(r'<table class="wins-against">.*?</table>', html, re.S).group(0)
    cells = [(int(e), int(w), int(lo)) for e, w, lo in
             re.findall(r'<tr><td><a href="/entries/(\d+)">[^<]*</a></td><td>(\d+)</td><td>(\d+)</td></tr>', table)]
    assert bars == cells
    assert bars[0] == (ids[0], 1, 3)  # met entry 0 four times: preferred once
    assert sorted(bars[1:]) == [(other, 3, 0) for other in ids[2:]]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_calls_journey_draws_its_timelines_steps_with_today_between_done_and_ahead(app, published, language):
    client = app.test_client()
    client.get(f"/lang/{language}")
    html = client.get(f"/calls/{published['call'].id}").get_data(as_text=True)
    (picture,) = svgs(html, "journey")
    title = "The call's journey"
    assert picture.find(f"{SVG}title").text == (zh(title) if language == "zh" else title)
    steps = [(g.get("data-kind"), g.get("data-at"), "past" in g.get("class")) for g in picture.iter(f"{SVG}g")
             if "step" in g.get("class", "").split()]
    listed = re.search(r'<ol class="timeline">.*?</ol>', html, re.S).group(0)
    dated = re.findall(r'<li class="(past|future)">\s*<time datetime="([^"]+)">', listed)
    # every step but the notice period's end is an item of the dated list, in its order, done or ahead as it says
    told = [(at, past) for _kind, at, past in steps if _kind != "notice_ends"]
    assert told == [(at, state == "past") for state, at in dated if (at, state == "past") in told]
    kinds = [kind for kind, _at, _past in steps]
    assert {"opens", "closes"} <= set(kinds) and kinds.count("round_opens") == kinds.count("round_closes") == 2
    assert kinds[-2:] == ["results_published", "notice_ends"]
    assert [past for _kind, _at, past in steps] == [True] * (len(steps) - 1) + [False]
    (today,) = [g for g in picture.iter(f"{SVG}g") if g.get("class") == "today-mark"]
    step_y = [float(g.find(f"{SVG}circle").get("cy")) for g in picture.iter(f"{SVG}g")
              if "step" in g.get("class", "").split()]
    assert step_y[-2] < float(today.find(f"{SVG}line").get("y1")) < step_y[-1]  # today: published, notice running


def test_a_call_yet_to_publish_results_shows_them_as_a_step_ahead(app, story):
    html = app.test_client().get(f"/calls/{story['call'].id}").get_data(as_text=True)
    (picture,) = svgs(html, "journey")
    last = [g for g in picture.iter(f"{SVG}g") if "step" in g.get("class", "").split()][-1]
    assert (last.get("data-kind"), last.get("data-at"), "past" in last.get("class")) == ("results", "", False)


def test_at_city_size_each_picture_draws_the_top_of_its_list_only():
    from datetime import UTC, datetime

    from contest.scoring import JurorMarks

    jurors = [(f"评委{n}", JurorMarks(n, tuple(range(1, 200)), 5.0, 1.0, 5.5, 5.2, 1.1, None)) for n in range(80)]
    drawn = pictures.juror_marks(jurors, 0, 10)
    assert len(drawn.rows) == pictures.MOST_SHOWN and drawn.more == 80 - pictures.MOST_SHOWN
    assert all(len(row.dots) == pictures.DOTS_SHOWN for row in drawn.rows)
    assert len(pictures.juror_marks(jurors, 0, 10, most=None).rows) == 80
    start = datetime(2026, 5, 1, tzinfo=UTC)
    hours = [(start + timedelta(hours=h), 10 + h % 7, h % 3) for h in range(24 * 30)]
    drawn = pictures.hours(hours, start, hours[-1][0], [(1, start + timedelta(hours=400), 9)])
    assert len(drawn.bars) == pictures.HOURS_SHOWN and drawn.more == 24 * 30 - pictures.HOURS_SHOWN
    assert drawn.bursts == [] and drawn.bars[-1].x + drawn.bars[-1].width <= pictures.WIDTH  # past the drawn hours
    assert len(drawn.axis) <= 8
    opponents = [(n, f"作品{n}", n % 4, 3) for n in range(300)]
    assert len(pictures.wins_against(opponents).bars) == pictures.MOST_SHOWN
    order = [(n, f"作品{n}") for n in range(100)]
    matrix = pictures.win_matrix(order, {(0, 1): 2})
    assert len(matrix.rows) == pictures.MATRIX_SHOWN and matrix.more == 100 - pictures.MATRIX_SHOWN
    assert matrix.rows[0].cells[0].wins == 2 and matrix.rows[1].cells[0].losses == 2
    steps = [("follow_up", start + timedelta(days=n), True, {}) for n in range(60)]
    assert len(pictures.journey(steps, start + timedelta(days=100)).steps) == pictures.STEPS_SHOWN


def test_the_provisional_ranking_draws_its_rank_intervals_for_the_organiser(app, marked_round, transport_organiser):
    round_, _jurors = marked_round
    client = app.test_client()
    log_in(client, transport_organiser.email)
    client.get("/lang/en")
    html = client.get(f"/console/rounds/{round_.id}/?cut=2").get_data(as_text=True)
    (picture,) = svgs(html, "rank-intervals")
    assert picture.find(f"{SVG}title").text == "How sure the ranking is"
    table = re.search(r'<table class="provisional">.*?</table>', html, re.S).group(0)
    cells = [(int(rank), int(low), int(high)) for rank, low, high in
             re.findall(r"<tr[^>]*>\s*<td>(\d+)</td>.*?<td>(\d+)–(\d+)", table, re.S)]
    marks = [(int(g.get("data-rank")), int(g.get("data-low")), int(g.get("data-high")))
             for g in picture.iter(f"{SVG}g") if "interval" in g.get("class", "")]
    assert marks == cells and len(marks) == 5
    straddling = len(re.findall(r'<tr class="straddles">', table))
    assert len([g for g in picture.iter(f"{SVG}g") if "unsure" in g.get("class", "")]) == straddling


def test_the_journey_names_each_round_as_the_dated_list_beside_it_does(app, demo_snapshot):
    """Found on the demo's railing call in English: the journey named its rounds in Chinese beside a list that
    named them in English."""
    demo_snapshot.install(app)
    railing = db.session.scalar(select(Call).where(Call.title == "道路栏杆请您绘"))
    client = app.test_client()
    client.get("/lang/en")
    html = client.get(f"/calls/{railing.id}").get_data(as_text=True)
    (picture,) = svgs(html, "journey")
    steps = ["".join(g.find(f"{SVG}text[@class='label']").itertext()) for g in picture.iter(f"{SVG}g")
             if "step" in g.get("class", "").split() and g.get("data-kind") == "round_opens"]
    assert steps == ["“Expert jury” opens", "“Public choice: which railing would you rather see?” opens"]
