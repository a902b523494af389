"""The catalogue (指导性目录) as an Excel workbook: export, import all or nothing, audited."""

import io
import json

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from evalplatform.models import AuditEntry, CatalogueEntry
from evalplatform.services import catalogue, catalogue_excel
from evalplatform.services.audit import Actor
from evalplatform.services.errors import ValidationFailed
from tests.conftest import csrf_from, login

HEADER = ["编码", "级次", "上级编码", "名称", "说明", "是否有效"]


def workbook(rows, header=HEADER, title="指导性目录") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot(db) -> list[tuple]:
    db.expire_all()
    return [(e.code, e.name, e.description, e.active, e.parent_id)
            for e in db.exec(select(CatalogueEntry).order_by(CatalogueEntry.code))]


def audit_count(db, action) -> int:
    return db.exec(select(func.count()).select_from(AuditEntry)
                   .where(AuditEntry.action == action)).one()


@pytest.fixture
def finance(db, make_user):
    catalogue.seed(db)
    user = make_user("finance")
    return user


@pytest.fixture
def actor(finance):
    return Actor(finance.id, finance.username)


def test_the_export_has_every_entry_with_its_level_parent_and_state(db, actor):
    entry = db.exec(select(CatalogueEntry).where(CatalogueEntry.code == "A0502")).one()
    catalogue.save_entry(db, actor, entry_id=entry.id, code="A0502", name=entry.name,
                         description="含堂食和配送", active=False)
    book = load_workbook(io.BytesIO(catalogue_excel.export_workbook(db)))
    sheet = book.worksheets[0]
    assert sheet.title == "指导性目录"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    by_code = {r[0]: r for r in rows[1:]}
    assert len(by_code) == len(catalogue.list_entries(db))
    assert by_code["A"] == ("A", 1, None, "基本公共服务", None, "是")
    assert by_code["A05"][:4] == ("A05", 2, "A", "养老")
    assert by_code["A0502"] == ("A0502", 3, "A05", "社区老年助餐服务", "含堂食和配送", "否")


def test_an_exported_workbook_imports_back_unchanged(db, actor):
    before = snapshot(db)
    result = catalogue_excel.import_workbook(db, actor, catalogue_excel.export_workbook(db))
    assert result.created == [] and result.updated == []
    assert result.unchanged == len(before)
    assert snapshot(db) == before


def test_import_adds_new_codes_updates_existing_ones_and_deletes_nothing(db, actor):
    before = snapshot(db)
    data = workbook([
        ["A08", 2, "A", "托育", "婴幼儿照护服务", "是"],
        ["A0801", 3, "A08", "普惠托育服务", "", "是"],  # its parent is new in the same workbook
        ["A0501", 3, "A05", "居家养老上门服务（含助浴）", "", "是"],  # renamed
        ["A0502", None, None, "社区老年助餐服务", "", "否"],  # withdrawn; level/parent optional
        ["D0201", 3, "D02", "城市道路清扫保洁", "", "是"],  # as it is
    ])
    result = catalogue_excel.import_workbook(db, actor, data, "目录2026.xlsx")
    assert result.created == ["A08", "A0801"]
    assert result.updated == ["A0501", "A0502"]
    assert result.unchanged == 1
    after = {code: (name, active, parent) for code, name, _d, active, parent in snapshot(db)}
    assert len(after) == len(before) + 2  # nothing deleted
    a08 = db.exec(select(CatalogueEntry).where(CatalogueEntry.code == "A08")).one()
    assert a08.level == 2 and a08.description == "婴幼儿照护服务"
    assert after["A0801"] == ("普惠托育服务", True, a08.id)
    assert after["A0501"][0] == "居家养老上门服务（含助浴）"
    assert after["A0502"][1] is False
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "catalogue.import")).one()
    change = json.loads(entry.change)
    assert (change["created"], change["updated"], change["unchanged"]) == (2, 2, 1)
    assert change["created_codes"] == ["A08", "A0801"] and change["filename"] == "目录2026.xlsx"
    assert entry.actor_id == actor.id


@pytest.mark.parametrize("row, cell, words", [
    (["A9", 2, "A", "坏编码", "", "是"], "A2", "编码"),
    (["A0901", 3, "A09", "无上级", "", "是"], "C2", "A09"),
    (["A0503", 2, "A05", "级次不符", "", "是"], "B2", "3"),
    (["A0503", 3, "A04", "上级不符", "", "是"], "C2", "A05"),
    (["A0503", 3, "A05", "", "", "是"], "D2", "名称"),
    (["A0503", 3, "A05", "老年人能力评估", "", "也许"], "F2", "是"),
    (["G", 1, "", "第七类服务", "", "是"], "A2", "六个"),  # level 1 is the national six
])
def test_a_bad_row_is_refused_naming_sheet_row_and_column(db, actor, row, cell, words):
    before = snapshot(db)
    with pytest.raises(ValidationFailed) as caught:
        catalogue_excel.import_workbook(db, actor, workbook([row]))
    key = f"指导性目录!{cell}"
    assert key in caught.value.errors, caught.value.errors
    message = caught.value.errors[key]
    assert message.startswith(f"工作表“指导性目录”第 2 行 {cell[0]} 列")
    assert words in message
    assert snapshot(db) == before
    assert audit_count(db, "catalogue.import") == 0


