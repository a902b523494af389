"""Working days on the Chinese calendar, and uploads stored by hash and checked by bytes."""

import io
import os
import zipfile
from datetime import date, timedelta

import pytest

from evalplatform.services import files, workdays
from evalplatform.services.errors import ValidationFailed
from evalplatform.services.workdays import (
    CalendarUnavailable,
    add_working_days,
    is_working_day,
    working_days_between,
)
from tests.test_audit import cli_env  # noqa: F401


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


def test_a_period_in_calendar_days_ending_on_a_day_off_runs_to_the_next_working_day():
    assert workdays.period_end(date(2026, 10, 1)) == date(2026, 10, 8)  # National Day
    assert workdays.period_end(date(2026, 12, 5)) == date(2026, 12, 7)  # a Saturday
    assert workdays.period_end(date(2026, 12, 7)) == date(2026, 12, 7)  # a working Monday
    assert workdays.period_end(date(2025, 9, 28)) == date(2025, 9, 28)  # a Sunday worked (调休)


def test_a_period_ending_in_a_year_without_a_calendar_skips_only_the_days_off_every_year_has(
        monkeypatch):
    monkeypatch.setattr(workdays, "is_working_day", lambda day: (_ for _ in ()).throw(
        CalendarUnavailable("no calendar")))
    assert workdays.period_end(date(2031, 2, 3)) == date(2031, 2, 3)  # a Monday: as it is
    assert workdays.period_end(date(2031, 2, 1)) == date(2031, 2, 3)  # a Saturday
    assert workdays.period_end(date(2027, 1, 1)) == date(2027, 1, 4)  # 元旦, a Friday
    assert workdays.period_end(date(2031, 10, 1)) == date(2031, 10, 6)  # 国庆 1–3, a weekend


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


def test_a_file_of_the_wrong_type_is_refused_in_the_readers_punctuation():
    """It read 文件内容不是可接受的类型（PDF, Word (DOCX)）。: ASCII commas and brackets."""
    from evalplatform.i18n import language

    with pytest.raises(ValidationFailed) as caught:
        files.check(b"plain text", field="file", allowed=(files.PDF, files.DOCX))
    assert caught.value.errors["file"] == "文件内容不是可接受的类型，只接受以下格式：PDF 或 Word（DOCX）。"
    with pytest.raises(ValidationFailed) as caught:
        files.check(b"plain text", field="file")
    assert caught.value.errors["file"] == "文件内容不是可接受的类型，只接受以下格式：PDF。"
    with language("en"), pytest.raises(ValidationFailed) as caught:
        files.check(b"plain text", field="file", allowed=(files.PDF, files.DOCX))
    assert caught.value.errors["file"] == \
        "The file's content is not an accepted type; accepted: PDF or Word (DOCX)."


def test_files_over_the_size_limit_are_refused(monkeypatch):
    from evalplatform.settings import get_settings

    monkeypatch.setattr(get_settings(), "upload_max_bytes", 10)
    with pytest.raises(ValidationFailed) as caught:
        files.store(b"%PDF-" + b"x" * 20, "big.pdf", field="report")
    assert caught.value.errors["report"] == "文件大小为 25 字节，最多接受 10 字节。"


def test_a_file_just_over_a_limit_in_megabytes_reads_as_over_it(monkeypatch):
    """20 MB and one byte read "20.0 MB" next to "at most 20 MB": the size is rounded up."""
    from evalplatform.settings import get_settings

    monkeypatch.setattr(get_settings(), "upload_max_bytes", 20 * 2 ** 20)
    with pytest.raises(ValidationFailed) as caught:
        files.check(b"%PDF-" + b"x" * (20 * 2 ** 20 - 4), field="report")
    assert caught.value.errors["report"] == "文件大小为 20.1 MB，最多接受 20 MB。"


# ---------------------------------------------------------------- a year loaded by an administrator

NEXT = workdays.package_years()[1] + 1  # the first year the installed calendar does not know


def notice(year: int = NEXT) -> str:
    """A made-up notice for ``year`` in the State Council's pattern (not the real one)."""
    first_saturday = next(d for d in (date(year, 2, day) for day in range(1, 8))
                          if d.weekday() == 5)
    spring = [first_saturday + timedelta(days=k) for k in range(1, 9)]
    return "\n".join([
        f"# 国务院办公厅关于{year}年部分节假日安排的通知（测试用）",
        f"{year}-01-01 休 元旦",
        *(f"{d.isoformat()} 休 春节" for d in spring),
        f"{first_saturday.isoformat()} 班 春节   # 调休",
        "",
    ])


@pytest.fixture
def schedules(tmp_path, monkeypatch):
    monkeypatch.setattr(workdays, "schedule_dir", lambda: tmp_path / "holidays")
    return tmp_path / "holidays"


