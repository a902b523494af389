"""survey answers are mixed after they come in (survey_response.mixed), so that nothing
stored ties an answer to its invitation code (surveys.mixing)

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # answers stored before this are unmixed: the workers' mixer takes them in its first round
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mixed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index('ix_survey_response_unmixed', ['survey_id'], unique=False,
                              postgresql_where=sa.text('NOT mixed'),
                              sqlite_where=sa.text('mixed = 0'))


def downgrade() -> None:
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_response_unmixed')
        batch_op.drop_column('mixed')
