"""The whole story through the pages alone, in Debian's Chromium: an administrator sets up a department and its
organiser; the organiser writes a design call and opens it; citizens register, confirm by the mailed link and
send designs (one from a phone); the organiser moderates; a juror invited by mail makes an account from the
invitation and scores; the best two advance; a votes round is closed early; a pairwise round holds the advanced
entries and is compared on and closed; the results are published with a notice period, objected to and
answered, and made final once it is over; the winner is followed with a photo of it built.

No database edits, no command line, no service calls: the test only reads the mail outbox, to follow the links
a person would click in a mail, and moves the app's own clock (the `app_clock` fixture) when days pass. Every
step leaves a screenshot in test-artifacts/whole-story/."""
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import SHANGHAI, entry_number, id_in, load_images, local, status_says, write_railing_call_texts
from tests.helpers import PASSWORD, link_in, make_user, picture_bytes

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "whole-story"
NEW_PASSWORD = "a railing for the city 2027"

ORGANISER = ("organiser@transport.example.org", "Wang Fang")
LIN, CHEN, NEIGHBOUR = ("lin@example.org", "Lin Xiaoyu"), ("chen@example.org", "Chen Hao"), \
    ("neighbour@example.org", "Zhou Min")
JUROR = ("prof.zhou@example.org", "Professor Zhou")
MAGNOLIA, STONE_GATE, WAVE = "Magnolia railing", "Stone-gate railing", "Wave railing"
DESIGNS = {  # title: (entrant, description, image description, the juror's marks)
    MAGNOLIA: (LIN, "White magnolias, the city flower, in a row.", "A red railing with white magnolias",
               ("9", "8.5", "9")),
    STONE_GATE: (CHEN, "The lintels of shikumen houses.", "A grey railing with stone-gate arches", ("7", "7.5", "7")),
    WAVE: (CHEN, "The Huangpu river in steel.", "A blue railing shaped like waves", ("5", "6", "5.5")),
}
PHOTO_ALT = "The magnolia railing installed along Yan'an Road"






def proposed(page, label) -> datetime:
    """The moment a datetime-local field of the page holds, as the page proposed it."""
    return datetime.fromisoformat(page.get_by_label(label).input_value()).replace(tzinfo=SHANGHAI)


def choose_option(select_box, text):
    """Choose the option whose text holds `text` (department and round choices carry more than a name)."""
    select_box.select_option(select_box.locator("option", has_text=text).first.get_attribute("value"))