def test_a_year_not_yet_known_says_how_to_load_it(schedules):
    with pytest.raises(CalendarUnavailable) as caught:
        add_working_days(date(NEXT, 1, 4), 1)
    assert f"{NEXT} 年的节假日安排尚不可用" in caught.value.message
    assert "/admin/holidays" in caught.value.message


def test_a_loaded_year_gives_deadlines_across_new_year_with_its_holidays_and_weekends_worked(
        schedules):
    schedule = workdays.load_schedule(NEXT, notice())
    assert (schedules / f"{NEXT}.txt").exists() and date(NEXT, 1, 1) in schedule.off
    # 31 December of the last built-in year, then 1 January off, then the ordinary week
    last_day = date(NEXT - 1, 12, 31)
    expected, day = [], last_day
    while len(expected) < 5:
        day += timedelta(days=1)
        if day != date(NEXT, 1, 1) and day.weekday() < 5:
            expected.append(day)
    assert [add_working_days(last_day, n) for n in range(1, 6)] == expected
    saturday = min(schedule.worked)
    assert is_working_day(saturday) and saturday.weekday() == 5
    assert not any(is_working_day(d) for d in schedule.off)
    friday = saturday - timedelta(days=1)
    assert add_working_days(friday, 1) == saturday  # the Saturday worked counts
    after = max(schedule.off)
    assert working_days_between(friday, after) == 1


def test_a_broken_schedule_names_each_line_and_its_rule_and_loads_nothing(schedules):
    text = "\n".join([f"{NEXT}-01-01 休 元旦", f"{NEXT}-13-01 休 x", f"{NEXT - 1}-05-01 休 劳动节",
                      f"{NEXT}-01-01 休 again", f"{NEXT}-03-03 假 x", f"{NEXT}-01-05",
                      _weekday(NEXT) + " 班 调休"])
    with pytest.raises(ValidationFailed) as caught:
        workdays.load_schedule(NEXT, text)
    errors = caught.value.errors
    assert errors["第 2 行"] == f"“{NEXT}-13-01”不是日期（格式 YYYY-MM-DD）。"
    assert errors["第 3 行"] == f"{NEXT - 1}-05-01 不在 {NEXT} 年内。"
    assert errors["第 4 行"] == f"{NEXT}-01-01 出现了两次。"
    assert "“假”" in errors["第 5 行"] and "例如" in errors["第 6 行"]
    assert "只有周六或周日" in errors["第 7 行"]
    assert "第 1 行" not in errors
    assert not schedules.exists()
    with pytest.raises(ValidationFailed) as missing:
        workdays.load_schedule(NEXT, f"{NEXT}-10-01 休 国庆节")
    assert "元旦" in missing.value.errors["schedule"]


def _weekday(year: int) -> str:
    return next(d for d in (date(year, 3, day) for day in range(1, 8)) if d.weekday() < 5).isoformat()


def test_a_built_in_year_is_not_replaced(schedules):
    first, last = workdays.package_years()
    with pytest.raises(ValidationFailed) as caught:
        workdays.load_schedule(last, notice(last))
    assert "已内置" in caught.value.errors["year"]


def test_a_schedule_loaded_by_another_process_is_seen_and_one_edited_badly_is_a_clear_error(
        schedules):
    schedules.mkdir()
    (schedules / f"{NEXT}.txt").write_text(notice(), encoding="utf-8")  # as another worker left it
    assert not is_working_day(date(NEXT, 1, 1))
    (schedules / f"{NEXT}.txt").write_text(f"{NEXT}-01-0x 休 元旦\n", encoding="utf-8")
    os.utime(schedules / f"{NEXT}.txt", ns=(1, 1))  # a different stamp, whatever the clock
    with pytest.raises(CalendarUnavailable) as caught:
        is_working_day(date(NEXT, 1, 4))
    assert "请重新导入" in caught.value.message and "第 1 行" in caught.value.message


def test_the_command_line_loads_and_lists_a_year(schedules, tmp_path, db, cli_env):  # noqa: F811
    from sqlmodel import select
    from typer.testing import CliRunner

    from evalplatform.cli import app
    from evalplatform.models import AuditEntry

    runner = CliRunner()
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{NEXT}-01-01 休 元旦\n{NEXT}-02-30 休 春节\n", encoding="utf-8")
    refused = runner.invoke(app, ["holidays", "load", str(NEXT), str(bad)])
    assert refused.exit_code == 1 and "第 2 行" in refused.output and "nothing loaded" in refused.output
    good = tmp_path / "notice.txt"
    good.write_text(notice(), encoding="utf-8")
    loaded = runner.invoke(app, ["holidays", "load", str(NEXT), str(good)])
    assert loaded.exit_code == 0, loaded.output
    assert f"{NEXT}: 9 day(s) off, 1 weekend day(s) worked" in loaded.output
    listed = runner.invoke(app, ["holidays", "list"])
    first, last = workdays.package_years()
    assert f"built in: {first}–{last}" in listed.output and f"loaded: {NEXT}" in listed.output
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "holidays.load")).one()
    assert entry.actor_name == "system" and entry.entity_id == str(NEXT)


