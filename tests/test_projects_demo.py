"""The demo city's year of projects loads through the services and holds together."""

from sqlmodel import select

from evalplatform.models import Contract, Instalment, Project, ProjectStatus
from evalplatform.services import audit, demo


def test_the_demo_loads_a_year_of_projects_contracts_and_instalments(db):
    demo.load(db)
    all_projects = db.exec(select(Project)).all()
    assert len(all_projects) >= 10
    assert len({p.department_id for p in all_projects}) == 3
    assert sum(1 for p in all_projects if p.budget_fen >= 1_000_000_00) >= 4
    big = [p for p in all_projects if p.budget_fen >= 5_000_000_00]
    assert big and all(p.ex_ante_sha256 for p in big)
    assert any(p.status == ProjectStatus.awaiting_approval for p in all_projects)
    for contract in db.exec(select(Contract)).all():
        instalments = db.exec(select(Instalment).where(Instalment.contract_id == contract.id)).all()
        assert sum(i.amount_fen for i in instalments) == contract.amount_fen
        project = db.get(Project, contract.project_id)
        assert contract.amount_fen <= project.budget_fen
    assert audit.verify(db).ok
