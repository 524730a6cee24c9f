"""Entrants send, change and withdraw entries; staff moderate them and type in paper ones; the public sees
only what is approved; bad files change nothing."""
import re
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import CallKind, DuplicateFlag, Entry, EntryImage, EntryStatus, Image, ImageFile, PendingUpload
from tests.helpers import (
    count_rows,
    io_bytes,
    last_mail,
    log_in,
    make_call,
    make_user,
    picture_bytes,
    post_form,
    submit_design,
    zh,
)


@pytest.fixture
def entrant(client, citizen):
    log_in(client, citizen.email)
    return citizen


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_design_with_two_images_is_received_and_waits_for_moderation(client, entrant, railing_call, outbox):
    response = submit_design(client, railing_call, images=[picture_bytes(1), picture_bytes(2)])
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = db.session.scalar(select(Entry))
    assert entry.status is EntryStatus.SUBMITTED and entry.author_id == entrant.id
    assert [p.alt_text for p in entry.images] == ["第1张设计图：红色栏杆", "第2张设计图：红色栏杆"]
    assert {f.name for f in entry.images[0].image.files} == {"original", "zoom", "page", "gallery"}
    assert entry.licence_accepted_at is not None
    assert last_mail(entrant.email).subject == zh("We have received your entry")
    # Not public until approved, neither the page nor its images.
    stranger = client.application.test_client()
    assert stranger.get(f"/entries/{entry.id}").status_code == 404
    assert stranger.get(f"/media/{entry.images[0].image_id}/gallery").status_code == 404
    assert client.get(f"/entries/{entry.id}").status_code == 200  # the author sees it


def test_approval_makes_it_public_and_tells_the_entrant(client, another_client, entrant, railing_call,
                                                        transport_organiser, outbox):
    submit_design(client, railing_call)
    entry = db.session.scalar(select(Entry))
    log_in(another_client, transport_organiser.email)
    response = post_form(another_client, f"/console/calls/{railing_call.id}/moderation",
                         {"entry": [str(entry.id)], "approve": "y", "reason": ""})
    assert response.status_code == 302
    db.session.refresh(entry)
    assert entry.status is EntryStatus.APPROVED and entry.moderated_by_id == transport_organiser.id
    assert last_mail(entrant.email).subject == zh("Your entry is public")
    public = client.application.test_client()
    assert "海派栏杆" in public.get(f"/calls/{railing_call.id}/entries").get_data(as_text=True)
    image = public.get(f"/media/{entry.images[0].image_id}/gallery")
    assert image.status_code == 200 and image.headers["X-Content-Type-Options"] == "nosniff"
    assert "public" in image.headers["Cache-Control"] and "max-age=31536000" in image.headers["Cache-Control"]
    assert public.get(f"/media/{entry.images[0].image_id}/original").status_code == 404  # originals stay private
    assert another_client.get(f"/media/{entry.images[0].image_id}/original").status_code == 200
    assert zh("Approved") in client.get("/my/entries").get_data(as_text=True)


def test_rejection_needs_a_reason_the_entrant_sees(client, another_client, entrant, railing_call,
                                                    transport_organiser, outbox):
    submit_design(client, railing_call)
    entry = db.session.scalar(select(Entry))
    log_in(another_client, transport_organiser.email)
    page = f"/console/calls/{railing_call.id}/moderation"
    assert post_form(another_client, page, {"entry": [str(entry.id)], "reject": "y", "reason": ""}).status_code == 400
    db.session.refresh(entry)
    assert entry.status is EntryStatus.SUBMITTED
    post_form(another_client, page, {"entry": [str(entry.id)], "reject": "y", "reason": "图片与主题无关"})
    db.session.refresh(entry)
    assert entry.status is EntryStatus.REJECTED
    assert "图片与主题无关" in last_mail(entrant.email).body
    assert "图片与主题无关" in client.get("/my/entries").get_data(as_text=True)