def test_the_administrator_loads_a_year_on_the_holidays_page_and_it_is_audited(
        client, signed_in, db, schedules):
    from sqlmodel import select

    from evalplatform.models import AuditEntry
    from tests.conftest import csrf_from

    signed_in("admin")
    page = client.get("/admin/holidays")
    assert page.status_code == 200
    assert "尚未导入任何年份" in page.text and 'href="/admin/holidays"' in page.text
    token = csrf_from(client, "/admin/holidays")
    bad = client.post("/admin/holidays", data={"year": str(NEXT), "csrf_token": token,
                                               "schedule": f"{NEXT}-01-01 休 元旦\n{NEXT}-03-04 班 x"})
    assert bad.status_code == 422
    assert "第 2 行" in bad.text and "只有周六或周日" in bad.text
    assert f"{NEXT}-03-04 班 x" in bad.text  # what was typed is kept
    assert not schedules.exists()
    odd_year = client.post("/admin/holidays", data={"year": "27", "csrf_token": token,
                                                    "schedule": notice()})
    assert odd_year.status_code == 422 and "四位数字" in odd_year.text
    done = client.post("/admin/holidays", data={"year": str(NEXT), "csrf_token": token,
                                                "schedule": notice()})
    assert done.status_code == 303 and done.headers["location"] == "/admin/holidays"
    listed = client.get("/admin/holidays").text
    assert f"已导入 {NEXT} 年节假日安排：放假 9 天，调休上班 1 天" in listed
    assert f"{NEXT}-01-01 元旦" in listed
    assert not is_working_day(date(NEXT, 1, 1))
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "holidays.load")).one()
    assert entry.entity_id == str(NEXT) and f"{NEXT}-01-01" in entry.change


def test_finance_reads_the_holidays_page_but_only_the_administrator_loads_a_year(
        client, signed_in, schedules):
    """Finance owns the deadlines the calendar counts: it reads which years are loaded, and
    cannot load one (the form is not shown, the POST refused)."""
    from tests.conftest import csrf_from

    signed_in("finance")
    page = client.get("/admin/holidays")
    assert page.status_code == 200 and 'name="schedule"' not in page.text
    token = csrf_from(client, "/admin/holidays")
    refused = client.post("/admin/holidays", data={"year": str(NEXT), "csrf_token": token,
                                                   "schedule": notice()})
    assert refused.status_code == 403 and not (schedules / f"{NEXT}.txt").exists()


def test_a_year_edited_badly_is_shown_on_the_page_which_loads_it_again(
        client, signed_in, schedules):
    from tests.conftest import csrf_from

    schedules.mkdir()
    (schedules / f"{NEXT}.txt").write_text(f"{NEXT}-01-0x 休 元旦\n", encoding="utf-8")
    signed_in("admin")
    page = client.get("/admin/holidays")
    assert page.status_code == 200 and "请重新导入" in page.text
    token = csrf_from(client, "/admin/holidays")
    again = client.post("/admin/holidays", data={"year": str(NEXT), "csrf_token": token,
                                                 "schedule": notice()})
    assert again.status_code == 303 and not is_working_day(date(NEXT, 1, 1))
    assert "请重新导入" not in client.get("/admin/holidays").text


def test_the_administrator_is_told_from_october_which_year_to_load(client, signed_in, schedules,
                                                                   monkeypatch):
    """The notice for next year comes out in the autumn; deadlines from late in the year run
    into January. The administrator's home says which year is missing before one is refused."""
    from evalplatform.services import projects

    assert workdays.missing_years(date(NEXT - 1, 9, 30)) == []
    assert workdays.missing_years(date(NEXT - 1, 10, 1)) == [NEXT]
    assert workdays.missing_years(date(NEXT, 3, 1)) == [NEXT]
    assert workdays.missing_years(date(NEXT, 10, 1)) == [NEXT, NEXT + 1]
    monkeypatch.setattr(projects, "today", lambda: date(NEXT - 1, 11, 20))
    signed_in("admin")
    first = client.get("/").text.split('data-testid="home-cards"')[1].split("</li>")[0]
    assert "待导入的节假日安排" in first and str(NEXT) in first  # urgent, so first
    assert 'href="/admin/holidays"' in first and "urgent" in first
    workdays.load_schedule(NEXT, notice())
    assert workdays.missing_years(date(NEXT - 1, 11, 20)) == []
    assert "待导入的节假日安排" not in client.get("/").text