def test_one_bad_row_refuses_the_whole_workbook_and_every_fault_is_named(db, actor):
    before = snapshot(db)
    data = workbook([
        ["A08", 2, "A", "托育", "", "是"],  # good, but not stored: the workbook is refused
        ["A0801", 3, "A08", "", "", "是"],
        ["A08", 2, "A", "托育（重复）", "", "是"],
    ], title="目录")
    with pytest.raises(ValidationFailed) as caught:
        catalogue_excel.import_workbook(db, actor, data)
    assert set(caught.value.errors) == {"目录!D3", "目录!A4"}
    assert "第 2 行" in caught.value.errors["目录!A4"]
    assert snapshot(db) == before


def zip_bomb() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize("data, words", [
    (b"", "请选择"),
    (b"not a workbook at all", "不是 Excel"),
    (b"PK\x03\x04 broken zip", "不是 Excel"),
    (workbook([]), "没有"),
    (None, "解压后超过 50 MB"),  # a zip bomb: a few kB that would unpack to 60 MB
])
def test_a_file_that_is_no_catalogue_workbook_is_refused(db, actor, data, words):
    data = zip_bomb() if data is None else data
    with pytest.raises(ValidationFailed) as caught:
        catalogue_excel.import_workbook(db, actor, data)
    assert words in caught.value.errors["file"]


def test_english_users_get_english_faults(db, actor):
    from evalplatform import i18n

    with i18n.language("en"), pytest.raises(ValidationFailed) as caught:
        catalogue_excel.import_workbook(db, actor, workbook([["A0503", 3, "A05", "", "", "yes"]]))
    assert caught.value.errors["指导性目录!D2"].startswith("Sheet 指导性目录, row 2, column D (Name)")


# ---------------------------------------------------------------- pages


def test_finance_imports_on_the_catalogue_page_and_sees_the_counts(client, db, finance):
    assert login(client, finance.username).status_code == 303
    page = client.get("/catalogue").text
    assert 'action="/catalogue/import"' in page and 'href="/catalogue/export.xlsx"' in page
    token = csrf_from(client, "/catalogue")
    bad = workbook([["A0801", 3, "A08", "普惠托育服务", "", "是"]])
    response = client.post("/catalogue/import", data={"csrf_token": token},
                           files={"file": ("目录.xlsx", bad, catalogue_excel.MEDIA_TYPE)})
    assert response.status_code == 422
    assert "工作表“指导性目录”第 2 行 C 列（上级编码）" in response.text
    good = workbook([["A08", 2, "A", "托育", "", "是"], ["A0801", 3, "A08", "普惠托育服务", "", "是"]])
    response = client.post("/catalogue/import", data={"csrf_token": token},
                           files={"file": ("目录.xlsx", good, catalogue_excel.MEDIA_TYPE)})
    assert response.status_code == 303
    page = client.get("/catalogue").text
    assert "新增 2 条" in page and "普惠托育服务" in page


@pytest.mark.parametrize("role", ["finance", "auditor", "purchaser"])
def test_readers_export_the_workbook(client, db, signed_in, role):
    catalogue.seed(db)
    signed_in(role)
    response = client.get("/catalogue/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == catalogue_excel.MEDIA_TYPE
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0].max_row == len(catalogue.list_entries(db)) + 1


@pytest.mark.parametrize("role", ["auditor", "purchaser"])
def test_only_finance_imports(client, db, signed_in, role):
    catalogue.seed(db)
    signed_in(role)
    page = client.get("/catalogue").text
    assert 'action="/catalogue/import"' not in page
    token = csrf_from(client, "/catalogue")
    before = snapshot(db)
    response = client.post("/catalogue/import", data={"csrf_token": token},
                           files={"file": ("x.xlsx", workbook([["A08", 2, "A", "托育", "", "是"]]),
                                           catalogue_excel.MEDIA_TYPE)})
    assert response.status_code == 403
    assert snapshot(db) == before


@pytest.mark.parametrize("role", ["supplier", "evaluator"])
def test_suppliers_and_evaluators_do_not_export(client, db, signed_in, role):
    signed_in(role)
    assert client.get("/catalogue/export.xlsx").status_code == 403