def test_approving_in_bulk(client, entrant, railing_call, transport_organiser):
    submit_design(client, railing_call, title="一")
    submit_design(client, railing_call, title="二", images=[picture_bytes(7)])
    ids = [str(e.id) for e in db.session.scalars(select(Entry))]
    organiser = client.application.test_client()
    log_in(organiser, transport_organiser.email)
    post_form(organiser, f"/console/calls/{railing_call.id}/moderation", {"entry": ids, "approve": "y"})
    assert {e.status for e in db.session.scalars(select(Entry))} == {EntryStatus.APPROVED}


def test_entering_after_the_close_fails_and_changes_nothing(client, entrant, transport_commission, app):
    closed = make_call(transport_commission, state="closed")
    response = submit_design(client, closed)
    assert response.status_code == 200
    assert zh("This call is not open for entries yet.") not in response.get_data(as_text=True)
    assert count_rows(Entry) == 0 and count_rows(Image) == 0 and stored_files(app) == []


def test_the_per_person_limit(client, entrant, railing_call, app):
    assert submit_design(client, railing_call, title="一").status_code == 302
    assert submit_design(client, railing_call, title="二", images=[picture_bytes(3)]).status_code == 302
    files_before = len(stored_files(app))
    response = submit_design(client, railing_call, title="三", images=[picture_bytes(4)])
    assert response.status_code == 400
    assert zh("You have already sent %(n)d entries to this call, which is the most it accepts. "
              "You can withdraw one to send another.", n=2) in response.get_data(as_text=True)
    assert count_rows(Entry) == 2 and len(stored_files(app)) == files_before
    first = db.session.scalar(select(Entry).where(Entry.title == "一"))
    post_form(client, f"/entries/{first.id}/withdraw", page="/my/entries")
    assert submit_design(client, railing_call, title="三", images=[picture_bytes(4)]).status_code == 302


@pytest.mark.real_commits  # three requests in threads at once, each on a connection of its own
def test_two_submits_at_the_same_moment_keep_the_limit(app, citizen, transport_commission):
    call = make_call(transport_commission, entries_per_person=1)
    clients = [app.test_client() for _ in range(3)]
    for c in clients:
        log_in(c, citizen.email)
    barrier = threading.Barrier(len(clients))
    call_ref = SimpleNamespace(id=call.id)  # the threads have no app context to load the call in
    results, errors = [], []

    def send(c, n):
        try:
            barrier.wait()
            results.append(submit_design(c, call_ref, title=f"同时 {n}", images=[picture_bytes(10 + n)]).status_code)
        except Exception as error:  # noqa: BLE001 - reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=send, args=(c, n)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [302, 400, 400]
    assert count_rows(Entry) == 1
    # A refused one may hold its picture for another try (contest.services.pending_uploads); none is attached.
    assert count_rows(EntryImage) == 1 and count_rows(Image) == 1 + count_rows(PendingUpload)


def test_editing_someone_elses_entry_is_refused(client, another_client, entrant, railing_call):
    submit_design(client, railing_call)
    entry = db.session.scalar(select(Entry))
    make_user("other@example.org")
    log_in(another_client, "other@example.org")
    assert another_client.get(f"/entries/{entry.id}/edit").status_code == 403
    response = post_form(another_client, f"/entries/{entry.id}/edit", {"title": "被改了"}, page="/my/entries")
    assert response.status_code == 403
    assert post_form(another_client, f"/entries/{entry.id}/withdraw", page="/my/entries").status_code == 403
    db.session.refresh(entry)
    assert entry.title == "海派栏杆" and entry.status is EntryStatus.SUBMITTED


