"""withdrawals: a supplier withdraws its open appeal (appeal.withdrawn_at, withdrawn_by; the
status "withdrawn"), and the third party withdraws a report it handed in by mistake
(scoring_file.withdrawn_at, withdrawn_by, withdrawal_reason), both kept and audited

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 13:45:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _add_user_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column with its REFERENCES
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                   "REFERENCES app_user (id)")  # in place; alembic would want a batch
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), sa.ForeignKey('app_user.id'),
                                       nullable=True))


def upgrade() -> None:
    # nullable columns (and a text with a default), added in place: a batch would copy and
    # drop tables that others name by foreign key
    op.add_column('appeal', sa.Column('withdrawn_at', sa.DateTime(timezone=True),
                                      nullable=True))
    _add_user_column('appeal', 'withdrawn_by')
    op.add_column('scoring_file', sa.Column('withdrawn_at', sa.DateTime(timezone=True),
                                            nullable=True))
    _add_user_column('scoring_file', 'withdrawn_by')
    op.add_column('scoring_file', sa.Column('withdrawal_reason', sa.Text(), nullable=False,
                                            server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('scoring_file') as batch:
        batch.drop_column('withdrawal_reason')
        batch.drop_column('withdrawn_by')
        batch.drop_column('withdrawn_at')
    with op.batch_alter_table('appeal') as batch:
        batch.drop_column('withdrawn_by')
        batch.drop_column('withdrawn_at')
