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
    # the users there already keep their passwords: none has to change it
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
