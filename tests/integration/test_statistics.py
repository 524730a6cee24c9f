"""The statistics pages: on a known data set their figures equal counts made here, independently, in plain Python;
a department's figures take in the departments under it and the calls it runs jointly; and a page costs the same
number of queries whatever the number of calls and entries."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from markupsafe import escape

from contest.extensions import db
from contest.models import (
    CallKind,
    Channel,
    DepartmentKind,
    Entry,
    EntryStatus,
    FollowUp,
    FollowUpStage,
    ParticipantGroup,
)
from contest.models.types import utcnow
from contest.services.statistics import statistics
from tests.helpers import make_call, make_department, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
A, R, S, W = EntryStatus.APPROVED, EntryStatus.REJECTED, EntryStatus.SUBMITTED, EntryStatus.WITHDRAWN


# Reading the page ------------------------------------------------------------------------------

class TableReader(HTMLParser):
    """The statistics tables of a page: {table id: {row key: (label, count)}}, and the key figures by id."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict[str, tuple[str, int]]] = {}
        self.figures: dict[str, str] = {}
        self._table = self._row = self._figure = None
        self._cells: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self._table = attrs["id"].removeprefix("table-")
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and "data-key" in attrs:
            self._row, self._cells = attrs["data-key"], []
        elif tag in ("th", "td") and self._row is not None:
            self._text = []
        elif tag == "dd" and (attrs.get("id") or "").startswith("figure-"):
            self._figure, self._text = attrs["id"].removeprefix("figure-"), []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._row is not None and self._text is not None:
            self._cells.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table][self._row] = (self._cells[0], int(self._cells[1]))
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "dd" and self._figure:
            self.figures[self._figure] = " ".join("".join(self._text).split())
            self._figure = self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def read_page(client, url: str) -> tuple[TableReader, str]:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    reader = TableReader()
    reader.feed(html)
    return reader, html


def counts(reader: TableReader, table: str) -> dict[str, int]:
    return {key: n for key, (_label, n) in reader.tables[table].items()}


# The known data set ----------------------------------------------------------------------------

@dataclass
class Made:
    """An entry as the test made it, to count from."""

    call: object
    author: object | None
    channel: Channel
    status: EntryStatus
    place: object | None
    created_at: datetime
    adopted: bool = False
    implemented: bool = False


def months_ago(n: int, now: datetime) -> datetime:
    """The 10th of the month n months back, at noon in Shanghai (today for this month)."""
    if n == 0:
        return now
    local = now.astimezone(SHANGHAI)
    year, month = local.year, local.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 10, 12, tzinfo=SHANGHAI).astimezone(UTC)


