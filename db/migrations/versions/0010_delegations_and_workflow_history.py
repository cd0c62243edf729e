"""Delegations of roles, and one append-only history for the workflows of
the rules other than the PPA approval (issue 14, docs/design.md §6).

``delegations``: a user lends a role to a colleague from a start to an
expiry, for a reason; revoked by setting ``revoked_at``.

``workflow_transitions``: every step of a record (budget proposal, ORS, DV,
community need, ...) through its workflow; append-only like
``ppa_transitions`` (triggers refuse UPDATE and DELETE; ``ppaflow init-db``
grants the application role only SELECT and INSERT on it).

``ppa_transitions`` gains ``delegated_by_id`` and ``delegation_id``: the
delegator and the delegation a step was signed under. The columns are added
in place (``ALTER TABLE ... ADD COLUMN``), so SQLite keeps the table and its
append-only triggers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import importlib

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _initial_schema():
    """Revision 0001's module: its ``append_only`` is reused as it is."""
    return importlib.import_module("db.migrations.versions.0001_initial_schema")


def upgrade() -> None:
    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delegator_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('expires_at > starts_at', name=op.f('ck_delegations_ends_after_start')),
    sa.CheckConstraint('delegator_id <> delegate_id', name=op.f('ck_delegations_not_to_oneself')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_delegations_created_by_id_users')),
    sa.ForeignKeyConstraint(['delegate_id'], ['users.id'], name=op.f('fk_delegations_delegate_id_users')),
    sa.ForeignKeyConstraint(['delegator_id'], ['users.id'], name=op.f('fk_delegations_delegator_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_delegations_organization_id_organizations')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_delegations_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index('ix_delegations_delegate_role', ['delegate_id', 'role'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_delegator_id'), ['delegator_id'], unique=False)

    op.create_table('workflow_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow', sa.String(length=63), nullable=False),
    sa.Column('record_type', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=63), nullable=False),
    sa.Column('from_stage', sa.String(length=63), nullable=False),
    sa.Column('to_stage', sa.String(length=63), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('delegated_by_id', sa.Integer(), nullable=True),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rules_hash', sa.String(length=64), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_workflow_transitions_actor_id_users')),
    sa.ForeignKeyConstraint(['delegated_by_id'], ['users.id'],
                            name=op.f('fk_workflow_transitions_delegated_by_id_users')),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'],
                            name=op.f('fk_workflow_transitions_delegation_id_delegations')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_workflow_transitions_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_transitions'))
    )
    with op.batch_alter_table('workflow_transitions', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_transitions_record', ['record_type', 'record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_transitions_organization_id'), ['organization_id'],
                              unique=False)
    _initial_schema().append_only("workflow_transitions")

    # In place, not through a batch rebuild: SQLite would drop the append-only triggers with the old table.
    for column, target in (("delegated_by_id", "users"), ("delegation_id", "delegations")):
        if op.get_bind().dialect.name == "sqlite":  # ADD COLUMN ... REFERENCES: SQLite's one way to add a key
            op.execute(f"ALTER TABLE ppa_transitions ADD COLUMN {column} INTEGER REFERENCES {target} (id)")
        else:
            op.add_column('ppa_transitions', sa.Column(column, sa.Integer(), sa.ForeignKey(
                f'{target}.id', name=op.f(f'fk_ppa_transitions_{column}_{target}')), nullable=True))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # rebuilt below: its triggers go with the old table and are made again after
        for statement in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS ppa_transitions_no_{statement}")
    with op.batch_alter_table('ppa_transitions', schema=None) as batch_op:
        if not sqlite:
            batch_op.drop_constraint(op.f('fk_ppa_transitions_delegation_id_delegations'), type_='foreignkey')
            batch_op.drop_constraint(op.f('fk_ppa_transitions_delegated_by_id_users'), type_='foreignkey')
        batch_op.drop_column('delegation_id')
        batch_op.drop_column('delegated_by_id')
    if sqlite:
        _initial_schema().append_only("ppa_transitions")

    with op.batch_alter_table('workflow_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_transitions_organization_id'))
        batch_op.drop_index('ix_workflow_transitions_record')
    op.drop_table('workflow_transitions')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_delegator_id'))
        batch_op.drop_index('ix_delegations_delegate_role')
    op.drop_table('delegations')
