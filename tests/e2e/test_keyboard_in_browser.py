"""Every action of the contest by keyboard alone: Tab and Shift+Tab to move, Enter and Space to act, typing to
fill in; the pointer is never used. A juror scores an entry with every criterion; a citizen compares a pair,
votes and takes the vote back; an entrant sends a design with an image; the organiser approves it.

Locators here only read (which element has the focus, what a field holds); every action is a key press."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from sqlalchemy import select

from contest.extensions import db
from contest.models import Comparison, Entry, EntryStatus, Score, Vote
from contest.models.types import utcnow
from contest.services.rounds import assign
from tests.helpers import (
    approved_entries,
    count_rows,
    make_call,
    make_juror,
    make_organiser,
    make_public_round,
    make_round,
    make_voter,
    picture_bytes,
    zh,
    zh_n,
)

pytestmark = pytest.mark.browser

# What the focused element is, in a few words, for the messages of failed tests.
DESCRIBE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
    const text = (el.getAttribute('aria-label') || label || el.innerText || el.value || '').trim();
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${text.slice(0, 60)}"`;
}"""

# Whether the focused element shows that it has the focus: it matches :focus-visible and looks different from
# an unfocused copy of itself, by a visible outline, a shadow or its background.
FOCUS_SHOWS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || !el.matches(':focus-visible')) return false;
    const copy = el.cloneNode(true);
    copy.removeAttribute('id');
    el.after(copy);
    const focused = getComputedStyle(el), plain = getComputedStyle(copy);
    const outlined = s => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
        && !/rgba\\(.*, 0\\)$|transparent/.test(s.outlineColor);
    const shows = (outlined(focused) && !outlined(plain)) || focused.boxShadow !== plain.boxShadow
        || focused.backgroundColor !== plain.backgroundColor;
    copy.remove();
    return shows;
}"""


def has_focus(target) -> bool:
    return target.evaluate_all("els => els.includes(document.activeElement)")


def tab_to(page, target, limit=80, backwards=False):
    """Press Tab (or Shift+Tab) until the focus is on `target`, a locator; fail after `limit` presses."""
    path = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if has_focus(target):
            return
        path.append(page.evaluate(DESCRIBE))
    raise AssertionError(f"{limit} presses of Tab never reached {target}; the focus went through {path}")


def assert_focus_shows(page):
    assert page.evaluate(FOCUS_SHOWS), f"the focus on {page.evaluate(DESCRIBE)} cannot be seen"


def log_in(page, base, email):
    page.goto(base + "/account/login")
    tab_to(page, page.get_by_label(zh("E-mail address")))
    assert_focus_shows(page)
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert has_focus(page.get_by_label(zh("Password")))
    page.keyboard.type("correct horse battery")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(zh("You are logged in."))


def press_on(page, target, key="Enter", navigates=True):
    """Tab to a control, check that its focus shows, press a key on it and wait for the page it leads to."""
    tab_to(page, target)
    assert_focus_shows(page)
    if not navigates:
        page.keyboard.press(key)
        return
    with page.expect_navigation():
        page.keyboard.press(key)


def test_a_juror_scores_an_entry_with_every_criterion(app, live_server, page, transport_commission,
                                                      transport_organiser):
    call = make_call(transport_commission)
    approved_entries(call, 2)
    call.closes_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    round_ = make_round(call, transport_organiser, k=1)
    make_juror(round_, "expert@example.org", name="周教授")
    assign(transport_organiser, round_)
    db.session.commit()
    round_id, criteria = round_.id, [(c.id, c.name, c.weight) for c in round_.criteria]

    log_in(page, live_server, "expert@example.org")
    page.goto(f"{live_server}/jury/rounds/{round_id}/")
    press_on(page, page.locator(".jury-list a").first)
    title = page.get_by_role("heading", level=1).inner_text()

    selects = [page.get_by_label(zh("%(name)s (%(weight)s%%)", name=name, weight=weight))
               for _id, name, weight in criteria]
    for select_box, mark in zip(selects[:2], ["8.5", "7"], strict=True):
        tab_to(page, select_box)
        assert_focus_shows(page)
        page.keyboard.type(mark)  # a closed list box picks the option that begins with what is typed
        expect(select_box).to_have_value(mark)
    # Submitted with a mark missing: the page comes back with the problem, which takes the focus.
    press_on(page, page.get_by_role("button", name=zh("Submit score")))
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text(zh("Give a mark for “%(name)s”.", name=criteria[2][1]))
    expect(problem).to_be_focused()  # autofocus waits for the stylesheet
    assert_focus_shows(page)
    expect(selects[0]).to_have_value("8.5")  # the marks given are kept
    page.keyboard.press("Tab")  # the score's fields follow the problem
    assert has_focus(selects[0])
    tab_to(page, selects[2])
    page.keyboard.type("10")
    expect(selects[2]).to_have_value("10")
    tab_to(page, selects[0], backwards=True)  # back up, and lower a mark by one step
    page.keyboard.press("ArrowUp")
    expect(selects[0]).to_have_value("8")
    tab_to(page, page.get_by_label(zh("Note for the entrant")))
    page.keyboard.type("栏杆图案清晰。")
    press_on(page, page.get_by_role("button", name=zh("Submit score")))
    expect(page.get_by_role("status")).to_contain_text(zh("Score submitted."))
    expect(page.get_by_role("heading", level=1)).not_to_have_text(title)  # on to the next entry

    db.session.commit()
    score = db.session.scalar(select(Score))
    assert score.submitted_at is not None
    assert [score.marks[str(criterion_id)] for criterion_id, _name, _weight in criteria] == [8, 7, 10]
    assert score.note_to_entrant == "栏杆图案清晰。"


def test_a_citizen_compares_a_pair_votes_and_takes_the_vote_back(app, live_server, page, transport_commission,
                                                                 planning_bureau, transport_organiser):
    railing = make_call(transport_commission)
    approved_entries(railing, 3)
    pairwise_id = make_public_round(railing, transport_organiser, mode="pairwise").id
    ideas = make_call(planning_bureau, title="社区生活圈")
    first = approved_entries(ideas, 2, start_seed=500)[0]
    first_id, first_title = first.id, first.title
    votes_id = make_public_round(ideas, make_organiser(planning_bureau, "planner@example.org"), mode="votes").id
    make_voter("walker@example.org")
    log_in(page, live_server, "walker@example.org")

    page.goto(f"{live_server}/rounds/{pairwise_id}")
    press_on(page, page.get_by_role("link", name=zh("Start comparing")))
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Which do you prefer?"))
    prefer = zh("I prefer “%(title)s”", title="\x00").split("\x00")[0]  # whichever entry comes first
    press_on(page, page.get_by_role("button", name=prefer).first)
    expect(page.get_by_role("status")).to_contain_text(zh("Thank you: your answer is counted."))
    # The next pair: the skip link leads past the menus to the page's own content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=zh("Skip to main content"))
    assert has_focus(skip)
    assert_focus_shows(page)
    assert skip.evaluate("a => a.getBoundingClientRect().left >= 0")  # on screen while it has the focus
    page.keyboard.press("Enter")
    assert has_focus(page.get_by_role("main"))
    press_on(page, page.get_by_role("button", name=zh("I can't decide")), key="Space")
    made = zh_n("You have made %(num)d comparison.", "You have made %(num)d comparisons.", 2)
    expect(page.get_by_role("main")).to_contain_text(made)
    assert count_rows(Comparison) == 2
    assert db.session.scalar(select(Comparison).order_by(Comparison.id)).winner_id is not None

    page.goto(f"{live_server}/rounds/{votes_id}")
    press_on(page, page.get_by_role("button", name=f"{zh('Vote')} {first_title}"))
    expect(page.get_by_role("status")).to_contain_text(zh("Your vote for “%(title)s” is counted.",
                                                          title=first_title))
    assert count_rows(Vote) == 1
    page.keyboard.press("Tab")  # the page comes back where the vote was cast, not at its top
    assert has_focus(page.locator(f"#entry-{first_id} :is(a, button)"))
    press_on(page, page.get_by_role("button", name=f"{zh('Take back my vote')} {first_title}"), key="Space")
    expect(page.get_by_role("status")).to_contain_text(zh("Your vote for “%(title)s” is taken back.",
                                                          title=first_title))
    assert count_rows(Vote) == 0


def test_an_entrant_sends_a_design_with_an_image_and_the_organiser_approves_it(
        app, live_server, browser, page, citizen, transport_organiser, transport_commission, tmp_path):
    call_id = make_call(transport_commission).id
    image = tmp_path / "railing.jpg"
    image.write_bytes(picture_bytes(71))

    log_in(page, live_server, citizen.email)
    page.goto(f"{live_server}/calls/{call_id}")
    press_on(page, page.get_by_role("link", name=zh("Send an entry")))
    # The form's map loads its script and the district outlines after the page: keys go in once it has settled.
    page.wait_for_load_state("networkidle")
    tab_to(page, page.get_by_label(zh("Title")))
    page.keyboard.type("玉兰花栏杆")
    tab_to(page, page.get_by_label(zh("Description")))
    page.keyboard.type("以市花白玉兰为主题。")
    tab_to(page, page.locator("#image-1"))
    assert_focus_shows(page)
    for _attempt in range(3):  # under load Chromium now and then lets a key press on a file input go unanswered
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Space")
            break
        except PlaywrightTimeoutError:
            assert has_focus(page.locator("#image-1")), "the focus left the file input"
    else:
        raise AssertionError("Space on the focused file input opened no file chooser, three times")
    chooser.value.set_files(str(image))
    tab_to(page, page.locator("#image-1-alt"))
    page.keyboard.type("白色玉兰花排成一行的红色栏杆")
    accept = page.get_by_label(zh("I accept the licence terms and declare that this is my own original work."))
    press_on(page, accept, key="Space", navigates=False)
    expect(accept).to_be_checked()
    press_on(page, page.get_by_role("button", name=zh("Send entry")))
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("My entries"))
    db.session.commit()
    entry = db.session.scalar(select(Entry))
    assert entry.title == "玉兰花栏杆" and len(entry.images) == 1
    assert entry.images[0].alt_text == "白色玉兰花排成一行的红色栏杆"

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        organiser = context.new_page()
        log_in(organiser, live_server, transport_organiser.email)
        organiser.goto(f"{live_server}/console/calls/{call_id}/moderation")
        press_on(organiser, organiser.get_by_label(zh("Select “%(title)s”", title="玉兰花栏杆")), key="Space",
                 navigates=False)
        press_on(organiser, organiser.get_by_role("button", name=zh("Approve selected")))
        expect(organiser.get_by_role("status")).to_be_visible()
    finally:
        context.close()
    db.session.commit()
    db.session.refresh(entry)
    assert entry.status is EntryStatus.APPROVED
