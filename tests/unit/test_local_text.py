"""The one rule for a department's texts in two languages (contest.i18n.local_text) and a citizen's language."""
from flask_babel import force_locale

from contest.i18n import LocalText, lang_attribute, language_of, local_text
from contest.models import Call, Department


def test_an_english_page_gets_the_english_text_and_a_chinese_page_the_chinese_one():
    assert local_text("道路栏杆请您绘", "Draw our road railings", "en") == LocalText("Draw our road railings", "en")
    assert local_text("道路栏杆请您绘", "Draw our road railings", "zh") == LocalText("道路栏杆请您绘", "zh")


def test_without_english_an_english_page_gets_the_chinese_text_said_to_be_missing():
    assert local_text("道路栏杆请您绘", None, "en") == LocalText("道路栏杆请您绘", "zh", missing=True)
    assert local_text("道路栏杆请您绘", "  ", "en").missing
    assert not local_text("", None, "en").missing  # nothing to stand in for: no note either


def test_a_text_marks_its_language_when_it_differs_from_the_pages(app):
    with app.test_request_context(), force_locale("en"):
        assert Call(title="道路栏杆请您绘").local("title").__html__() == '<span lang="zh-Hans">道路栏杆请您绘</span>'
        english = Call(title="道路栏杆请您绘", title_en="Railings <for> all").local("title")
        assert english.__html__() == "Railings &lt;for&gt; all"
        assert Department(name="徐汇区", name_en="Xuhui District").display_name == "Xuhui District"
    with app.test_request_context(), force_locale("zh"):
        assert Call(title="道路栏杆", title_en="Railings").local("title").__html__() == "道路栏杆"


def test_both_languages_as_the_api_and_the_archive_carry_them():
    assert Call(title="道路栏杆", title_en="").both("title") == {"zh": "道路栏杆", "en": None}
    assert Call(title="道路栏杆", title_en="Railings").both("title") == {"zh": "道路栏杆", "en": "Railings"}


def test_a_citizens_text_is_marked_with_the_language_it_was_written_in():
    assert language_of("希望多一些长椅") == "zh"
    assert language_of("More benches, please: 更多长椅") == "zh"
    assert language_of("More benches near the school") == "en"
    assert language_of("123 !!") is None
    assert str(lang_attribute("More benches")) == ' lang="en"'
    assert str(lang_attribute("多一些长椅")) == ' lang="zh-Hans"'
    assert str(lang_attribute("")) == ""
