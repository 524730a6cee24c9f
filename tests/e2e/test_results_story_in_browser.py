"""The whole railing story in a real browser, in English: an organiser sets up a call with a 70/30 formula, an
expert round and a public round; three citizens send designs; three jurors score them and two advance; citizens
vote; the results are published, objected to, answered and made final; the winner is adopted and built — and the
call's public timeline tells every step.

"Time passes" between the steps by moving dates in the database, which the live server shares."""
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contest.extensions import db
from contest.models import Call, Round
from contest.models.types import utcnow
from tests.e2e.pages import entry_number, id_in, load_images, local, status_says, write_railing_call_texts
from tests.helpers import PASSWORD, last_mail, link_in, make_user, make_voter, picture_bytes

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

MAGNOLIA, STONE_GATE, WAVE = "Magnolia railing", "Stone-gate railing", "Wave railing"
DESIGNS = [  # (entrant, title, description, image description)
    ("lin@example.org", MAGNOLIA, "White magnolias, the city flower, in a row.", "A red railing with white magnolias"),
    ("chen@example.org", STONE_GATE, "The lintels of shikumen houses.", "A grey railing with stone-gate arches"),
    ("zhou@example.org", WAVE, "The Huangpu river in steel.", "A blue railing shaped like waves"),
]
MARKS = {MAGNOLIA: ("9", "8.5", "9"), STONE_GATE: ("7", "7.5", "7"), WAVE: ("5", "6", "5.5")}
JURORS = [("prof.zhou@example.org", "Professor Zhou"), ("eng.wu@example.org", "Engineer Wu"),
          ("artist.he@example.org", "Artist He")]
BALLOTS = [("walker@example.org", STONE_GATE), ("cyclist@example.org", STONE_GATE), ("driver@example.org", MAGNOLIA)]
PHOTO_ALT = "The magnolia railing installed along Yan'an Road"






def time_passes(change) -> None:
    """Days pass: move dates in the database the server reads."""
    db.session.commit()  # a fresh transaction, so that the objects read now are what the server wrote
    change()
    db.session.commit()




