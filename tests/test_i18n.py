"""Every user-facing string is in the catalogues; the user chooses the language."""

from evalplatform.i18n import LANGUAGES
from evalplatform.i18n_catalog import extract, load, untranslated
from tests.conftest import csrf_from


def test_every_message_has_a_translation_in_every_language():
    messages = [m.id for m in extract() if m.id]
    assert len(messages) > 50  # the extraction really found the strings
    missing = {}
    for language in LANGUAGES:
        catalog = load(language)
        lacking = [m for m in messages
                   if not catalog.get(m) or untranslated(catalog.get(m))
                   or catalog.get(m).fuzzy]
        if lacking:
            missing[language] = lacking
    assert missing == {}, "run `make messages` and translate: " + repr(missing)


def test_a_plural_message_reads_chinese_on_a_chinese_page():
    """A plural message (ngettext) without its Chinese form fell back to English."""
    from evalplatform.i18n import language, ngettext

    with language("zh_CN"):
        text = ngettext("%(num)s empty seat", "%(num)s empty seats", 2)
    assert "2" in text and "seat" not in text


def test_pages_are_chinese_by_default_and_english_on_request(client, signed_in):
    signed_in("admin")
    assert "用户" in client.get("/admin/users").text
    token = csrf_from(client, "/")
    response = client.post("/language", data={"language": "en", "next": "/admin/users",
                                              "csrf_token": token})
    assert response.headers["location"] == "/admin/users"
    page = client.get("/admin/users").text
    assert "Users" in page and "Sign out" in page
    assert '<html lang="en">' in page


def test_service_errors_follow_the_language(client, signed_in):
    signed_in("admin")
    token = csrf_from(client, "/")
    client.post("/language", data={"language": "en", "csrf_token": token})
    response = client.post("/api/users", json={"username": "", "display_name": "x",
                                               "role": "admin", "password": "long-enough-pw"},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 422
    assert response.json()["errors"]["username"] == "Username is required."


def test_every_message_is_extracted_without_a_skipped_f_string(capsys):
    """An f-string in a translated call is skipped with a warning by the extractor: the
    numbers are formatted before the call, so regenerating the catalogues is quiet."""
    extract()
    assert "Skipping f-string" not in capsys.readouterr().err


def test_a_refused_upload_names_its_size_in_the_readers_language(monkeypatch):
    import pytest

    from evalplatform.i18n import language
    from evalplatform.services import files
    from evalplatform.services.errors import ValidationFailed
    from evalplatform.settings import get_settings

    monkeypatch.setattr(get_settings(), "upload_max_bytes", 2 * 1048576)
    big = b"%PDF-" + b"x" * (3 * 1048576)  # five bytes over 3 MB: rounded up, 3.1
    seen = {}
    for lang in ("zh_CN", "en"):
        with language(lang), pytest.raises(ValidationFailed) as caught:
            files.check(big, field="report")
        seen[lang] = caught.value.errors["report"]
    assert seen == {"zh_CN": "文件大小为 3.1 MB，最多接受 2 MB。",
                    "en": "The file is 3.1 MB; at most 2 MB is accepted."}


def test_an_upload_limit_under_a_megabyte_is_named_in_kb(monkeypatch):
    import pytest

    from evalplatform.i18n import language
    from evalplatform.services import files
    from evalplatform.services.errors import ValidationFailed
    from evalplatform.settings import get_settings

    monkeypatch.setattr(get_settings(), "upload_max_bytes", 300 * 1024)
    big = b"%PDF-" + b"x" * (400 * 1024)
    seen = {}
    for lang in ("zh_CN", "en"):
        with language(lang), pytest.raises(ValidationFailed) as caught:
            files.check(big, field="report")
        seen[lang] = caught.value.errors["report"]
    assert seen == {"zh_CN": "文件大小为 400 KB，最多接受 300 KB。",
                    "en": "The file is 400 KB; at most 300 KB is accepted."}


def test_english_messages_write_a_percentage_as_the_percent_filter_does():
    """English writes '95 %' (as i18n.percent and the 'percent' filter do), so a figure typed
    into an English message is '95 %%' too, never '95%%' (Chinese keeps '95%')."""
    import re

    english = load("en")
    glued = [m.id for m in english if isinstance(m.id, str) and m.id
             and re.search(r"\d%", m.string)]
    assert glued == []
    for msgid in ("95 %% interval %(low)s – %(high)s", "Sample needed (±5 %%, 95 %%)"):
        assert "%%" in load("zh_CN").get(msgid).string  # the Chinese is kept: 95%% 置信区间


def test_only_the_engines_sentences_are_written_in_chinese_first():
    """The engine's sentences (scoring/) are Chinese with an English translation; every other
    message is English with a Chinese one, even one that names a Chinese term."""
    from evalplatform.i18n_catalog import written_in_chinese

    catalog = {m.id: m for m in extract() if m.id}
    assert written_in_chinese(catalog["结果尚不能定稿，结算金额仅供参考"])
    named = next(m for m in catalog.values() if isinstance(m.id, str) and "(扣分理由)" in m.id)
    assert not written_in_chinese(named)
    english = load("en")
    for message in catalog.values():
        if written_in_chinese(message):
            translated = english.get(message.id).string
            assert translated and translated != message.id, message.id


def test_switching_language_keeps_the_page_and_its_query_and_stays_on_the_site(client):
    """A resident who typed a code and was told it is short switches language and sees the
    same page, the code and the message again, now in English; a next address off the site
    ("//host", or "/\\host" which browsers read so) goes home instead."""
    page = client.get("/s", params={"code": "abcd"})
    assert page.status_code == 422
    assert 'name="next" value="/s?code=abcd"' in page.text
    token = csrf_from(client, "/s")
    moved = client.post("/language", data={"language": "en", "next": "/s?code=abcd",
                                           "csrf_token": token}, follow_redirects=False)
    assert moved.headers["location"] == "/s?code=abcd"
    again = client.get(moved.headers["location"])
    assert 'value="abcd"' in again.text and 'id="e-code"' in again.text
    for away in ("//evil.example", "/\\evil.example", "https://evil.example"):
        refused = client.post("/language", data={"language": "en", "next": away,
                                                 "csrf_token": token}, follow_redirects=False)
        assert refused.headers["location"] == "/", away
