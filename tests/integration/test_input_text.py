"""What comes in: text with control characters is refused before it reaches a query (a field error on forms, a
400 for an address's parameters), an entry's text limits refuse instead of truncating, display names are
normalised and may not hide or pose as staff, a photo is judged by the bytes that are kept, and the console's
`back` field never leads off the site."""
import io

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from contest.extensions import db
from contest.models import ApiToken, Entry, ImageFile, User
from contest.storage import storage
from tests.helpers import (
    io_bytes,
    log_in,
    make_call,
    make_round,
    post_form,
    submit_design,
    zh,
)
from tests.integration.test_api_writes import make_token, send

NUL = "\x00"
FIELD_MESSAGE = "Remove the invisible control characters (such as NUL) from this text."
ADDRESS_MESSAGE = "The address contains invisible control characters (such as NUL). Remove them and try again."


def text_of(response) -> str:
    return response.get_data(as_text=True)


# Control characters in an address's parameters ------------------------------------------------------------

@pytest.mark.parametrize("url", ["/calls?q=%00", "/calls?theme=%00", "/calls?q=a%01b", "/calls?department=1&q=%7F"])
def test_a_control_character_in_a_public_search_is_a_400_that_says_why(client, app, url):
    response = client.get(url)
    assert response.status_code == 400
    assert zh(ADDRESS_MESSAGE) in text_of(response)


def test_a_control_character_in_the_api_search_is_a_json_400_that_says_why(client, app):
    for url in ("/api/v1/calls?q=%00", "/api/v1/calls?theme=%00", "/api/v1/calls?state=%00"):
        response = client.get(url, headers={"Accept-Language": "en"})
        assert response.status_code == 400, url
        assert response.get_json()["error"] == {"code": "invalid_parameter", "message": ADDRESS_MESSAGE}


def test_a_poster_link_with_a_nul_is_a_400_and_no_visit_is_counted(client, app, transport_commission):
    call = make_call(transport_commission)
    assert client.get(f"/calls/{call.id}?via=ab").status_code in (200, 302)
    response = client.get(f"/calls/{call.id}?via=%00")
    assert response.status_code == 400 and zh(ADDRESS_MESSAGE) in text_of(response)


def test_the_admin_user_search_with_a_nul_is_a_400(client, app, admin):
    log_in(client, admin.email)
    assert client.get("/admin/users?q=%E7%AE%A1").status_code == 200
    response = client.get("/admin/users?q=%00")
    assert response.status_code == 400 and zh(ADDRESS_MESSAGE) in text_of(response)


def test_an_ordinary_search_still_works(client, app, transport_commission):
    make_call(transport_commission, title="道路栏杆请您绘")
    response = client.get("/calls?q=%E6%A0%8F%E6%9D%86")  # 栏杆
    assert response.status_code == 200 and "道路栏杆请您绘" in text_of(response)


# Control characters in forms --------------------------------------------------------------------------

def test_an_entry_title_with_a_nul_is_a_field_error_and_nothing_is_stored(client, app, citizen, transport_commission):
    call = make_call(transport_commission)
    log_in(client, citizen.email)
    response = submit_design(client, call, title=f"海派{NUL}栏杆")
    assert response.status_code in (200, 400) and zh(FIELD_MESSAGE) in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 0


