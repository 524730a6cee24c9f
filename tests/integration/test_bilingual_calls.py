"""A call written in Chinese and English: the organiser enters both through the forms, and each page, mail, export
and API answer shows the visitor's or recipient's language; a text given in Chinese only is shown marked as Chinese
(lang="zh-Hans") with a note on English pages."""
import csv
import io

import openpyxl
from sqlalchemy import select

from contest.extensions import db
from contest.models import Call, Entry, EntryStatus
from tests.helpers import last_mail, log_in, log_out, make_user, post_form, submit_design
from tests.openapi_contract import Contract

CALL_FORM = {
    "kind": "design", "title": "道路栏杆请您绘", "title_en": "Draw our road railings",
    "summary": "为道路栏杆设计图案。", "summary_en": "Patterns for the city's road railings.",
    "brief": "## 背景\n\n**七百公里**栏杆。", "brief_en": "## Background\n\n**Seven hundred kilometres** of railings.",
    "themes": "红色文化，海派文化、江南文化", "themes_en": "Red culture, Haipai culture, Jiangnan culture",
    "topics": "社区空间\n出行", "topics_en": "Community space\nGetting about",
    "prizes": "一等奖 | 1 | 两万元\n优秀奖 | 5 | 证书",
    "prizes_en": "First prize | 20,000 yuan\nMerit award | A certificate",
    "image_formats": ["JPEG", "PNG"], "images_min": "1", "images_max": "3", "image_max_mb": "5",
    "entries_per_person": "2", "licence_text": "署名 4.0", "licence_text_en": "Attribution 4.0",
    "originality_text": "原创声明", "originality_text_en": "I made this myself.",
    "opens_at": "2026-01-01T09:00", "closes_at": "2099-12-31T18:00", "cover_alt": "",
}


