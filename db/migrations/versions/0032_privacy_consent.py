"""Consent and erasure of personal data (issue 15 item 7, docs/design.md §14).

``needs.consent_at`` (UTC) and ``needs.privacy_notice_version``: when the
person raising a need consented, to which version of the privacy notice
(``needs.yaml`` ``privacy``); existing rows keep NULL, meaning raised before
consent was asked. ``need_votes.user_id`` becomes nullable: an erased or
purged vote keeps its row and weight (the counts stay) without its voter;
``uq_need_votes_need_user`` treats NULLs as distinct on both databases.

SQLite rebuilds ``need_votes`` to drop NOT NULL (it has no triggers);
``needs`` only gains columns.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('needs', sa.Column('consent_at', db.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('needs', sa.Column('privacy_notice_version', sa.String(length=20), nullable=True))
    with op.batch_alter_table('need_votes') as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM need_votes WHERE user_id IS NULL")
    with op.batch_alter_table('need_votes') as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('needs') as batch_op:
        batch_op.drop_column('privacy_notice_version')
        batch_op.drop_column('consent_at')