def month_key(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def add_entry(made: list[Made], call, author, channel, status, place, created_at, *, adopted=False,
              implemented=False, n=[0]) -> Entry:  # noqa: B006  (a counter for unique titles)
    n[0] += 1
    entry = Entry(call=call, author=author, author_name="" if author else "纸质来信", channel=channel, status=status,
                  title=f"作品{n[0]}", place=place, created_at=created_at, updated_at=created_at,
                  withdrawn_at=created_at if status is W else None)
    db.session.add(entry)
    if adopted:
        db.session.add(FollowUp(call=call, entry=entry, progress=100 if implemented else 0,
                                stage=FollowUpStage.IMPLEMENTED if implemented else FollowUpStage.ADOPTED))
    made.append(Made(call, author, channel, status, place, created_at, adopted, implemented))
    return entry


@pytest.fixture
def tree(city, transport_commission, planning_bureau):
    xuhui = make_department("徐汇区", DepartmentKind.DISTRICT, city, name_en="Xuhui District")
    tianlin = make_department("田林街道", DepartmentKind.STREET, xuhui, name_en="Tianlin Street")
    village = make_department("田林十二村", DepartmentKind.COMMUNITY, tianlin, name_en="Tianlin No. 12 Village")
    office = make_department("徐汇区人民建议征集办公室", DepartmentKind.AGENCY, xuhui,
                             name_en="Xuhui District People's Suggestion Office")
    return {"city": city, "transport": transport_commission, "planning": planning_bureau, "xuhui": xuhui,
            "tianlin": tianlin, "village": village, "office": office}


@pytest.fixture
def known(app, tree):
    """Three published calls and a draft; entries on every channel, from every group and from none, placed or
    not, sent over fifteen months, in every state; the railing call's results are out, two entries adopted and
    one of them built."""
    now = utcnow()
    pro = make_user("pro@example.org", group=ParticipantGroup.PROFESSIONAL)
    student = make_user("student@example.org", group=ParticipantGroup.STUDENT)
    resident = make_user("resident@example.org", group=ParticipantGroup.CITIZEN)
    neighbour = make_user("neighbour@example.org", group=ParticipantGroup.CITIZEN)
    ngo = make_user("ngo@example.org", group=ParticipantGroup.ORGANISATION)
    railing = make_call(tree["transport"], state="closed", co_departments=[tree["office"]])
    railing.results_published_at = now - timedelta(days=3)
    circle = make_call(tree["planning"], kind=CallKind.IDEA, title="15分钟社区生活圈", images_min=0)
    lane = make_call(tree["tianlin"], kind=CallKind.IDEA, title="弄堂微更新", state="closed", images_min=0)
    draft = make_call(tree["transport"], title="内部草稿征集", state="draft")
    xuhui, tianlin, village = tree["xuhui"], tree["tianlin"], tree["village"]
    made: list[Made] = []
    for call, author, channel, status, place, ago, extra in [
        (railing, pro, Channel.WEB, A, None, 0, {"adopted": True}),
        (railing, student, Channel.MOBILE, A, None, 1, {"adopted": True, "implemented": True}),
        (railing, resident, Channel.POSTER, A, None, 2, {}),
        (railing, None, Channel.PAPER, A, None, 2, {}),
        (railing, ngo, Channel.WEB, R, None, 3, {}),
        (railing, neighbour, Channel.WEB, W, None, 3, {}),
        (railing, student, Channel.WEB, S, None, 0, {}),
        (circle, resident, Channel.WEB, A, xuhui, 0, {}),
        (circle, None, Channel.MEETING, A, tianlin, 4, {}),
        (circle, None, Channel.MEETING, A, village, 4, {}),
        (circle, ngo, Channel.QUESTIONNAIRE, A, None, 14, {}),
        (circle, pro, Channel.MOBILE, R, xuhui, 5, {}),
        (circle, neighbour, Channel.WEB, S, None, 1, {}),
        (lane, neighbour, Channel.POSTER, A, village, 1, {}),
        (lane, student, Channel.WEB, A, tianlin, 0, {}),
        (lane, None, Channel.PAPER, W, None, 0, {}),
        (lane, ngo, Channel.WEB, A, village, 6, {}),
        (lane, pro, Channel.MEETING, R, None, 7, {}),
        (draft, pro, Channel.WEB, A, xuhui, 0, {}),
        (draft, resident, Channel.WEB, S, None, 0, {}),
    ]:
        add_entry(made, call, author, channel, status, place, months_ago(ago, now), **extra)
    db.session.commit()
    return made


def expected(made: list[Made], tree: dict, department=None, now=None) -> dict:
    """The figures, counted here in plain Python over what the test made."""
    parent = {d.id: d.parent_id for d in tree.values()}

    def under(department_id, top_id):
        while department_id is not None:
            if department_id == top_id:
                return True
            department_id = parent.get(department_id)
        return False

    def organisers(call):
        return {call.department_id, *(d.id for d in call.co_departments)}

    def in_scope(m):
        if m.call.published_at is None:
            return False
        return department is None or any(under(d, department.id) for d in organisers(m.call))

    scoped = [m for m in made if in_scope(m)]
    approved = [m for m in scoped if m.status is A]
    decided = [m for m in approved if m.call.results_published_at is not None]
    local_now = (now or utcnow()).astimezone(SHANGHAI)
    last_year = {month_key(months_ago(n, now or utcnow())) for n in range(12)}
    assert len(last_year) == 12 and month_key(local_now) in last_year
    return {
        "calls": len({m.call.id for m in scoped}),
        "received": sum(1 for m in scoped if m.status is not W),
        "approved": len(approved),
        "answered": sum(1 for m in scoped if m.status in (A, R)),
        "decided": len(decided),
        "adopted": sum(1 for m in decided if m.adopted),
        "implemented": sum(1 for m in decided if m.implemented),
        "channel": Counter(m.channel.value for m in approved),
        "group": Counter(m.author.group.value if m.author else "none" for m in approved),
        "place": Counter(str(m.place.id) if m.place else "none" for m in approved),
        "organiser": Counter(str(d) for m in approved for d in organisers(m.call)),
        "month": Counter(month_key(m.created_at) for m in approved if month_key(m.created_at) in last_year),
        "months": last_year,
    }


def nonzero(table: dict) -> dict:
    return {k: n for k, n in table.items() if n}


def check_page(reader: TableReader, want: dict) -> None:
    assert reader.figures["calls"] == str(want["calls"])
    assert reader.figures["received"] == str(want["received"])
    assert reader.figures["approved"] == str(want["approved"])
    for figure, part, whole in [("answered", "answered", "received"), ("adoption", "adopted", "decided"),
                                ("implementation", "implemented", "adopted")]:
        share = f"{want[part] / want[whole]:.1%}".replace(".0%", "%") if want[whole] else "—"
        assert reader.figures[figure].startswith(share), (figure, reader.figures)
        assert f"({want[part]} of {want[whole]})" in reader.figures[figure]
    for table in ("channel", "group", "place", "organiser", "month"):
        assert nonzero(counts(reader, table)) == dict(want[table]), table
    # Every channel and group shows, with zeros too; the months are the last twelve, in order.
    assert set(counts(reader, "channel")) == {c.value for c in Channel}
    assert set(counts(reader, "group")) == {g.value for g in ParticipantGroup} | {"none"}
    assert list(counts(reader, "month")) == sorted(want["months"])


# The tests -------------------------------------------------------------------------------------

def test_the_figures_equal_counts_made_independently(app, client, known, tree):
    want = expected(known, tree)
    # The data set is what it claims to be: every channel, every group and none, months, states, adoptions.
    assert set(want["channel"]) == {c.value for c in Channel}
    assert want["group"]["none"] and len(want["group"]) == 5
    assert len(want["month"]) >= 5 and want["approved"] > sum(want["month"].values())  # one is too old
    assert (want["decided"], want["adopted"], want["implemented"]) == (4, 2, 1)
    assert want["calls"] == 3 and want["received"] < sum(1 for m in known if m.call.published_at)

    client.get("/lang/en")
    reader, html = read_page(client, "/statistics")
    check_page(reader, want)
    assert "50%" in reader.figures["adoption"] and "50%" in reader.figures["implementation"]
    # Labels in the page's language, departments linked to their own figures.
    assert reader.tables["channel"]["poster"][0] == "Poster (QR code)"
    assert reader.tables["group"]["none"][0] == "Not given"
    assert reader.tables["place"]["none"][0] == "No place given"
    assert reader.tables["place"][str(tree["village"].id)][0] == "Tianlin No. 12 Village"
    assert f'href="/statistics/departments/{tree["office"].id}"' in html
    # The charts draw the same numbers as the tables.
    charts = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html,
                                  re.S).group(1))["charts"]
    for name in ("channel", "group", "place", "organiser", "month"):
        rows = reader.tables[name].values()
        assert charts[name]["labels"] == [label for label, _n in rows]
        assert charts[name]["data"] == [n for _label, n in rows]
    assert charts["month"]["type"] == "line" and charts["channel"]["type"] == "bar"
    # The service says the same.
    with app.test_request_context(), force_locale("en"):
        figures = statistics()
    assert (figures.calls, figures.received, figures.approved, figures.answered) == (
        want["calls"], want["received"], want["approved"], want["answered"])
    assert (figures.decided, figures.adopted, figures.implemented) == (
        want["decided"], want["adopted"], want["implemented"])
    assert figures.adoption_rate == 0.5 and figures.implementation_rate == 0.5
    assert figures.answered_share == want["answered"] / want["received"]
    for name in ("channel", "group", "place", "organiser", "month"):
        rows = getattr(figures, f"by_{name}")
        assert {str(r.key): r.count for r in rows if r.count} == dict(want[name]), name


