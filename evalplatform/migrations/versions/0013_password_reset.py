"""a user whose password the administrator reset must choose a new one at the next sign-in
(app_user.must_change_password)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:10:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the users there already keep their passwords: none has to change it. A plain ALTER
    # TABLE, not a batch: on SQLite a batch copies app_user to a new table and drops the old
    # one, which the foreign keys of every table that names a user refuse.
    op.add_column('app_user', sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('app_user', 'must_change_password')
