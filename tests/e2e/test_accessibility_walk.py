"""The accessibility walk: each role of the demo visits every page it can reach, in Chinese and in English, and
axe-core checks each one. A serious or critical violation anywhere fails the walk; the count of every rule's
violations, whatever their impact, is printed with the number of pages walked.

Pages are found by following every link from the home page, plus the pages only a form leads to (a form sent
back with its errors, a search, the links of mails). Near-identical pages are not all walked: one kind of page is
one route, and the browser walks SAMPLES of each kind a role reaches.

Run it alone: .venv/bin/python -m pytest --db sqlite tests/e2e/test_accessibility_walk.py
(it runs in the SQLite pass of the suite only: tests/e2e/conftest.py deselects it on PostgreSQL).
"""
from __future__ import annotations

import re
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import MapAdapter, RequestRedirect

from contest.extensions import db
from tests.e2e.pages import AXE
from tests.helpers import log_in, picture_bytes

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_pass_only]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "shanghai-demo"
LANGUAGES = ("zh", "en")
ROLES = {  # role -> the demo account it logs in as
    "anonymous": None,
    "citizen": "citizen11@example.org",  # entries approved, rejected, in an open call: the most pages of a citizen
    "juror": "juror2@example.org",  # part-way, with drafts
    "organiser": "transport@example.org",  # the railing call: expert and public rounds, results, follow-up
    "administrator": "admin@example.org",  # every department: the idea calls' meetings, issues and posters too
}
SAMPLES = {"zh": 2, "en": 1}  # pages of each kind walked per role; the language changes words, not structure
FAILING_IMPACTS = {"serious", "critical"}
# Not pages: switches, files, images and the JSON API. Links to them are not followed.
SKIPPED_PATHS = re.compile(r"^/(lang|text-size|media|api|static)/"
                           r"|\.(csv|xlsx|json|pdf|png|svg|jpe?g|webp|ics|xml|atom|txt)$")
NOT_PAGES = re.compile(r"^(public\.set_language|public\.set_text_size|media\.image|api|api\..*|static)$"
                       r"|_(csv|xlsx|json)$|^posters\.(png|pdf)$|^feeds\.|^console\.results_notice$|^submit\.certificate$")

