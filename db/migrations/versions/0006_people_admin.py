"""People and administration (issue 10): canonical usernames with a unique
look-alike key, password hashes, a version per user (ETag), and the UACS
code of an organization.

Existing usernames are rewritten in their canonical form (Unicode
NFKC_Casefold) and given the SHA-256 of their Unicode TR39 skeleton. Two
existing users whose names are the same or look alike stop the upgrade with
both names, so an administrator can decide which one to rename; nothing is
changed then.

The unique keys are unique indexes (SQLite adds them without rebuilding the
table); ``username_skeleton`` is NOT NULL on PostgreSQL, and filled by the
application on SQLite, which cannot add the constraint in place.

The canonical form and the skeleton are computed here with the same
definitions as ``services.users`` (written out, so that this migration does
not change when the application code does).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from workflow.names import canonical_username, skeleton_key

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _canonical(name: str) -> str:
    return canonical_username(name)


def _skeleton_key(name: str) -> str:
    return skeleton_key(name)


def upgrade() -> None:
    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('username_skeleton', sa.String))
    # First the check, before any DDL: SQLite (pysqlite) does not roll DDL back.
    seen: dict[str, str] = {}
    clashes, updates = [], []
    for row in connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)):
        canonical = _canonical(row.username)
        key = _skeleton_key(canonical)
        if key in seen:
            clashes.append(f"{seen[key]!r} and {row.username!r}")
        seen.setdefault(key, row.username)
        updates.append({"user_id": row.id, "canonical": canonical, "key": key})
    if clashes:
        raise RuntimeError("these usernames are the same or look alike once normalised (issue 10); rename one of "
                           "each pair, then upgrade again: " + "; ".join(clashes))

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uacs_code', sa.String(length=12), nullable=True))
    op.create_index('uq_organizations_uacs_code', 'organizations', ['uacs_code'], unique=True)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_skeleton', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    if updates:
        connection.execute(users.update().where(users.c.id == sa.bindparam('user_id'))
                           .values(username=sa.bindparam('canonical'), username_skeleton=sa.bindparam('key')),
                           updates)
    op.create_index('uq_users_username_skeleton', 'users', ['username_skeleton'], unique=True)
    if connection.dialect.name == 'postgresql':
        op.alter_column('users', 'username_skeleton', nullable=False)


def downgrade() -> None:
    op.drop_index('uq_users_username_skeleton', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('password_hash')
        batch_op.drop_column('username_skeleton')
    op.drop_index('uq_organizations_uacs_code', table_name='organizations')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('uacs_code')