def test_nothing_of_a_draft_call_or_a_person_shows(client, known):
    _reader, html = read_page(client, "/statistics")
    for secret in ("内部草稿征集", "pro@example.org", "纸质来信", "作品1"):
        assert secret not in html


def test_a_department_takes_in_the_departments_under_it_and_its_joint_calls(app, client, known, tree):
    client.get("/lang/en")
    for name in ("xuhui", "tianlin", "office", "transport", "planning", "city", "village"):
        department = tree[name]
        reader, html = read_page(client, f"/statistics/departments/{department.id}")
        check_page(reader, expected(known, tree, department))
        assert escape(department.name_en) in html
    # Xuhui: the street's call (under it) and the railing call (its office co-organises it), not the bureau's.
    xuhui = expected(known, tree, tree["xuhui"])
    assert xuhui["calls"] == 2 and xuhui["adopted"] == 2
    assert expected(known, tree, tree["village"])["calls"] == 0
    reader, html = read_page(client, f"/statistics/departments/{tree['xuhui'].id}")
    assert f'href="/statistics/departments/{tree["tianlin"].id}"' in html  # the departments under it
    assert client.get("/statistics/departments/999999").status_code == 404


def test_the_calls_list_links_to_the_statistics(client, known, tree):
    html = client.get(f"/calls?department={tree['transport'].id}").get_data(as_text=True)
    assert f'href="/statistics/departments/{tree["transport"].id}"' in html
    assert 'href="/statistics"' in client.get("/calls").get_data(as_text=True)