def test_editing_an_approved_entry_sends_it_back_to_moderation(client, entrant, railing_call):
    submit_design(client, railing_call)
    entry = db.session.scalar(select(Entry))
    entry.status = EntryStatus.APPROVED
    db.session.commit()
    picture = entry.images[0]
    response = post_form(client, f"/entries/{entry.id}/edit",
                         {"title": "海派栏杆（修改）", "description": "新说明", "topic_id": "0", "place_id": "0",
                          f"alt-{picture.id}": "修改后的描述"})
    assert response.status_code == 302
    db.session.refresh(entry)
    assert entry.title == "海派栏杆（修改）" and entry.status is EntryStatus.SUBMITTED
    assert entry.images[0].alt_text == "修改后的描述"


def test_an_idea_with_a_topic_and_a_place(client, entrant, planning_bureau, city):
    call = make_call(planning_bureau, kind=CallKind.IDEA, title="15分钟社区生活圈", images_min=0)
    topic = call.topics[0]
    data = {"title": "弄堂口加几张长椅", "description": "老人买菜回来没地方歇脚。", "topic_id": str(topic.id),
            "place_id": str(city.id), "accept": "y"}
    response = post_form(client, f"/calls/{call.id}/enter", data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = db.session.scalar(select(Entry))
    assert (entry.topic_id, entry.place_id, entry.images) == (topic.id, city.id, [])


def test_an_idea_needs_its_topic(client, entrant, planning_bureau):
    call = make_call(planning_bureau, kind=CallKind.IDEA, images_min=0)
    data = {"title": "长椅", "description": "想法", "topic_id": "0", "place_id": "0", "accept": "y"}
    response = post_form(client, f"/calls/{call.id}/enter", data, content_type="multipart/form-data")
    assert response.status_code == 400 and count_rows(Entry) == 0


def test_the_terms_must_be_accepted(client, entrant, railing_call):
    assert submit_design(client, railing_call, accept=False).status_code == 400
    assert count_rows(Entry) == 0


def test_every_image_needs_alt_text(client, entrant, railing_call):
    response = submit_design(client, railing_call, images=[picture_bytes(1), picture_bytes(2)], alts={2: " "})
    assert response.status_code == 400
    # No entry; the two pictures are only held for the entrant, to be sent again without choosing them again.
    assert count_rows(Entry) == 0 and count_rows(Image) == count_rows(PendingUpload) == 2
    # The message stands beside the second image's description, tied to it, and the summary leads there.
    html = response.get_data(as_text=True)
    message = zh("Image %(n)d: describe it in a sentence for people who cannot see it.", n=2)
    assert f'<p class="error-message" id="image-2-alt-error">{message}</p>' in html
    assert re.search(r'id="image-2-alt"[^>]*aria-describedby="image-2-alt-hint image-2-alt-error" aria-invalid="true"',
                     html)
    assert f'<a href="#image-2-alt">{message}</a>' in html
    assert 'id="image-1-alt-error"' not in html


def test_the_terms_checkbox_carries_its_own_error(client, entrant, railing_call):
    html = submit_design(client, railing_call, accept=False).get_data(as_text=True)
    assert 'id="accept-error"' in html
    assert re.search(r'<input aria-describedby="accept-error" aria-invalid="true"[^>]*id="accept"', html)


def test_an_emptied_description_of_a_kept_image_is_refused_beside_it(client, entrant, railing_call):
    submit_design(client, railing_call)
    entry = db.session.scalar(select(Entry))
    picture = entry.images[0]
    response = post_form(client, f"/entries/{entry.id}/edit", {"title": "海派栏杆", "topic_id": "0", "place_id": "0",
                                                                f"alt-{picture.id}": ""})
    assert response.status_code == 400
    assert f'id="alt-{picture.id}-error"' in response.get_data(as_text=True)
    db.session.refresh(picture)
    assert picture.alt_text == "第1张设计图：红色栏杆"


def test_an_unconfirmed_citizen_is_asked_to_confirm_first(client, railing_call):
    make_user("new@example.org", confirmed=False)
    log_in(client, "new@example.org")
    assert submit_design(client, railing_call).status_code == 200
    assert count_rows(Entry) == 0


def _bomb() -> bytes:
    import io

    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("1", (20000, 20000)).save(out, "PNG")
    return out.getvalue()


def _huge_header_jpeg() -> bytes:
    data = bytearray(picture_bytes(1, size=(64, 48)))
    i = data.index(b"\xff\xc0")  # start of frame: height and width follow the length and precision
    data[i + 5:i + 9] = (30000).to_bytes(2, "big") + (30000).to_bytes(2, "big")
    return bytes(data)


def _gps_photo() -> bytes:
    from PIL import Image as PILImage

    exif = PILImage.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)})
    return picture_bytes(9, size=(600, 400), exif=exif.tobytes(), comment=b"secret comment")