def enter_and_publish(client, organiser, department, form=CALL_FORM) -> Call:
    log_in(client, organiser.email)
    response = post_form(client, f"/console/{department.id}/calls/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    call = db.session.scalar(select(Call).order_by(Call.id.desc()))
    post_form(client, f"/console/calls/{call.id}/publish", page=f"/console/calls/{call.id}/")
    db.session.refresh(call)
    assert call.published_at is not None
    return call


def page(app, url: str, language: str) -> str:
    visitor = app.test_client()
    visitor.get(f"/lang/{language}")
    response = visitor.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_organiser_enters_both_languages_and_the_form_shows_them_again(client, transport_organiser,
                                                                            transport_commission):
    call = enter_and_publish(client, transport_organiser, transport_commission)
    assert (call.title, call.title_en) == ("道路栏杆请您绘", "Draw our road railings")
    assert [(t.name, t.name_en) for t in call.themes] == [("红色文化", "Red culture"), ("海派文化", "Haipai culture"),
                                                          ("江南文化", "Jiangnan culture")]
    assert [(t.title, t.title_en) for t in call.topics] == [("社区空间", "Community space"), ("出行", "Getting about")]
    assert [(p.name, p.reward, p.name_en, p.reward_en) for p in call.prizes] == [
        ("一等奖", "两万元", "First prize", "20,000 yuan"), ("优秀奖", "证书", "Merit award", "A certificate")]
    form = client.get(f"/console/calls/{call.id}/edit").get_data(as_text=True)
    assert 'lang="en"' in form and "Draw our road railings" in form and "Jiangnan culture" in form
    assert "First prize | 20,000 yuan" in form


def test_more_english_topics_than_chinese_ones_are_refused_with_a_message(client, transport_organiser,
                                                                          transport_commission):
    log_in(client, transport_organiser.email)
    response = post_form(client, f"/console/{transport_commission.id}/calls/new",
                         dict(CALL_FORM, topics_en="Community space\nGetting about\nA third"))
    assert response.status_code == 200
    assert "There are more English topics than Chinese ones" in response.get_data(as_text=True) or \
        "英文议题比中文议题多" in response.get_data(as_text=True)
    assert db.session.scalar(select(Call)) is None


def test_each_public_page_speaks_the_visitors_language(app, client, transport_organiser, transport_commission):
    call = enter_and_publish(client, transport_organiser, transport_commission)
    english = page(app, f"/calls/{call.id}", "en")
    assert "<h1>Draw our road railings</h1>" in english
    for text in ("Patterns for the city&#39;s road railings.", "<strong>Seven hundred kilometres</strong>",
                 "Jiangnan culture", "Community space", "First prize", "20,000 yuan", "Attribution 4.0",
                 "I made this myself."):
        assert text in english, text
    assert "道路栏杆请您绘" not in english.split("</head>")[1] and "No English text was given" not in english
    chinese = page(app, f"/calls/{call.id}", "zh")
    assert "<h1>道路栏杆请您绘</h1>" in chinese and "Draw our road railings" not in chinese
    for url in ("/calls", "/", f"/calls/{call.id}/entries", "/feed.atom", f"/calls/{call.id}/calendar.ics"):
        assert "Draw our road railings" in page(app, url, "en"), url
        assert "道路栏杆请您绘" in page(app, url, "zh"), url


def test_the_calls_lists_theme_filter_names_each_theme_in_the_visitors_language(app, client, transport_organiser,
                                                                                 transport_commission):
    call = enter_and_publish(client, transport_organiser, transport_commission)
    english = page(app, "/calls", "en")
    assert '<option value="江南文化">Jiangnan culture</option>' in english
    assert '<option value="江南文化">江南文化</option>' in page(app, "/calls", "zh")
    filtered = page(app, "/calls?theme=江南文化", "en")  # the filter still matches the theme of record
    assert '<option value="江南文化" selected>Jiangnan culture</option>' in filtered
    assert f'href="/calls/{call.id}"' in filtered


def test_a_call_in_chinese_only_is_shown_marked_as_chinese_on_english_pages(app, client, transport_organiser,
                                                                            transport_commission):
    chinese_only = {key: value for key, value in CALL_FORM.items() if not key.endswith("_en")}
    call = enter_and_publish(client, transport_organiser, transport_commission, chinese_only)
    english = page(app, f"/calls/{call.id}", "en")
    assert '<h1><span lang="zh-Hans">道路栏杆请您绘</span>' in english
    assert "No English text was given: shown in Chinese." in english
    assert '<div lang="zh-Hans"><h2>背景</h2>' in english
    cards = page(app, "/calls", "en")
    assert '<span lang="zh-Hans">道路栏杆请您绘</span>' in cards


def test_the_api_carries_each_text_in_both_languages(app, client, transport_organiser, transport_commission):
    call = enter_and_publish(client, transport_organiser, transport_commission)
    contract = Contract(app.test_client().get("/api/v1/openapi.json").get_json())
    found = contract.check(app.test_client().get(f"/api/v1/calls/{call.id}"))
    assert found["title"] == {"zh": "道路栏杆请您绘", "en": "Draw our road railings"}
    assert found["themes"][2] == {"zh": "江南文化", "en": "Jiangnan culture"}
    assert found["topics"][0]["title"] == {"zh": "社区空间", "en": "Community space"}
    assert found["rules"]["licence_text"] == {"zh": "署名 4.0", "en": "Attribution 4.0"}
    assert found["departments"][0]["name"] == {"zh": "上海市交通委员会",
                                               "en": "Shanghai Municipal Transport Commission"}


def test_a_mail_speaks_the_recipients_chosen_language(app, client, transport_organiser, transport_commission):
    call = enter_and_publish(client, transport_organiser, transport_commission)
    log_out(client)
    for email, locale, title in (("amy@example.org", "en", "“Draw our road railings”"),
                                 ("li@example.org", "zh", "“道路栏杆请您绘”")):
        make_user(email, locale=locale)
        entrant = app.test_client()
        log_in(entrant, email)
        assert submit_design(entrant, call).status_code == 302
        mail = last_mail(email)
        assert title in mail.body, mail.body


def test_the_entries_export_carries_both_languages(app, client, transport_organiser, transport_commission):
    call = enter_and_publish(client, transport_organiser, transport_commission)
    make_user("amy@example.org", locale="en")
    entrant = app.test_client()
    log_in(entrant, "amy@example.org")
    assert submit_design(entrant, call, extra={"topic_id": str(call.topics[0].id)}).status_code == 302
    lines = list(csv.DictReader(io.StringIO(client.get(f"/console/calls/{call.id}/entries.csv")
                                            .get_data(as_text=True).lstrip("\ufeff"))))
    assert (lines[0]["topic"], lines[0]["topic_en"]) == ("社区空间", "Community space")
    client.get("/lang/en")
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/console/calls/{call.id}/entries.xlsx").data))
    header = [c.value for c in book.active[1]]
    assert "Topic" in header and "Topic in English" in header


def test_an_entry_stays_in_the_language_its_author_wrote_marked_with_it(app, client, transport_organiser,
                                                                        transport_commission):
    call = enter_and_publish(client, transport_organiser, transport_commission)
    make_user("amy@example.org", locale="en")
    entrant = app.test_client()
    log_in(entrant, "amy@example.org")
    assert submit_design(entrant, call, title="Railings like waves").status_code == 302
    entry = db.session.scalar(select(Entry).where(Entry.title == "Railings like waves"))
    entry.status = EntryStatus.APPROVED
    db.session.commit()
    chinese = page(app, f"/entries/{entry.id}", "zh")
    assert '<h1 lang="en">Railings like waves</h1>' in chinese
    assert 'lang="zh-Hans">以石库门纹样为灵感。</div>' in chinese  # the description was written in Chinese
    assert '<span class="entry-card-title" lang="en">Railings like waves</span>' in page(
        app, f"/calls/{call.id}/entries", "zh")