def test_the_page_works_with_no_calls_at_all(client, city):
    reader, html = read_page(client, "/statistics")
    assert reader.figures["calls"] == "0" and "—" in reader.figures["adoption"]
    assert nonzero(counts(reader, "channel")) == {}
    assert read_page(client, f"/statistics/departments/{city.id}")[0].figures["received"] == "0"


def populate(tree, calls: list, new_calls: int, per_call: int, start: int) -> list:
    """Add new calls of departments all over the tree, some joint, and bring every call to `per_call` entries
    of every kind, some adopted; the calls."""
    departments = list(tree.values())
    groups = list(ParticipantGroup)
    now = utcnow()
    authors = [make_user(f"author{start}-{i}@example.org", group=groups[i % 4]) for i in range(4)]
    for c in range(new_calls):
        call = make_call(departments[(start + c) % len(departments)], title=f"征集{start + c}",
                         co_departments=[departments[(start + c + 3) % len(departments)]] if c % 2 else [])
        call.results_published_at = now
        calls.append(call)
    for call in calls:
        have = db.session.scalar(db.select(db.func.count()).select_from(Entry).where(Entry.call_id == call.id))
        for i in range(have, per_call):
            entry = Entry(call=call, author=authors[i % 4] if i % 5 else None, author_name="",
                          channel=list(Channel)[i % len(Channel)], status=[A, A, R, S, W][i % 5],
                          title=f"作品{i}", place=departments[i % len(departments)] if i % 3 else None,
                          created_at=months_ago(i % 14, now))
            db.session.add(entry)
            if i % 5 in (0, 1) and i % 10 < 4:
                db.session.add(FollowUp(call=call, entry=entry, stage=list(FollowUpStage)[i % 4], progress=0))
    db.session.commit()
    return calls


def test_the_page_runs_the_same_queries_whatever_the_numbers(app, client, tree, count_queries):
    def queries(url):
        client.get(url)  # warm: the first request loads what any first request loads
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.n

    urls = ("/statistics", f"/statistics/departments/{tree['xuhui'].id}")
    calls = populate(tree, [], new_calls=2, per_call=5, start=0)
    small = {url: queries(url) for url in urls}
    populate(tree, calls, new_calls=4, per_call=40, start=100)
    assert db.session.scalar(db.select(db.func.count()).select_from(Entry)) == 6 * 40
    large = {url: queries(url) for url in urls}
    assert large == small
    assert all(n <= 12 for n in small.values()), small
    print(f"queries per statistics page: {small}")


def test_months_are_counted_in_shanghai_time(app, transport_commission):
    """An entry sent at 20:00 UTC on 31 March is sent on 1 April in Shanghai; a month's start is Shanghai's."""
    call = make_call(transport_commission)
    made: list[Made] = []
    for moment in (datetime(2025, 3, 31, 20, 0, tzinfo=UTC), datetime(2025, 3, 31, 15, 59, tzinfo=UTC),
                   datetime(2024, 6, 30, 16, 0, tzinfo=UTC), datetime(2024, 6, 30, 15, 59, tzinfo=UTC)):
        add_entry(made, call, None, Channel.PAPER, A, None, moment)
    db.session.commit()
    with app.test_request_context(), force_locale("en"):
        months = statistics(now=datetime(2025, 5, 31, 17, 0, tzinfo=UTC)).by_month  # 1 June in Shanghai
    assert [r.key for r in months][0] == "2024-07" and [r.key for r in months][-1] == "2025-06"
    assert {r.key: r.count for r in months if r.count} == {"2024-07": 1, "2025-03": 1, "2025-04": 1}
    assert months[-1].label == "Jun 2025"
