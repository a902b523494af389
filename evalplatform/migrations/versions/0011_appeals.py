"""appeals (申诉) against published results: one per publication, decided by finance

Revision ID: 0011
Revises: 0005
Create Date: 2026-11-22 02:50:35.173852
"""

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('filed_by', sa.Integer(), nullable=True),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('leaves', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'upheld', 'reopened', name='appealstatus', native_enum=False, length=20), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('reopened_leaves', sa.JSON(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'], ),
    sa.ForeignKeyConstraint(['filed_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['result_id'], ['evaluation_result.id'], ),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('result_id', name='uq_appeal_result')
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_supplier_id'), ['supplier_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_appeal_status'))
        batch_op.drop_index(batch_op.f('ix_appeal_evaluation_id'))

    op.drop_table('appeal')
