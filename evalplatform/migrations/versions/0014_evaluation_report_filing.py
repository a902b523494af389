"""the filing (备案) of an ex-post evaluation's report with the ex-ante assessment, for a
project of ¥5,000,000 or more (evaluation.report_filed_on, report_filed_by,
report_filed_version)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 02:30:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable columns, added in place (no batch: on SQLite a batch would copy and drop the
    # evaluation table, which the foreign keys of the tables that name an evaluation refuse)
    op.add_column('evaluation', sa.Column('report_filed_on', sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column with its REFERENCES
        op.execute("ALTER TABLE evaluation ADD COLUMN report_filed_by INTEGER "
                   "REFERENCES app_user (id)")  # in place; alembic would want a batch
    else:
        op.add_column('evaluation', sa.Column('report_filed_by', sa.Integer(),
                                              sa.ForeignKey('app_user.id'), nullable=True))
    op.add_column('evaluation', sa.Column('report_filed_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evaluation') as batch:
        batch.drop_column('report_filed_version')
        batch.drop_column('report_filed_by')
        batch.drop_column('report_filed_on')