def test_the_whole_story_through_the_pages_alone(app, live_server, browser, outbox, app_clock, tmp_path):
    base = live_server
    contexts = []
    shots = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()

    def shot(page, name):
        """A screenshot of the step just done, numbered in the story's order."""
        path = ARTIFACTS / f"{len(shots) + 1:02d}-{name}.png"
        load_images(page)
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    def person(width=1280, height=900):
        """A browser of one person's own, speaking English (the choice is kept in the session)."""
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(base + "/lang/en")
        return page

    def time_passes_until(moment):
        """The app's clock moves on to a minute past `moment`, if that is still to come."""
        ahead = moment + timedelta(minutes=1) - app_clock.now()
        if ahead > timedelta(0):
            app_clock.move(ahead)

    def press_and_confirm(page, name, done):
        """Press the button or link `name`; when a page of its own asks to confirm, press `name` there too."""
        with page.expect_navigation():
            page.get_by_role("main").get_by_role("button", name=name).or_(
                page.get_by_role("main").get_by_role("link", name=name)).first.click()
        if not page.get_by_role("status").filter(has_text=done).count():
            shot(page, "confirm")
            page.get_by_role("main").get_by_role("button", name=name).click()
        status_says(page, done)

    def mails_to(email):
        return [m for m in outbox if m.to == email]

    def log_in(page, email, password=NEW_PASSWORD):
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("main").get_by_role("button", name="Log in").click()
        status_says(page, "You are logged in.")

    def register(page, email, name, group):
        """Fill in the registration form, follow the mailed link, and log in: as a new person does."""
        expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Name to show").fill(name)
        page.get_by_label("Which group do you belong to?").select_option(group)
        page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
        confirmations = mails_to(email)
        assert len(confirmations) == 1, [m.subject for m in confirmations]
        page.goto(base + link_in(confirmations[0]))
        status_says(page, "Thank you: your e-mail address is confirmed.")
        log_in(page, email)

    def add_public_round(title, mode, votes_per_citizen=None):
        """The organiser adds a public round holding what the expert round advanced, keeping the dates the form
        proposes, and the clock moves on to its opening: its id."""
        organiser.goto(f"{base}/console/calls/{call_id}/")
        organiser.get_by_role("link", name="Add a public round").click()
        organiser.get_by_label("Title in Chinese", exact=True).fill(title)
        organiser.get_by_label("How citizens take part").select_option(mode)
        if votes_per_citizen is not None:
            organiser.get_by_label("Votes per citizen").fill(votes_per_citizen)
        choose_option(organiser.get_by_label("Which entries the round holds"), "Expert round")
        opens = proposed(organiser, "Voting opens (Shanghai time)")  # the dates proposed are kept
        organiser.get_by_role("button", name="Save round").click()
        status_says(organiser, "The public round is saved.")
        status_says(organiser, "It holds 2 entries, those “Expert round” advanced.")
        round_id = id_in(organiser.url, r"/console/rounds/(\d+)/")
        time_passes_until(opens)
        return round_id

    def new_citizen(email, name, group, **size):
        page = person(**size)
        page.get_by_role("navigation").get_by_role("link", name="Register").click()
        register(page, email, name, group)
        return page

    try:
        # 1. The administrator (made with `flask create-admin`, the one account that is not made on a page) adds
        #    the department; its organiser registers; the administrator makes them a member of it.
        make_user("admin@example.org", name="Administrator", admin=True)
        admin = person()
        admin.goto(base + "/account/login")
        log_in(admin, "admin@example.org", PASSWORD)
        admin.goto(base + "/admin/")
        admin.get_by_role("main").get_by_role("link", name="Departments").first.click()
        for name, name_en, level, parent in [("上海市", "Shanghai", "City", None),
                                             ("上海市交通委员会", "Shanghai Municipal Transport Commission", "Agency",
                                              "Shanghai")]:
            admin.get_by_label("Name (Chinese)").fill(name)
            admin.get_by_label("Name (English)").fill(name_en)
            admin.get_by_label("Level").select_option(label=level)
            if parent:
                choose_option(admin.get_by_label("Parent department"), parent)
            admin.get_by_role("button", name="Save department").click()
            status_says(admin, f"Department {name_en} added.")
        shot(admin, "department-added")

        organiser = new_citizen(*ORGANISER, "professional")
        admin.goto(base + "/admin/users")
        admin.get_by_label("Search by e-mail or name").fill(ORGANISER[0])
        admin.get_by_role("button", name="Search").click()
        admin.get_by_role("link", name=ORGANISER[1]).click()
        choose_option(admin.get_by_label("Department", exact=True), "Transport Commission")
        admin.get_by_role("button", name="Add to department").click()
        status_says(admin, "Added to the department.")
        shot(admin, "organiser-added")

        # 2. The organiser writes a design call and publishes it, opening in ten minutes.
        organiser.goto(base + "/console/")
        organiser.get_by_role("link", name="Shanghai Municipal Transport Commission").click()
        organiser.get_by_role("link", name="New call").click()
        organiser.get_by_label("Kind of call").select_option(label="Design call")
        write_railing_call_texts(organiser)
        now = app_clock.now()
        organiser.get_by_label("Opens (Shanghai time)").fill(local(now + timedelta(minutes=10)))
        organiser.get_by_label("Closes (Shanghai time)").fill(local(now + timedelta(days=14)))
        organiser.get_by_label("Weight of the jury's ranking (%)").fill("70")
        organiser.get_by_label("Weight of the public's ranking (%)").fill("30")
        organiser.get_by_role("button", name="Save call").click()
        status_says(organiser, "The call is saved as a draft.")
        call_id = id_in(organiser.url, r"/console/calls/(\d+)/")
        organiser.get_by_role("button", name="Publish call").click()
        status_says(organiser, "The call is published.")
        shot(organiser, "call-published")

        app_clock.move(timedelta(minutes=15))  # the call opens
        organiser.reload()
        shot(organiser, "call-open")

        # 3. Three citizens register and confirm by the mailed link; two send designs, Lin from a phone.
        lin = new_citizen(*LIN, "student", width=390, height=844)
        chen = new_citizen(*CHEN, "professional")
        neighbour = new_citizen(*NEIGHBOUR, "citizen")
        shot(lin, "citizen-registered-on-a-phone")
        for n, (title, (entrant, description, alt, _marks)) in enumerate(DESIGNS.items()):
            page = lin if entrant == LIN else chen
            image = tmp_path / f"design-{n}.jpg"
            image.write_bytes(picture_bytes(80 + n))
            page.goto(base + "/calls")
            page.get_by_role("link", name="Draw the city's road railings").first.click()
            page.get_by_role("link", name="Send an entry").click()
            page.get_by_label("Title").fill(title)
            page.get_by_label("Description").fill(description)
            page.locator("#image-1").set_input_files(str(image))
            page.locator("#image-1-alt").fill(alt)
            page.get_by_label("I accept the licence terms and declare that this is my own original work.").check()
            shot(page, f"entry-form-{n + 1}")
            page.get_by_role("button", name="Send entry").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("My entries")
            expect(page.get_by_role("main")).to_contain_text(title)
            shot(page, f"entry-sent-{n + 1}")

        # 4. The organiser approves the three designs.
        organiser.goto(f"{base}/console/calls/{call_id}/moderation")
        for title in DESIGNS:
            organiser.get_by_label(f"Select “{title}”").check()
        organiser.get_by_role("button", name="Approve selected").click()
        status_says(organiser, "3 entries updated.")
        shot(organiser, "moderated")

        # 5. An expert round, with the dates it proposes; a juror is invited by mail.
        organiser.goto(f"{base}/console/calls/{call_id}/")
        organiser.get_by_role("link", name="Add an expert round").click()
        organiser.get_by_label("Criteria in Chinese").fill("Cultural expression | 30\nFeasibility and safety | 30\n"
                                                "Aesthetics | 40 | Beauty seen from the pavement")
        organiser.get_by_label("Jurors per entry").fill("1")
        organiser.get_by_label("Normalise each juror's marks, so harsh and lenient jurors count alike").uncheck()
        organiser.get_by_role("button", name="Save round").click()
        status_says(organiser, "The round is saved. Now invite its jurors.")
        expert_id = id_in(organiser.url, r"/console/rounds/(\d+)/")
        organiser.get_by_label("Juror's e-mail address").fill(JUROR[0])
        organiser.get_by_label("Juror's name").fill(JUROR[1])
        organiser.get_by_role("button", name="Send invitation").click()
        status_says(organiser, f"Invitation sent to {JUROR[0]}.")
        shot(organiser, "expert-round-and-invitation")

        # 6. The juror, new to the site, follows the mailed invitation, makes an account from it, confirms it and
        #    accepts.
        [invitation_mail] = mails_to(JUROR[0])
        invitation = link_in(invitation_mail)
        juror = person()
        juror.goto(base + invitation)
        expect(juror.get_by_role("heading", level=1)).to_have_text("Invitation to judge")
        shot(juror, "invitation")
        juror.get_by_role("main").get_by_role("link", name="Create an account").click()
        expect(juror.get_by_label("E-mail address")).to_have_value(JUROR[0])  # the invited address, filled in
        juror.get_by_label("Name to show").fill(JUROR[1])
        juror.get_by_label("Which group do you belong to?").select_option("professional")
        juror.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
        juror.get_by_label("Password again").fill(NEW_PASSWORD)
        juror.get_by_role("button", name="Create account").click()
        expect(juror.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
        confirmation = [m for m in mails_to(JUROR[0]) if m is not invitation_mail]
        assert len(confirmation) == 1
        juror.goto(base + link_in(confirmation[0]))
        status_says(juror, "Thank you: your e-mail address is confirmed.")
        log_in(juror, JUROR[0])
        assert invitation in juror.url  # back on the invitation: it held through registration and login
        juror.get_by_role("button", name="Accept the invitation").click()
        status_says(juror, "Welcome to the jury.")
        shot(juror, "juror-accepted")

        # 7. The call closes, scoring opens; the organiser assigns; the juror scores the three designs.
        app_clock.move(timedelta(days=14))
        organiser.goto(f"{base}/console/rounds/{expert_id}/")
        organiser.get_by_role("button", name="Assign entries to jurors").click()
        status_says(organiser, "3 assignments made.")
        shot(organiser, "assigned")

        juror.goto(f"{base}/jury/rounds/{expert_id}/")
        expect(juror.get_by_text("0 of 3 scored")).to_be_visible()
        juror.locator(".jury-list a").first.click()
        for _ in range(3):
            heading = juror.get_by_role("heading", level=1)
            title = heading.inner_text()
            for select_box, mark in zip(juror.locator("select.mark").all(), DESIGNS[title][3], strict=True):
                select_box.select_option(mark)
            shot(juror, "scoring")
            juror.get_by_role("button", name="Submit score").click()
            expect(heading).not_to_have_text(title)  # on to the next entry, then back to the list
        expect(juror.get_by_text("3 of 3 scored")).to_be_visible()
        shot(juror, "scored")

        # 8. Scoring is closed early and the best two advance.
        organiser.reload()
        press_and_confirm(organiser, "Close scoring now", "Scoring is closed. Now decide who advances.")
        organiser.get_by_label("Who advances", exact=True).select_option(label="The best N entries")
        organiser.get_by_label("N or per cent").fill("2")
        organiser.get_by_role("button", name="Confirm who advances").click()
        status_says(organiser, "Decided: 2 entries advance.")
        shot(organiser, "advanced")

        # 9. A votes round holding the advanced designs, opening now.
        votes_id = add_public_round("Public vote", "votes", votes_per_citizen="1")
        shot(organiser, "votes-round")

        for voter, choice in [(lin, STONE_GATE), (chen, MAGNOLIA), (neighbour, MAGNOLIA)]:
            voter.goto(f"{base}/calls/{call_id}")
            voter.get_by_role("link", name="Public vote").first.click()
            expect(voter.get_by_role("button", name=f"Vote {WAVE}")).to_have_count(0)  # it did not advance
            voter.get_by_role("button", name=f"Vote {choice}").click()
            status_says(voter, f"Your vote for “{choice}” is counted.")
        shot(neighbour, "voted")

        # 10. The organiser closes voting early, confirming on a page of its own.
        organiser.goto(f"{base}/console/rounds/{votes_id}/")
        organiser.get_by_role("link", name="Close voting now").click()
        expect(organiser.get_by_role("heading", level=1)).to_have_text("Close voting in “Public vote” now?")
        shot(organiser, "close-voting-confirm")
        organiser.get_by_role("button", name="Close voting now").click()
        status_says(organiser, "Voting is closed.")
        shot(organiser, "voting-closed")

        # 11. A pairwise round holding the designs the expert round advanced, compared on, then closed.
        pairwise_id = add_public_round("Which railing would you rather see?", "pairwise")
        shot(organiser, "pairwise-round")

        neighbour.goto(f"{base}/rounds/{pairwise_id}")
        neighbour.get_by_role("link", name="Start comparing").click()
        pair = neighbour.locator(".pair-choice button")
        expect(pair).to_have_count(2)
        shot(neighbour, "pair")
        pair.filter(has_text=MAGNOLIA).click()
        status_says(neighbour, "Thank you: your answer is counted.")
        expect(neighbour.get_by_role("main")).to_contain_text("You have made 1 comparison.")
        shot(neighbour, "compared")

        organiser.goto(f"{base}/console/rounds/{pairwise_id}/")
        press_and_confirm(organiser, "Close voting now", "Voting is closed.")
        shot(organiser, "pairwise-closed")

        # 12. The organiser previews the results, keeps the computed prizes, and publishes with a notice period.
        organiser.goto(f"{base}/console/calls/{call_id}/")
        organiser.get_by_role("link", name="Results and awards").click()
        expect(organiser.get_by_role("heading", name="Preview of the final ranking and prizes")).to_be_visible()
        expect(organiser.get_by_label(f"Prize for “{MAGNOLIA}”").locator("option:checked")).to_have_text(
            "First prize")
        organiser.get_by_role("button", name="Save the awards").click()
        status_says(organiser, "The awards are saved.")
        organiser.get_by_label("Notice period (days)").fill("7")
        shot(organiser, "results-preview")
        organiser.get_by_role("button", name="Publish the results").click()
        status_says(organiser, "The results are published. The notice period has begun.")
        shot(organiser, "results-published")

        # 13. A citizen objects on the public results page; the organiser answers; the answer is public.
        chen.goto(f"{base}/calls/{call_id}")
        chen.get_by_role("link", name="See the results").click()
        winners = chen.get_by_role("region", name="Winners")
        expect(winners.locator(".entry-card").first).to_contain_text(MAGNOLIA)
        chen.get_by_label("Number of the entry you object to").fill(entry_number(chen, STONE_GATE))
        reason = "The stone-gate railing won the public vote. Why is it only second?"
        chen.get_by_label("Your reason").fill(reason)
        chen.get_by_role("button", name="File the objection").click()
        status_says(chen, "Your objection is filed.")
        shot(chen, "objection-filed")

        organiser.reload()
        answer = "The jury's ranking weighs 70% and the public's 30%, as the call declared before it opened."
        organiser.get_by_label("Answer", exact=True).fill(answer)
        organiser.get_by_role("button", name="Publish the answer").click()
        status_says(organiser, "The answer is published.")
        shot(organiser, "objection-answered")
        chen.reload()
        expect(chen.get_by_text(answer)).to_be_visible()
        shot(chen, "answer-seen")

        # 14. The notice period ends; the organiser makes the results final.
        app_clock.move(timedelta(days=7, minutes=1))
        organiser.reload()
        press_and_confirm(organiser, "Make the results final", "The results are final.")
        shot(organiser, "results-final")
        chen.reload()
        expect(chen.get_by_text("These results are final since")).to_be_visible()
        expect(chen.get_by_role("button", name="File the objection")).to_have_count(0)
        shot(chen, "final-results-public")

        # 15. The organiser adopts the winner and records it built, with a photo.
        organiser.goto(f"{base}/console/calls/{call_id}/")
        organiser.get_by_role("link", name="Follow-up of adopted entries").click()
        adopt_buttons = organiser.get_by_role("region", name="Adopt an entry").get_by_role("button", name="Adopt “")
        expect(adopt_buttons.first).to_have_text(f"Adopt “{MAGNOLIA}”")  # the winner is proposed first
        adopt_buttons.first.click()
        status_says(organiser, f"“{MAGNOLIA}” is adopted")
        photo = tmp_path / "installed.jpg"
        photo.write_bytes(picture_bytes(99, size=(1200, 800)))
        organiser.get_by_label("Stage").select_option(label="Implemented")
        organiser.get_by_label("Progress (per cent)").fill("100")
        organiser.get_by_label("What happened, in Chinese").fill("The railing is up along Yan'an Road.")
        organiser.get_by_label("Photo (optional)").set_input_files(str(photo))
        organiser.get_by_label("Describe the photo in a sentence").fill(PHOTO_ALT)
        organiser.get_by_role("button", name="Add update").click()
        status_says(organiser, f"The update of “{MAGNOLIA}” is saved.")
        shot(organiser, "follow-up-recorded")

        public = person(width=390, height=844)
        public.goto(f"{base}/calls/{call_id}")
        public.get_by_role("link", name="From design to street: 1 adopted entry").click()
        card = public.get_by_role("article", name=MAGNOLIA)
        expect(card.locator('[aria-current="step"]')).to_have_text("Implemented")
        installed = card.get_by_alt_text(PHOTO_ALT)
        expect(installed).to_be_visible()
        shot(public, "follow-up-public")
        assert installed.evaluate("img => img.naturalWidth") > 0  # the photo really loads

        # 16. The call's public timeline tells the story, in order.
        public.goto(f"{base}/calls/{call_id}")
        flat = [" ".join(item.split()) for item in public.locator("ol.timeline > li").all_inner_texts()]
        story = [
            "The call was published.",
            "Opened for entries.",
            "Closed for entries. 3 entries received, 3 approved.",
            "“Expert round” opened.",
            "Scoring closed in “Expert round”.",
            "“Expert round” decided: 2 of 3 entries advance.",
            "“Public vote” opened.",
            "Voting in “Public vote” closed early.",
            "“Which railing would you rather see?” opened.",
            "Voting in “Which railing would you rather see?” closed early.",
            "The results were published. Objections are open until",
            "An objection was filed.",
            "The organisers answered an objection.",
            "The results became final.",
            f"“{MAGNOLIA}”: Adopted",
            f"“{MAGNOLIA}”: Implemented",
        ]
        found = []
        for step in story:
            places = [n for n, item in enumerate(flat) if step in item]
            assert places, f"the timeline does not say {step!r}: {flat}"
            found.append(places[0])
        assert found == sorted(found), f"the timeline is out of order: {flat}"
        assert len(flat) == len(story), f"the timeline has steps the story does not expect: {flat}"
        shot(public, "timeline")
    finally:
        for context in contexts:
            context.close()

    assert all(path.stat().st_size > 0 for path in shots)