BAD_FILES = {
    "decompression bomb": ("bomb.png", _bomb),
    "30000x30000 header": ("huge.jpg", _huge_header_jpeg),
    "truncated JPEG": ("cut.jpg", lambda: picture_bytes(2)[:1500]),
    "PNG+HTML polyglot": ("poly.png", lambda: picture_bytes(3, fmt="PNG") + b"<html><script>alert(1)</script></html>"),
    "SVG with script": ("x.svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    "PDF renamed .jpg": ("doc.jpg", lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
    "over the size limit": ("big.png", lambda: picture_bytes(4, size=(2000, 2000), fmt="PNG", compress_level=0)),
    "path in the name": ("../../etc/passwd.jpg", lambda: b"root:x:0:0:root:/root:/bin/bash\n"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_get_a_clear_message_and_store_nothing(client, entrant, transport_commission, app, case):
    call = make_call(transport_commission, image_max_mb=1)
    name, make = BAD_FILES[case]
    response = submit_design(client, call, images=[(name, make())])
    assert response.status_code == 400, case
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert zh("Image %(n)d: %(reason)s", n=1, reason="").strip() in html, case
    assert count_rows(Entry) == 0 and count_rows(Image) == 0 and count_rows(ImageFile) == 0
    assert stored_files(app) == []
    assert not (Path(app.config["UPLOAD_DIR"]).parent / "etc").exists()


def test_one_image_too_many(client, entrant, railing_call, app):
    response = submit_design(client, railing_call, images=[picture_bytes(n) for n in range(1, 5)])
    assert response.status_code == 400 and count_rows(Entry) == 0
    # Only the form's three slots are held for another try, the fourth file is not kept.
    assert count_rows(Image) == count_rows(PendingUpload) == railing_call.images_max


def test_a_photo_with_gps_comes_out_upright_and_clean(client, entrant, railing_call):
    from io import BytesIO

    from PIL import Image as PILImage

    assert submit_design(client, railing_call, images=[_gps_photo()]).status_code == 302
    image = db.session.scalar(select(Image))
    assert (image.width, image.height) == (400, 600)  # Orientation 6: turned upright
    for name in ("original", "zoom", "page", "gallery"):
        data = client.get(f"/media/{image.id}/{name}").get_data() if name != "original" else None
        if data is None:
            continue
        assert b"Exif" not in data and b"secret comment" not in data
        with PILImage.open(BytesIO(data)) as stored:
            assert not stored.getexif() and "comment" not in stored.info and stored.height > stored.width


def test_staff_enter_a_paper_entry_with_its_scan(client, transport_organiser, railing_call):
    log_in(client, transport_organiser.email)
    data = {"channel": "paper", "author_email": "", "author_name": "李阿婆", "title": "手绘栏杆",
            "description": "红色信箱收到的手绘稿。", "topic_id": "0", "place_id": "0",
            "image-1": (io_bytes(picture_bytes(20)), "a.jpg"), "image-1-alt": "手绘的栏杆图案",
            "scan-1": (io_bytes(picture_bytes(21)), "scan.jpg"), "scan-1-alt": "征集表原件扫描"}
    response = post_form(client, f"/console/calls/{railing_call.id}/enter", data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = db.session.scalar(select(Entry))
    assert (entry.channel.value, entry.author_name, entry.entered_by_id) == ("paper", "李阿婆", transport_organiser.id)
    assert len(entry.images) == 1 and len(entry.scans) == 1
    public = client.application.test_client()
    assert public.get(f"/media/{entry.images[0].image_id}/gallery").status_code == 200
    assert public.get(f"/media/{entry.scans[0].image_id}/gallery").status_code == 404  # scans stay with staff


def test_a_staff_scan_needs_its_description_too(client, transport_organiser, railing_call):
    log_in(client, transport_organiser.email)
    data = {"channel": "paper", "author_email": "", "author_name": "李阿婆", "title": "手绘栏杆", "topic_id": "0",
            "place_id": "0", "image-1": (io_bytes(picture_bytes(20)), "a.jpg"), "image-1-alt": "手绘的栏杆图案",
            "scan-1": (io_bytes(picture_bytes(21)), "scan.jpg"), "scan-1-alt": ""}
    response = post_form(client, f"/console/calls/{railing_call.id}/enter", data, content_type="multipart/form-data")
    assert response.status_code == 400 and count_rows(Entry) == 0
    html = response.get_data(as_text=True)
    assert zh("Scan %(n)d: describe it in a sentence for people who cannot see it, and choose the file again.",
              n=1) in html
    assert 'id="scan-1-alt-error"' in html and 'id="image-1-alt-error"' not in html


def test_a_design_sent_twice_is_flagged(client, entrant, railing_call, transport_organiser):
    submit_design(client, railing_call, title="一", images=[picture_bytes(30)])
    submit_design(client, railing_call, title="二", images=[picture_bytes(30, quality=60)])
    flags = db.session.scalars(select(DuplicateFlag)).all()
    assert len(flags) == 1
    organiser = client.application.test_client()
    log_in(organiser, transport_organiser.email)
    html = organiser.get(f"/console/calls/{railing_call.id}/duplicates").get_data(as_text=True)
    assert "一" in html and "二" in html


def test_the_gallery_and_entry_pages_run_a_fixed_number_of_queries(client, entrant, railing_call, count_queries):
    for n in range(3):
        submit_design(client, railing_call, title=f"作品{n}", images=[picture_bytes(40 + n)])
    for entry in db.session.scalars(select(Entry)):
        entry.status = EntryStatus.APPROVED
    db.session.commit()
    gallery = f"/calls/{railing_call.id}/entries?per_page=12"
    client.get(gallery)  # warm: the first request of an app loads what later ones reuse
    with count_queries() as few:
        client.get(gallery)
    entries_before = count_rows(Entry)
    assert entries_before == 2  # the limit is 2 per person
    other = make_user("other@example.org")
    other_client = client.application.test_client()
    log_in(other_client, other.email)
    for n in range(2):
        submit_design(other_client, railing_call, title=f"他人{n}", images=[picture_bytes(50 + n)])
    for entry in db.session.scalars(select(Entry)):
        entry.status = EntryStatus.APPROVED
    db.session.commit()
    with count_queries() as many:
        client.get(gallery)
    assert many.n == few.n
    assert count_rows(EntryImage) == 4


def test_published_originals_are_public_once_approved(client, entrant, transport_commission):
    call = make_call(transport_commission, originals_public=True)
    submit_design(client, call)
    entry = db.session.scalar(select(Entry))
    public = client.application.test_client()
    assert public.get(f"/media/{entry.images[0].image_id}/original").status_code == 404  # not approved yet
    entry.status = EntryStatus.APPROVED
    db.session.commit()
    assert public.get(f"/media/{entry.images[0].image_id}/original").status_code == 200


def test_an_entry_sent_from_a_phone_counts_as_mobile(client, entrant, railing_call):
    phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    client.environ_base["HTTP_USER_AGENT"] = phone
    submit_design(client, railing_call)
    assert db.session.scalar(select(Entry)).channel.value == "mobile"


# Floods: sending and withdrawing in a loop ------------------------------------------------------------------

def withdraw(client, entry_id: int):
    return post_form(client, f"/entries/{entry_id}/withdraw", page="/my/entries")


def newest_entry() -> Entry:
    return db.session.scalar(select(Entry).order_by(Entry.id.desc()))


def test_submitting_and_withdrawing_in_a_loop_meets_the_limit_per_account(client, entrant, railing_call, app):
    app.config["SUBMIT_LIMIT_PER_ACCOUNT"] = "3/minute"
    for n in range(3):
        assert submit_design(client, railing_call, title=f"第{n}件", images=[picture_bytes(n)]).status_code == 302
        assert withdraw(client, newest_entry().id).status_code == 302
    response = submit_design(client, railing_call, title="又一件", images=[picture_bytes(9)])
    assert response.status_code == 429
    assert zh("You have tried too often. Please wait a moment and try again.") in response.get_data(as_text=True)
    assert count_rows(Entry) == 3


def test_edits_count_against_the_same_limit(client, entrant, railing_call, app):
    app.config["SUBMIT_LIMIT_PER_ACCOUNT"] = "2/minute"
    assert submit_design(client, railing_call).status_code == 302
    entry = newest_entry()
    form = {"title": "改过的", "description": "新说明", "topic_id": "0", "place_id": "0",
            f"alt-{entry.images[0].id}": "描述"}
    assert post_form(client, f"/entries/{entry.id}/edit", form).status_code == 302
    assert client.get(f"/entries/{entry.id}/edit").status_code == 200  # looking at the form costs nothing
    assert post_form(client, f"/entries/{entry.id}/edit", form).status_code == 429


def test_submissions_are_limited_per_address_across_accounts(client, another_client, entrant, railing_call, app):
    app.config["SUBMIT_LIMIT_PER_ADDRESS"] = "2/minute"
    make_user("neighbour@example.org", name="邻居")
    log_in(another_client, "neighbour@example.org")
    assert submit_design(client, railing_call, title="一").status_code == 302
    assert submit_design(another_client, railing_call, title="二").status_code == 302
    assert submit_design(another_client, railing_call, title="三").status_code == 429
    assert count_rows(Entry) == 2


def test_a_withdrawn_entry_keeps_no_files(client, entrant, railing_call, app):
    assert submit_design(client, railing_call, images=[picture_bytes(1), picture_bytes(2)]).status_code == 302
    entry = newest_entry()
    keys = [f.key for p in entry.images for f in p.image.files]
    assert len(keys) == 8 and len(stored_files(app)) == 8  # two originals and their three sizes each
    response = withdraw(client, entry.id)
    assert response.status_code == 302
    page = client.get("/my/entries")
    assert page.status_code == 200 and "海派栏杆" in page.get_data(as_text=True)
    assert stored_files(app) == []
    assert count_rows(Image) == 0 and count_rows(ImageFile) == 0 and count_rows(EntryImage) == 0
    db.session.refresh(entry)
    assert entry.status is EntryStatus.WITHDRAWN


def test_images_removed_in_an_edit_keep_no_files(client, entrant, railing_call, app):
    assert submit_design(client, railing_call, images=[picture_bytes(1), picture_bytes(2)]).status_code == 302
    entry = newest_entry()
    first, second = entry.images
    response = post_form(client, f"/entries/{entry.id}/edit",
                         {"title": "海派栏杆", "description": "x", "topic_id": "0", "place_id": "0",
                          f"alt-{first.id}": "留下的", f"alt-{second.id}": "去掉的", f"remove-{second.id}": "y"})
    assert response.status_code == 302
    assert len(stored_files(app)) == 4 and count_rows(Image) == 1 and count_rows(ImageFile) == 4