def test_a_line_break_and_a_tab_are_kept_in_a_description_but_a_nul_is_refused(
        client, app, citizen, transport_commission):
    call = make_call(transport_commission)
    log_in(client, citizen.email)
    data = {"title": "海派栏杆", "description": f"第一行\r\n\t第二行{NUL}", "topic_id": "0", "place_id": "0",
            "accept": "y", "image-1": (io_bytes(_plain_jpeg()), "a.jpg"), "image-1-alt": "红色栏杆"}
    response = post_form(client, f"/calls/{call.id}/enter", data, content_type="multipart/form-data")
    assert response.status_code in (200, 400) and zh(FIELD_MESSAGE) in text_of(response)
    data.update({"description": "第一行\r\n\t第二行", "image-1": (io_bytes(_plain_jpeg()), "a.jpg")})
    response = post_form(client, f"/calls/{call.id}/enter", data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(select(Entry.description)) == "第一行\n\t第二行"


def test_a_token_name_with_a_nul_is_a_field_error(client, app, citizen):
    log_in(client, citizen.email)
    response = post_form(client, "/account/api-tokens", {"name": f"手机{NUL}"})
    assert response.status_code == 400 and zh(FIELD_MESSAGE) in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_display_name_with_a_nul_is_a_field_error_on_registering_and_on_the_profile(client, app, citizen):
    data = {"email": "new@example.org", "display_name": f"林{NUL}小雨", "group": "student",
            "password": "long enough password", "confirm": "long enough password"}
    response = post_form(client, "/account/register", data)
    assert response.status_code == 200 and zh(FIELD_MESSAGE) in text_of(response)
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    log_in(client, citizen.email)
    response = post_form(client, "/account/profile", {"display_name": f"张{NUL}三", "group": "citizen",
                                                      "locale": "zh"})
    assert response.status_code == 200 and zh(FIELD_MESSAGE) in text_of(response)
    db.session.refresh(citizen)
    assert citizen.display_name == "张三"


def test_an_api_entry_with_a_nul_is_refused_with_a_message(client, app, citizen, transport_commission):
    call = make_call(transport_commission)
    token = make_token(client, citizen.email)
    for fields in ({"title": f"手机{NUL}栏杆"}, {"description": f"草图{NUL}"}, {"alt": f"效果图{NUL}"}):
        response = send(client, call, token, **fields)
        assert response.status_code == 422, fields
        assert response.get_json()["error"]["message"] == zh(FIELD_MESSAGE).replace("&#34;", '"')
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 0


def test_every_form_of_the_site_cleans_its_text_the_same_way(app):
    from flask_wtf import FlaskForm

    from contest.forms import Form

    def every(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from every(sub)

    forms = [f for f in every(FlaskForm) if f.__module__.startswith("contest.") and f is not Form]
    assert len(forms) > 30
    assert [f.__qualname__ for f in forms if not issubclass(f, Form)] == []


# An entry's title and text limits ---------------------------------------------------------------------

def test_an_over_long_title_is_refused_by_the_form_and_the_api_never_cut(client, app, citizen, transport_commission):
    call = make_call(transport_commission, entries_per_person=3)
    log_in(client, citizen.email)
    response = submit_design(client, call, title="栏" * 201)
    assert response.status_code in (200, 400)
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 0
    post_form(client, "/account/logout", page="/account/profile")
    token = make_token(client, citizen.email)
    response = send(client, call, token, title="栏" * 201)
    assert response.status_code == 422 and "200" in response.get_json()["error"]["message"]
    response = send(client, call, token, alt="图" * 301)
    assert response.status_code == 422 and "300" in response.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 0
    assert send(client, call, token, title="栏" * 200).status_code == 201
    assert db.session.scalar(select(Entry.title)) == "栏" * 200


def test_the_services_refuse_an_over_long_title_instead_of_cutting_it(app, citizen, transport_commission):
    from contest.services import ServiceError
    from contest.services.entries import EntryData, Upload, submit_entry

    call = make_call(transport_commission)
    with app.test_request_context(), pytest.raises(ServiceError):
        submit_entry(citizen, call, EntryData(title="栏" * 201), [Upload(_plain_jpeg(), "图")], accepted_terms=True)


NAME_MESSAGES = (
    "A name may not contain invisible characters or characters that turn the direction of the text.",
    "Enter a name made of visible letters.",
    "This name looks like a title of the site's staff (such as administrator, organiser or juror). Please choose "
    "another.",
)


# Display names ----------------------------------------------------------------------------------------

def register(client, name, email="new@example.org"):
    data = {"email": email, "display_name": name, "group": "citizen", "password": "long enough password",
            "confirm": "long enough password"}
    return post_form(client, "/account/register", data)


@pytest.mark.parametrize("name", ["\u200b\u200c\u200d", "\u2060\ufeff", "  \u3000 ", "张\u202e三", "Ali\u200bce",
                                  "管理员", "官方客服", "活动组织者", "评委老师", "Site Admin", "ORGANISER Li",
                                  "The Official", "juror 3", "ａｄｍｉｎ"])
def test_a_display_name_that_hides_or_poses_as_staff_is_refused_on_registering(client, app, name):
    response = register(client, name)
    assert response.status_code == 200
    assert any(zh(message) in text_of(response) for message in (*NAME_MESSAGES, "Enter the name to show."))
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None


def test_a_display_name_is_stored_normalised(client, app):
    response = register(client, "  林\u3000小雨  ")
    assert response.status_code == 302
    assert db.session.scalar(select(User.display_name).where(User.email == "new@example.org")) == "林 小雨"
    register(client, "Badminton Fan", email="fan@example.org")  # "admin" inside a word is no title
    assert db.session.scalar(select(User.display_name).where(User.email == "fan@example.org")) == "Badminton Fan"


def test_a_citizen_may_not_take_a_staff_title_on_the_profile_but_keeps_their_name(client, app, citizen):
    log_in(client, citizen.email)
    response = post_form(client, "/account/profile", {"display_name": "管理员", "group": "citizen", "locale": "zh"})
    assert response.status_code == 200 and zh(NAME_MESSAGES[2]) in text_of(response)
    db.session.refresh(citizen)
    assert citizen.display_name == "张三"
    response = post_form(client, "/account/profile", {"display_name": "张\u200b三", "group": "citizen",
                                                      "locale": "zh"})
    assert response.status_code == 200
    db.session.refresh(citizen)
    assert citizen.display_name == "张三"


def test_an_entry_on_behalf_may_not_name_its_author_as_staff(client, app, transport_organiser, transport_commission):
    from contest.models import Channel
    from contest.services import ServiceError
    from contest.services.entries import EntryData, Upload, staff_entry

    call = make_call(transport_commission)
    with app.test_request_context():
        for name in ("官方", "王\u202e阿姨"):
            with pytest.raises(ServiceError):
                staff_entry(transport_organiser, call, channel=Channel.PAPER, data=EntryData(title="信箱来信"),
                            uploads=[Upload(_plain_jpeg(), "附图")], scans=[], author_name=name)
        db.session.rollback()
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/enter"
    response = post_form(client, page, {"channel": "paper", "author_email": "", "author_name": "组织者",
                                        "title": "信箱来信", "description": "", "topic_id": "0", "place_id": "0",
                                        "image-1": (io_bytes(_plain_jpeg()), "a.jpg"), "image-1-alt": "附图"},
                         content_type="multipart/form-data")
    assert response.status_code in (200, 400)
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 0


# A photo is judged by the bytes that are kept ------------------------------------------------------------

def _plain_jpeg(**save) -> bytes:
    from tests.helpers import picture_bytes

    return picture_bytes(3, **save)


def _camera_jpeg_with_markup() -> bytes:
    """A JPEG as a camera app may write it: a comment segment and an EXIF description holding markup."""
    exif = PILImage.Exif()
    exif[0x010E] = "<script>alert(1)</script>"  # ImageDescription
    exif[0x010F] = "<html>Camera</html>"  # Make
    return _plain_jpeg(comment=b"<script>alert('x')</script>", exif=exif.tobytes())


def test_a_camera_photo_whose_comment_holds_markup_is_accepted_and_stored_clean(
        client, app, citizen, transport_commission):
    photo = _camera_jpeg_with_markup()
    assert b"<script>" in photo and b"\xff\xfe" in photo  # a COM segment, and the markup in it
    call = make_call(transport_commission)
    log_in(client, citizen.email)
    response = submit_design(client, call, images=[photo])
    assert response.status_code == 302, text_of(response)[:500]
    files = db.session.scalars(select(ImageFile)).all()
    assert {f.name for f in files} >= {"original"} and len(files) >= 2
    for row in files:
        data = storage(row.backend).get(row.key)
        assert b"<script" not in data.lower() and b"<html" not in data.lower(), row.name
        PILImage.open(io.BytesIO(data)).verify()


def test_markup_in_the_picture_itself_or_after_its_end_is_still_refused(client, app, citizen, transport_commission):
    call = make_call(transport_commission)
    log_in(client, citizen.email)
    response = submit_design(client, call, images=[_plain_jpeg() + b"<script>alert(1)</script>"])
    assert response.status_code in (200, 400)
    assert zh("This file is not an image that can be read.") in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 0


# The console's `back` field -----------------------------------------------------------------------------

@pytest.mark.parametrize("back", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)",
                                  "http:/evil.example"])
def test_the_consoles_back_field_never_leads_off_the_site(client, app, transport_organiser, transport_commission,
                                                          back):
    call = make_call(transport_commission)
    round_ = make_round(call, transport_organiser)
    log_in(client, transport_organiser.email)
    page = f"/console/rounds/{round_.id}/"
    response = post_form(client, f"/console/rounds/{round_.id}/remind", {"back": back}, page=page)
    assert response.status_code == 302
    assert response.headers["Location"] in (page, f"http://localhost{page}")


def test_the_consoles_back_field_keeps_a_local_path(client, app, transport_organiser, transport_commission):
    call = make_call(transport_commission)
    round_ = make_round(call, transport_organiser)
    log_in(client, transport_organiser.email)
    back = f"/console/rounds/{round_.id}/assignments"
    response = post_form(client, f"/console/rounds/{round_.id}/remind", {"back": back},
                         page=f"/console/rounds/{round_.id}/")
    assert response.status_code == 302 and response.headers["Location"].endswith(back)
