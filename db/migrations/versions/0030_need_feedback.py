"""Community feedback on completed PPAs: a rating and a comment per user
per need (issue 15 item 3, docs/design.md §14 "Feedback"). Its photos are
rows of ``attachments`` (record type ``feedback``): no table for them.

A new table only: no table is rebuilt, so SQLite keeps every trigger.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('need_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('ppa_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_need_feedback_rating_1_to_5')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_need_feedback_need_id_needs'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ppa_id'], ['ppas.id'], name=op.f('fk_need_feedback_ppa_id_ppas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_need_feedback_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_feedback')),
    sa.UniqueConstraint('need_id', 'user_id', name='uq_need_feedback_need_user')
    )
    op.create_index(op.f('ix_need_feedback_ppa_id'), 'need_feedback', ['ppa_id'], unique=False)
    op.create_index(op.f('ix_need_feedback_user_id'), 'need_feedback', ['user_id'], unique=False)
    op.create_index(op.f('ix_need_feedback_submitted_on'), 'need_feedback', ['submitted_on'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_need_feedback_submitted_on'), table_name='need_feedback')
    op.drop_index(op.f('ix_need_feedback_user_id'), table_name='need_feedback')
    op.drop_index(op.f('ix_need_feedback_ppa_id'), table_name='need_feedback')
    op.drop_table('need_feedback')
