"""Working days on the Chinese calendar, and uploads stored by hash and checked by bytes."""

import io
import zipfile
from datetime import date

import pytest

from evalplatform.services import files
from evalplatform.services.errors import ValidationFailed
from evalplatform.services.workdays import (
    CalendarUnavailable,
    add_working_days,
    is_working_day,
    working_days_between,
)


def test_national_day_2025_is_skipped_and_the_adjusted_weekends_count():
    assert is_working_day(date(2025, 9, 28))  # a Sunday worked (调休)
    assert not is_working_day(date(2025, 10, 1))
    assert not is_working_day(date(2025, 10, 8))
    assert is_working_day(date(2025, 10, 11))  # a Saturday worked (调休)
    # Signed Tuesday 30 September: 1 October–8 October are off, Thursday 9 is the first day.
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 9, 30), 2) == date(2025, 10, 10)
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)  # the working Saturday
    # Friday 26 September: the working Sunday 28 counts.
    assert add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)


def test_ten_working_days_over_the_spring_festival_2026():
    # 2026 Spring Festival: 15–23 February off, 14 and 28 February worked.
    # From Tuesday 10 February: 11–14 (the Saturday worked) are 4, 24–28 make 9, 2 March is 10.
    assert add_working_days(date(2026, 2, 10), 9) == date(2026, 2, 28)
    assert add_working_days(date(2026, 2, 10), 10) == date(2026, 3, 2)
    assert working_days_between(date(2026, 2, 10), date(2026, 3, 2)) == 10


def test_an_ordinary_weekend_is_skipped():
    assert add_working_days(date(2025, 11, 14), 2) == date(2025, 11, 18)  # Fri → Tue


def test_a_year_the_calendar_does_not_know_is_a_clear_error():
    with pytest.raises(CalendarUnavailable) as caught:
        add_working_days(date(2099, 3, 2), 2)
    assert "2099" in caught.value.message


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_files_are_stored_by_hash_and_checked_by_their_bytes(settings):
    stored = files.store(b"%PDF-1.7 report", "报告.pdf", field="f")
    assert stored.kind == "pdf" and len(stored.sha256) == 64
    assert files.read(stored.sha256) == b"%PDF-1.7 report"
    assert files.store(b"%PDF-1.7 report", "again.pdf", field="f").sha256 == stored.sha256
    assert files.store(docx_bytes(), "a.docx", field="f", allowed=("pdf", "docx")).kind == "docx"
    with pytest.raises(ValidationFailed) as caught:
        files.store(b"MZ this is an exe named .pdf", "evil.pdf", field="report")
    assert "report" in caught.value.errors
    with pytest.raises(ValidationFailed):
        files.store(docx_bytes(), "a.docx", field="f")  # PDF only here


def test_files_over_the_size_limit_are_refused(monkeypatch):
    from evalplatform.settings import get_settings

    monkeypatch.setattr(get_settings(), "upload_max_bytes", 10)
    with pytest.raises(ValidationFailed) as caught:
        files.store(b"%PDF-" + b"x" * 20, "big.pdf", field="report")
    assert "MB" in caught.value.errors["report"]