def test_the_railing_story_from_call_to_street(app, live_server, browser, outbox, transport_commission,
                                               transport_organiser, tmp_path):
    base = live_server
    contexts = []

    def visitor(width=390):
        """A new browser speaking English (the choice is kept in the session, through logging in)."""
        context = browser.new_context(viewport={"width": width, "height": 844}, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        page.goto(base + "/lang/en")
        return page

    def log_in(page, email):
        page.goto(base + "/account/login")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("main").get_by_role("button", name="Log in").click()
        expect(page.get_by_role("status")).to_contain_text("You are logged in.")

    try:
        # 1. The organiser writes the call, publishes it, and adds an expert round and a public round.
        organiser = visitor(width=1280)
        log_in(organiser, transport_organiser.email)
        organiser.goto(f"{base}/console/{transport_commission.id}/")
        organiser.get_by_role("link", name="New call").click()
        expect(organiser.get_by_role("heading", level=1)).to_have_text("New call")
        organiser.get_by_label("Kind of call").select_option(label="Design call")
        write_railing_call_texts(organiser)
        now = utcnow()
        organiser.get_by_label("Opens (Shanghai time)").fill(local(now + timedelta(days=1)))
        organiser.get_by_label("Closes (Shanghai time)").fill(local(now + timedelta(days=30)))
        organiser.get_by_label("Weight of the jury's ranking (%)").fill("70")
        organiser.get_by_label("Weight of the public's ranking (%)").fill("30")
        organiser.get_by_label("Combine the parts").select_option(label="on ranks")
        organiser.get_by_role("button", name="Save call").click()
        status_says(organiser, "The call is saved as a draft.")
        call_id = id_in(organiser.url, r"/console/calls/(\d+)/")
        organiser.get_by_role("button", name="Publish call").click()
        status_says(organiser, "The call is published.")

        organiser.get_by_role("link", name="Add an expert round").click()
        expect(organiser.get_by_label("Title in Chinese", exact=True)).to_have_value("Expert round")
        organiser.get_by_label("Criteria in Chinese").fill("Cultural expression | 30\nFeasibility and safety | 30\n"
                                                "Aesthetics | 40 | Beauty seen from the pavement")
        organiser.get_by_label("Jurors per entry").fill("3")
        organiser.get_by_label("Normalise each juror's marks, so harsh and lenient jurors count alike").uncheck()
        organiser.get_by_role("button", name="Save round").click()  # the dates proposed follow the call's
        status_says(organiser, "The round is saved. Now invite its jurors.")
        expert_id = id_in(organiser.url, r"/console/rounds/(\d+)/")
        for email, name in JURORS:
            organiser.get_by_label("Juror's e-mail address").fill(email)
            organiser.get_by_label("Juror's name").fill(name)
            organiser.get_by_role("button", name="Send invitation").click()
            status_says(organiser, f"Invitation sent to {email}.")

        organiser.goto(f"{base}/console/calls/{call_id}/")
        organiser.get_by_role("link", name="Add a public round").click()
        expect(organiser.get_by_label("Title in Chinese", exact=True)).to_have_value("Public round")
        organiser.get_by_label("How citizens take part").select_option("votes")
        organiser.get_by_label("Votes per citizen").fill("1")
        organiser.get_by_role("button", name="Save round").click()  # opening when the expert round closes
        status_says(organiser, "The public round is saved.")
        public_id = id_in(organiser.url, r"/console/rounds/(\d+)/")

        time_passes(lambda: setattr(db.session.get(Call, call_id), "opens_at", utcnow()))  # the call opens

        # 2. Three citizens send a design each.
        for n, (email, title, description, alt) in enumerate(DESIGNS):
            make_user(email, name=f"Entrant {n}")
            image = tmp_path / f"design-{n}.jpg"
            image.write_bytes(picture_bytes(80 + n))
            entrant = visitor()
            log_in(entrant, email)
            entrant.goto(f"{base}/calls/{call_id}")
            entrant.get_by_role("link", name="Send an entry").click()
            entrant.get_by_label("Title").fill(title)
            entrant.get_by_label("Description").fill(description)
            entrant.locator("#image-1").set_input_files(str(image))
            entrant.locator("#image-1-alt").fill(alt)
            entrant.get_by_label("I accept the licence terms and declare that this is my own original work.").check()
            entrant.get_by_role("button", name="Send entry").click()
            expect(entrant.get_by_role("heading", level=1)).to_have_text("My entries")
            expect(entrant.get_by_text("Waiting for moderation")).to_be_visible()

        # 3. The organiser approves them.
        organiser.goto(f"{base}/console/calls/{call_id}/moderation")
        for _email, title, _description, _alt in DESIGNS:
            organiser.get_by_label(f"Select “{title}”").check()
        organiser.get_by_role("button", name="Approve selected").click()
        status_says(organiser, "3 entries updated.")

        def call_closes():
            now = utcnow()
            db.session.get(Call, call_id).closes_at = now - timedelta(seconds=2)
            db.session.get(Round, expert_id).opens_at = now - timedelta(seconds=1)

        time_passes(call_closes)

        # 4. The jurors accept their invitations; the organiser assigns; each juror scores the three entries.
        jurors = []
        for email, name in JURORS:
            make_user(email, name=name)
            juror = visitor()
            juror.goto(base + link_in(last_mail(email)))
            expect(juror.get_by_role("heading", level=1)).to_have_text("Invitation to judge")
            juror.get_by_role("main").get_by_role("link", name="Log in").click()
            juror.get_by_label("E-mail address").fill(email)
            juror.get_by_label("Password").fill(PASSWORD)
            juror.get_by_role("main").get_by_role("button", name="Log in").click()
            juror.get_by_role("button", name="Accept the invitation").click()
            status_says(juror, "Welcome to the jury.")
            jurors.append(juror)

        organiser.goto(f"{base}/console/rounds/{expert_id}/")
        organiser.get_by_role("button", name="Assign entries to jurors").click()
        status_says(organiser, "9 assignments made.")

        for juror in jurors:
            juror.goto(f"{base}/jury/rounds/{expert_id}/")
            expect(juror.get_by_text("0 of 3 scored")).to_be_visible()
            juror.locator(".jury-list a").first.click()
            for _ in range(3):
                heading = juror.get_by_role("heading", level=1)
                title = heading.inner_text()
                for select_box, mark in zip(juror.locator("select.mark").all(), MARKS[title], strict=True):
                    select_box.select_option(mark)
                juror.get_by_role("button", name="Submit score").click()
                expect(heading).not_to_have_text(title)  # on to the next entry, then back to the list
            expect(juror.get_by_text("3 of 3 scored")).to_be_visible()

        organiser.reload()
        organiser.get_by_role("link", name="Close scoring now").click()  # asks first, on a page of its own
        organiser.get_by_role("button", name="Close scoring now").click()
        status_says(organiser, "Scoring is closed. Now decide who advances.")
        organiser.get_by_label("Who advances", exact=True).select_option(label="The best N entries")
        organiser.get_by_label("N or per cent").fill("2")
        organiser.get_by_role("button", name="Confirm who advances").click()
        status_says(organiser, "Decided: 2 entries advance.")

        # 5. The public round opens; three citizens whose accounts are days old vote.
        time_passes(lambda: setattr(db.session.get(Round, public_id), "opens_at", utcnow()))
        voters = {}
        for email, choice in BALLOTS:
            make_voter(email, name=email.split("@")[0].title(), locale="en")
            voter = visitor()
            voters[email] = voter
            log_in(voter, email)
            voter.goto(f"{base}/calls/{call_id}")
            voter.get_by_role("link", name="Public round").click()
            expect(voter.get_by_text("Votes left: 1 of 1.")).to_be_visible()
            expect(voter.get_by_role("button", name=f"Vote {WAVE}")).to_have_count(0)  # it did not advance
            voter.get_by_role("button", name=f"Vote {choice}").click()
            status_says(voter, f"Your vote for “{choice}” is counted.")

        # 6. Voting ends; the organiser previews the results, keeps the computed prizes and publishes them.
        time_passes(lambda: setattr(db.session.get(Round, public_id), "closes_at", utcnow()))
        organiser.goto(f"{base}/console/calls/{call_id}/")
        organiser.get_by_role("link", name="Results and awards").click()
        expect(organiser.get_by_role("heading", name="Preview of the final ranking and prizes")).to_be_visible()
        # Jury first for Magnolia, public first for Stone-gate: 70/30 on ranks puts Magnolia first.
        expect(organiser.get_by_label(f"Prize for “{MAGNOLIA}”").locator("option:checked")).to_have_text(
            "First prize")
        expect(organiser.get_by_label(f"Prize for “{STONE_GATE}”").locator("option:checked")).to_have_text(
            "Second prize")
        organiser.get_by_role("button", name="Save the awards").click()
        status_says(organiser, "The awards are saved.")
        expect(organiser.get_by_label("Notice period (days)")).to_have_value("7")
        organiser.get_by_role("button", name="Publish the results").click()
        status_says(organiser, "The results are published. The notice period has begun.")

        # 7. A citizen objects on the public results page; the organiser answers; the answer is public.
        citizen = voters["walker@example.org"]
        citizen.goto(f"{base}/calls/{call_id}")
        citizen.get_by_role("link", name="See the results").click()
        expect(citizen.get_by_role("heading", level=1)).to_have_text("Results of “Draw the city's road railings”")
        winners = citizen.get_by_role("region", name="Winners")
        expect(winners.locator(".entry-card").first).to_contain_text(MAGNOLIA)
        expect(winners.locator(".entry-card").first).to_contain_text("First prize")
        expect(winners.locator(".entry-card").nth(1)).to_contain_text("Second prize")
        expect(citizen.get_by_text("out in “Expert round”")).to_be_visible()  # Wave stopped there
        citizen.get_by_label("Number of the entry you object to").fill(entry_number(citizen, STONE_GATE))
        reason = "Most citizens voted for the stone-gate railing. Why is it only second?"
        citizen.get_by_label("Your reason").fill(reason)
        citizen.get_by_role("button", name="File the objection").click()
        status_says(citizen, "Your objection is filed.")
        expect(citizen.locator("#objections + ol")).to_contain_text(reason)
        expect(citizen.locator("#objections + ol")).to_contain_text("Not answered yet.")

        organiser.reload()
        answer = "The jury's ranking weighs 70% and the public's 30%, as the call declared before it opened."
        organiser.get_by_label("Answer", exact=True).fill(answer)
        organiser.get_by_role("button", name="Publish the answer").click()
        status_says(organiser, "The answer is published.")
        expect(organiser.get_by_text("The results can be made final after the notice period")).to_be_visible()

        citizen.reload()
        expect(citizen.get_by_text("The organisers' answer", exact=True)).to_be_visible()
        expect(citizen.get_by_text(answer)).to_be_visible()

        # 8. The notice period ends; the organiser makes the results final.
        time_passes(lambda: setattr(db.session.get(Call, call_id), "notice_ends_at", utcnow()))
        organiser.reload()
        organiser.get_by_role("link", name="Make the results final").click()  # asks first, on a page of its own
        organiser.get_by_role("button", name="Make the results final").click()
        status_says(organiser, "The results are final.")
        citizen.reload()
        expect(citizen.get_by_text("These results are final since")).to_be_visible()
        expect(citizen.get_by_role("button", name="File the objection")).to_have_count(0)
        ARTIFACTS.mkdir(exist_ok=True)
        load_images(citizen)
        citizen.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)

        # 9. The organiser adopts the winner and follows it until it is built.
        organiser.goto(f"{base}/console/calls/{call_id}/")
        organiser.get_by_role("link", name="Follow-up of adopted entries").click()
        adopt_buttons = organiser.get_by_role("region", name="Adopt an entry").get_by_role("button", name="Adopt “")
        expect(adopt_buttons.first).to_have_text(f"Adopt “{MAGNOLIA}”")  # the winner is proposed first
        adopt_buttons.first.click()
        status_says(organiser, f"“{MAGNOLIA}” is adopted")
        photo = tmp_path / "installed.jpg"
        photo.write_bytes(picture_bytes(99, size=(1200, 800)))
        for stage, progress, text, with_photo in [
                ("Being refined", "30", "The design institute is fitting the pattern to the standard panel.", False),
                ("Being built", "70", "The first two kilometres of Yan'an Road are being fitted.", False),
                ("Implemented", "100", "The railing is up along Yan'an Road.", True)]:
            organiser.get_by_label("Stage").select_option(label=stage)
            organiser.get_by_label("Progress (per cent)").fill(progress)
            organiser.get_by_label("What happened, in Chinese").fill(text)
            if with_photo:
                organiser.get_by_label("Photo (optional)").set_input_files(str(photo))
                organiser.get_by_label("Describe the photo in a sentence").fill(PHOTO_ALT)
            organiser.get_by_role("button", name="Add update").click()
            status_says(organiser, f"The update of “{MAGNOLIA}” is saved.")
        expect(organiser.get_by_text("Implemented · 100% done")).to_be_visible()

        public = visitor(width=1280)
        public.goto(f"{base}/calls/{call_id}")
        public.get_by_role("link", name="From design to street: 1 adopted entry").click()
        expect(public.get_by_role("heading", level=1)).to_have_text("From design to street")
        card = public.get_by_role("article", name=MAGNOLIA)
        expect(card.locator('[aria-current="step"]')).to_have_text("Implemented")
        expect(card).to_contain_text("100% done")
        expect(card).to_contain_text("The railing is up along Yan'an Road.")
        installed = card.get_by_alt_text(PHOTO_ALT)
        load_images(public)
        expect(installed).to_be_visible()
        assert installed.evaluate("img => img.naturalWidth") > 0  # the photo really loads
        public.screenshot(path=str(ARTIFACTS / "follow-up.png"), full_page=True)

        # 10. The call's public timeline tells the whole story, in order.
        public.goto(f"{base}/calls/{call_id}")
        expect(public.locator("ol.timeline")).to_contain_text(f"“{MAGNOLIA}”: Implemented")
        items = public.locator("ol.timeline > li").all_inner_texts()
        story = [
            "The call was published.",
            "Opened for entries.",
            "Closed for entries. 3 entries received, 3 approved.",
            "“Expert round” opened.",
            "Scoring closed in “Expert round”.",
            "“Expert round” decided: 2 of 3 entries advance.",
            "“Public round” opened.",
            "“Public round” closed.",
            "The results were published. Objections are open until",
            "An objection was filed.",
            "The organisers answered an objection.",
            "The results became final.",
            f"“{MAGNOLIA}”: Adopted",
            f"“{MAGNOLIA}”: Being refined",
            f"“{MAGNOLIA}”: Being built",
            f"“{MAGNOLIA}”: Implemented",
        ]
        flat = [" ".join(item.split()) for item in items]
        found = []
        for step in story:
            places = [n for n, item in enumerate(flat) if step in item]
            assert places, f"the timeline does not say {step!r}: {flat}"
            found.append(places[0])
        assert found == sorted(found), f"the timeline is out of order: {flat}"
        assert len(flat) == len(story), f"the timeline has steps the story does not expect: {flat}"
    finally:
        for context in contexts:
            context.close()

    for name in ("results.png", "follow-up.png"):
        assert (ARTIFACTS / name).stat().st_size > 0