# The page's language and axe's violations, in one call into the page (each call is a round trip to Chromium).
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return {lang: document.documentElement.lang,
          violations: results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                    targets: v.nodes.map(n => n.target.join(" "))}))};
}"""


@dataclass
class Visit:
    role: str
    language: str
    path: str
    kind: str  # the route that served the page
    status: int
    violations: list[dict] = field(default_factory=list)
    label: str = ""  # what a form did to the page ("errors")
    came_from: str = ""  # the route a form or a mailed link was sent to, when it led elsewhere


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.found.append(dict(attrs)["href"])


@dataclass
class Walk:
    base: str
    adapter: MapAdapter
    visits: list[Visit] = field(default_factory=list)
    dead_links: list[tuple[str, str, int]] = field(default_factory=list)  # (page, link, status)

    def kind_of(self, path: str) -> str:
        """The route serving `path` (its endpoint), or the error it meets."""
        try:
            endpoint, _args = self.adapter.match(urlsplit(path).path, method="GET")
        except RequestRedirect as redirect:
            return self.kind_of(urlsplit(redirect.new_url).path)
        except (NotFound, MethodNotAllowed):
            return "not found"
        return endpoint

    def reachable(self, client) -> dict[str, list[str]]:
        """Every page the client's user reaches by links from the home page, breadth first, by kind.

        Found through the test client, which is quick, so that no kind hides behind a link that a capped
        browser walk would never have followed; the browser then walks a few of each kind."""
        queue, seen, kinds = deque([("/", "")]), {"/"}, defaultdict(list)
        while queue:
            path, linked_from = queue.popleft()
            response = client.get(path)
            kinds[self.kind_of(path)].append(path)
            if response.status_code >= 400:
                self.dead_links.append((linked_from, path, response.status_code))
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            links = Links()
            links.feed(response.get_data(as_text=True))
            for href in links.found:
                linked = _local(urljoin(self.base + path, href), self.base)
                if linked is not None and linked not in seen and not SKIPPED_PATHS.search(urlsplit(linked).path):
                    seen.add(linked)
                    queue.append((linked, path))
        return kinds

    def check(self, page, role: str, language: str, status: int, label: str = "", came_from: str = "") -> Visit:
        """Run axe on the page as it stands."""
        path = _local(page.url, self.base)
        checked = page.evaluate(RUN_AXE)
        assert checked["lang"].startswith(language), f"{path} is not in {language}"
        visit = Visit(role, language, path, self.kind_of(path), status, checked["violations"], label,
                      came_from=self.kind_of(came_from) if came_from else "")
        self.visits.append(visit)
        return visit

    def visit(self, page, role: str, language: str, path: str) -> Visit:
        response = page.goto(self.base + path)
        return self.check(page, role, language, response.status if response else 0)


def samples(kinds: dict[str, list[str]], language: str) -> list[str]:
    """The pages the browser walks: of each kind the first found and, in the first language, the last too
    (found last, so most unlike the first: a meeting's suggestion beside a design, a street beside the city)."""
    many = SAMPLES[language]
    return [path for paths in kinds.values() for path in (paths[:1] + paths[1:][-1:])[:many]]


def _local(url: str, base: str) -> str | None:
    """The path and query of a link on this site, without its fragment; None for anywhere else."""
    if not url.startswith(base + "/"):
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# Pages only a form or a mail leads to ---------------------------------------------------------------------------

def _send(page, form: str = "main form[method=post]") -> int:
    """Send a form the way its button does, browser checks aside (the server's messages are what is walked)."""
    page.eval_on_selector(form, "f => { f.noValidate = true; }")
    with page.expect_navigation() as navigation:
        page.locator(form).locator("[type=submit]").last.click()
    return navigation.value.status if navigation.value else 0


def _image(seed: int) -> dict:
    return {"name": f"picture-{seed}.jpg", "mimeType": "image/jpeg", "buffer": picture_bytes(seed)}


def opened(page, url: str) -> int:
    response = page.goto(url)
    return response.status if response else 0


def sent_empty(page, url: str) -> int:
    page.goto(url)
    return _send(page)


def filled(values: dict[str, str], form: str = "main form[method=post]") -> Callable:
    def action(page, url: str) -> int:
        page.goto(url)
        for selector, value in values.items():
            page.fill(selector, value)
        return _send(page, form)
    return action


def with_files(files: dict[str, int], values: dict[str, str] | None = None) -> Callable:
    """A form with a picture in each of `files` (selector -> seed) and no description for any."""
    def action(page, url: str) -> int:
        page.goto(url)
        for selector, value in (values or {}).items():
            page.fill(selector, value)
        for selector, seed in files.items():
            page.set_input_files(selector, files=[_image(seed)])
        return _send(page)
    return action


def searched(page, url: str) -> int:
    page.goto(url)
    page.fill("#q", "栏杆")
    with page.expect_navigation() as navigation:
        page.press("#q", "Enter")
    return navigation.value.status


def form_pages(demo: dict) -> dict[str, list[tuple[str, str, Callable]]]:
    """role -> (label, address, how to get from there to the page) of each page no link leads to."""
    open_call, idea_call, railing_call = demo["open_call"], demo["idea_call"], demo["railing_call"]
    return {
        "anonymous": [
            ("wrong password", "/account/login", filled({"#email": "nobody@example.org", "#password": "wrong"})),
            ("errors", "/account/register", sent_empty),
            ("reset asked", "/account/forgot-password", filled({"#email": "resident@example.org"})),
            ("mailed link", f"/account/reset/{demo['reset_token']}", opened),
            ("errors", f"/account/reset/{demo['reset_token']}", filled({"#password": "short"})),
            ("mailed link", f"/account/confirm/{demo['confirm_token']}", opened),
            ("mailed link", f"/jury/invitation/{demo['invitation']}", opened),
            ("mailed link", f"/unfollow/{demo['unfollow_token']}", opened),
            ("search", "/calls", searched),
            ("no such page", "/no-such-page", opened),
        ],
        "citizen": [
            ("errors", f"/calls/{open_call}/enter", sent_empty),
            ("image without description", f"/calls/{open_call}/enter", with_files({"#image-1": 3})),
            ("errors", "/account/password", filled({"#current_password": "wrong password"})),
            ("errors", "/account/profile", filled({"#display_name": ""})),
            ("token made", "/account/api-tokens", filled({"#name": "我的手机"})),
            ("closed round", f"/rounds/{demo['pairwise_round']}/compare", opened),
            ("objection errors", f"/calls/{idea_call}/results", filled({}, "main form.narrow")),
            ("forbidden", "/console/", opened),
            ("report a comment", f"/comments/{demo['comment']}/report", opened),
            ("report errors", f"/comments/{demo['comment']}/report", sent_empty),
        ],
        "juror": [],
        "organiser": [
            ("errors", f"/console/{demo['transport']}/calls/new", sent_empty),
            ("errors", f"/console/calls/{railing_call}/rounds/new", sent_empty),
            ("errors", f"/console/calls/{railing_call}/public-rounds/new", sent_empty),
        ],
        "administrator": [
            ("errors", f"/console/calls/{open_call}/enter", sent_empty),
            ("images without descriptions", f"/console/calls/{open_call}/enter",
             with_files({"#image-1": 4, "#scan-1": 5}, {"#title": "居民来信：增加遮阳棚"})),
            ("errors", f"/console/calls/{idea_call}/meetings", sent_empty),
            ("errors", "/admin/departments", sent_empty),
        ],
    }


def _demo_facts(app) -> dict:
    """The ids and links of the demo's pieces that the form pages need."""
    from contest.models import Call, Comment, Department, PublicMode, Round, RoundMember, User
    from contest.services.accounts import _password_fingerprint
    from contest.tokens import make_token

    def call(title_start: str) -> int:
        return db.session.scalar(select(Call.id).where(Call.title.startswith(title_start)))

    resident = db.session.scalar(select(User).where(User.email == "resident@example.org"))
    juror = db.session.scalar(select(RoundMember).where(RoundMember.email == "juror3@example.org"))
    with app.test_request_context():
        return {
            "open_call": call("口袋公园"), "idea_call": call("15分钟"), "railing_call": call("道路栏杆"),
            "transport": db.session.scalar(select(Department.id).where(Department.name == "上海市交通委员会")),
            "pairwise_round": db.session.scalar(select(Round.id).where(  # the railing call's, closed
                Round.public_mode == PublicMode.PAIRWISE, Round.call_id == call("道路栏杆"))),
            "reset_token": make_token("reset-password", {"uid": resident.id, "pw": _password_fingerprint(resident)}),
            "confirm_token": make_token("confirm-email", {"uid": resident.id, "email": resident.email}),
            "invitation": make_token("juror-invitation", {"member": juror.id, "email": juror.email}),
            "comment": db.session.scalar(select(Comment.id).where(Comment.body.startswith("沙坑的沙子"))),
            "unfollow_token": _followed(resident, call("口袋公园")),
        }


def _followed(user, call_id: int) -> str:
    """The citizen follows the call (as by its button): the token of the link its mails carry."""
    from contest.models import Call
    from contest.services import following
    from contest.tokens import make_token

    following.follow(user, db.session.get(Call, call_id))
    db.session.commit()
    return make_token("unfollow", {"user": user.id, "call": call_id})


# The README's list of pages ------------------------------------------------------------------------------------

def readme_pages(adapter: MapAdapter) -> dict[str, str]:
    """Each address in the README's "### Pages" table -> the route serving it; `.../x` continues the address
    before it. An address no route serves fails here, so the list stays true."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("### Pages", 1)[1].split("\n## ", 1)[0]
    found, last = {}, "/"
    for token in re.findall(r"`([^`]+)`", table):
        if token.startswith("/api/v1/"):
            found[token] = "api"
        elif token.startswith(("/", "...")):
            if token.startswith("..."):
                stem = last.rstrip("/")
                candidates = [stem + token[3:], stem.rsplit("/", 1)[0] + token[3:]]  # .../edit, .../figures.csv
            else:
                candidates, last = [token], token
            for address in candidates:
                try:
                    found[address] = adapter.match(re.sub(r"<[^>]+>", "1", address.split("?", 1)[0]))[0]
                    break
                except (NotFound, MethodNotAllowed, RequestRedirect):
                    continue
            else:
                pytest.fail(f"the README lists {token}, which no route serves")
    return found


# The walk -------------------------------------------------------------------------------------------------------

@pytest.fixture
def demo_site(app, live_server, demo_snapshot):
    demo_snapshot.install(app)
    facts = _demo_facts(app)
    # The test's session let go of the demo's objects, which the test client would otherwise expire again after
    # each of the crawl's thousand requests (a tenth of the crawl's time); the walk reads only the ids above.
    db.session.remove()
    return live_server, facts


def _log_in(page, base: str, email: str) -> None:
    page.goto(base + "/account/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.locator("nav form[action$='/account/logout']").count() == 1, f"{email} could not log in"


def walk_role(app, browser, walk: Walk, role: str, email: str | None, extras) -> None:
    client = app.test_client()
    if email:
        log_in(client, email, PASSWORD)
    kinds = walk.reachable(client)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.add_init_script(path=str(AXE))  # before the page's own scripts, so the CSP stays as it is
    # Pictures are checked by their alt text, not their pixels: a tiny stand-in spares the server sending them all.
    blank = picture_bytes(0, size=(40, 30), fmt="PNG")
    context.route(re.compile(r"/media/\d+/"), lambda route: route.fulfill(body=blank, content_type="image/png"))
    page = context.new_page()
    try:
        if email:
            _log_in(page, walk.base, email)
        for language in LANGUAGES:
            page.goto(f"{walk.base}/lang/{language}")
            for path in samples(kinds, language):
                walk.visit(page, role, language, path)
            for label, path, action in extras:
                walk.check(page, role, language, action(page, walk.base + path), label, came_from=path)
    finally:
        context.close()


def test_every_page_of_every_role_in_both_languages_has_no_serious_violation(app, demo_site, browser, capsys):
    base, demo = demo_site
    adapter = app.url_map.bind("127.0.0.1")
    walk = Walk(base, adapter)
    started = time.monotonic()
    extras = form_pages(demo)
    for role, email in ROLES.items():
        walk_role(app, browser, walk, role, email, extras[role])
    seconds = time.monotonic() - started

    wanted = {endpoint for endpoint in readme_pages(adapter).values() if not NOT_PAGES.search(endpoint)}
    with capsys.disabled():
        print("\n" + _report(walk, seconds, wanted))

    assert walk.dead_links == [], "links to pages that answer an error: (page, link, status)"
    broken = [v for v in walk.visits if v.status >= 500]
    assert broken == [], f"pages that failed: {[(v.role, v.path, v.status) for v in broken]}"
    for language in LANGUAGES:
        walked = {kind for v in walk.visits if v.language == language for kind in (v.kind, v.came_from)}
        assert wanted - walked == set(), f"README pages never walked in {language}: {sorted(wanted - walked)}"
    failing = [(v, violation) for v in walk.visits for violation in v.violations
               if violation["impact"] in FAILING_IMPACTS]
    assert failing == [], _failures(failing)


def _report(walk: Walk, seconds: float, wanted: set[str]) -> str:
    pages = Counter((v.role, v.language) for v in walk.visits)
    walked = {kind for v in walk.visits for kind in (v.kind, v.came_from)}
    lines = [f"Accessibility walk: axe-core {_axe_version()} on {len(walk.visits)} pages "
             f"({len({(v.kind, v.label) for v in walk.visits})} kinds) in {seconds:.0f} s; "
             f"the README lists {len(wanted)} kinds of page, {len(wanted & walked)} of them walked",
             f"{'role':<15}" + "".join(f"{language:>6}" for language in LANGUAGES)]
    for role in ROLES:
        lines.append(f"{role:<15}" + "".join(f"{pages[role, language]:>6}" for language in LANGUAGES))
    lines.append(f"{'total':<15}" + "".join(f"{sum(pages[r, language] for r in ROLES):>6}"
                                            for language in LANGUAGES) + f"   {len(walk.visits)} pages")
    by_rule: dict[str, Counter] = defaultdict(Counter)
    impact, example = {}, {}
    for v in walk.visits:
        for violation in v.violations:
            by_rule[violation["id"]]["pages"] += 1
            by_rule[violation["id"]]["elements"] += len(violation["targets"])
            impact[violation["id"]] = violation["impact"]
            example.setdefault(violation["id"], f"{v.path} {violation['targets'][0]}")
    lines.append(f"{'rule':<32}{'impact':<10}{'pages':>6}{'elements':>10}  first seen")
    for rule in sorted(by_rule, key=lambda r: (-by_rule[r]["pages"], r)):
        lines.append(f"{rule:<32}{impact[rule]:<10}{by_rule[rule]['pages']:>6}{by_rule[rule]['elements']:>10}"
                     f"  {example[rule]}")
    if not by_rule:
        lines.append("(no violations)")
    return "\n".join(lines)


def _failures(failing) -> str:
    by_rule = defaultdict(list)
    for visit, violation in failing:
        by_rule[(violation["id"], violation["help"])].append(
            f"  {visit.role}/{visit.language} {visit.path}: {', '.join(violation['targets'][:3])}")
    lines = []
    for (rule, help_text), where in sorted(by_rule.items()):
        lines.append(f"{rule} ({help_text}) on {len(where)} pages:")
        lines.extend(where[:8])
    return "serious or critical violations:\n" + "\n".join(lines)


def _axe_version() -> str:
    match = re.search(r"axe v([\d.]+)", AXE.read_text(encoding="utf-8")[:200])
    return match.group(1) if match else "?"
