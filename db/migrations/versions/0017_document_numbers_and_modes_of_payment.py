"""ORS and DV numbers as the GAM appendices give them; modes of payment
(issue 12 item 3; docs/design.md §12, "Document numbers and modes of payment").

``document_number_series``: the last serial given in each series of an
organization: ORS numbers one per fund cluster and year (GAM Appendix 11),
DV numbers one per year (GAM Appendix 32, ``fund_cluster`` ``''``). Seeded
from the existing ORS and DV numbers already in those forms, so that a
generated number never repeats one of them. Numbers in other forms (the
free-form ones written before this revision) stay as they are, readable and
unique per organization: the form is checked on new documents only.

``disbursements.fund_cluster``: the DV's fund cluster, a field of its own
as on the form; existing DVs take their program budget's.

``disbursements.payment_method``: the modes of payment of the DV form. The
old values map as: ``check`` → ``mds_check`` (a check of a national
government agency is drawn on its Modified Disbursement System account),
``bank_transfer`` → ``ada`` (an Advice to Debit Account is the MDS
account's bank transfer), ``cash`` and ``other`` → ``other``. The
downgrade maps back: both checks → ``check``, ``ada`` → ``bank_transfer``.

A posted DV's fund cluster never changes: a trigger refuses the UPDATE
(``ppaflow_posted:disbursements:fund_cluster``, as 0011's fixed columns,
so the API answers 409 ``posted_row_immutable``). The mode of payment is
not fixed (0011 never fixed it). The series table is a counter (the
application's role updates it). On SQLite the disbursements
table is rebuilt to change its CHECK constraint, with every trigger set
aside and put back (``db.migrations.rebuilds``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

import re

import sqlalchemy as sa
from alembic import op

from db.migrations.rebuilds import triggers_kept

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OLD = ('check', 'bank_transfer', 'cash', 'other')
NEW = ('mds_check', 'commercial_check', 'ada', 'other')
UP = {'check': 'mds_check', 'bank_transfer': 'ada', 'cash': 'other', 'other': 'other'}
DOWN = {'mds_check': 'check', 'commercial_check': 'check', 'ada': 'bank_transfer', 'other': 'other'}

#: The forms of workflow/document_numbers.py as they are at this revision.
ORS = re.compile(r"([0-9]{2})-([0-9]{2}|[0-9]{6}|[0-9]{8})-([0-9]{4})-([0-9]{2})-([0-9]{3,5})")
DV = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{4,5})")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _remap(mapping: dict, allowed) -> None:
    """Map every payment method through ``mapping`` and allow only
    ``allowed``: the constraint is dropped first, so the rows may pass through
    a value neither version allows."""
    with op.batch_alter_table('disbursements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_disbursements_payment_method'), type_='check')
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in mapping.items())
    op.execute(f"UPDATE disbursements SET payment_method = CASE payment_method {cases} ELSE payment_method END")
    with op.batch_alter_table('disbursements', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_disbursements_payment_method'),
                                         _in('payment_method', allowed))


def upgrade() -> None:
    op.create_table('document_number_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.String(length=3), nullable=False),
    sa.Column('fund_cluster', sa.String(length=2), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.CheckConstraint("document IN ('ors', 'dv')", name=op.f('ck_document_number_series_document')),
    sa.CheckConstraint('last_serial >= 0', name=op.f('ck_document_number_series_last_serial_not_negative')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_document_number_series_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_number_series')),
    sa.UniqueConstraint('organization_id', 'document', 'fund_cluster', 'year',
                        name='uq_document_number_series_series')
    )
    # In place on both databases (SQLite keeps the table and its triggers); filled in before the rebuild.
    op.execute("ALTER TABLE disbursements ADD COLUMN fund_cluster VARCHAR(2) NOT NULL DEFAULT '01'")
    op.execute("UPDATE disbursements SET fund_cluster = (SELECT b.fund_cluster FROM obligations o "
               "JOIN allotments a ON a.id = o.allotment_id JOIN program_budgets b ON b.id = a.program_budget_id "
               "WHERE o.id = disbursements.obligation_id)")
    with triggers_kept():
        _remap(UP, NEW)
    _fund_cluster_fixed()
    _seed_series()


FIXED_TRIGGER = "disbursements_fund_cluster_is_fixed"


def _fund_cluster_fixed() -> None:
    """Refuse an UPDATE of a posted DV's fund cluster, on both databases."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION ppaflow_posted_disbursements_fund_cluster() RETURNS trigger LANGUAGE plpgsql "
                   "AS $$ BEGIN RAISE EXCEPTION 'ppaflow_posted:disbursements:fund_cluster' USING ERRCODE = '23514'; "
                   "END $$")
        op.execute(f"CREATE TRIGGER {FIXED_TRIGGER} BEFORE UPDATE OF fund_cluster ON disbursements FOR EACH ROW "
                   "WHEN (OLD.fund_cluster IS DISTINCT FROM NEW.fund_cluster) "
                   "EXECUTE FUNCTION ppaflow_posted_disbursements_fund_cluster()")
        return
    op.execute(f"CREATE TRIGGER {FIXED_TRIGGER} BEFORE UPDATE OF fund_cluster ON disbursements "
               "WHEN OLD.fund_cluster IS NOT NEW.fund_cluster "
               "BEGIN SELECT RAISE(ABORT, 'ppaflow_posted:disbursements:fund_cluster'); END")


def _seed_series() -> None:
    """The last serial of each series, from the numbers already in its form."""
    connection = op.get_bind()
    last: dict[tuple, int] = {}
    for organization, number, cluster in connection.execute(sa.text(
            "SELECT o.organization_id, o.ors_number, b.fund_cluster FROM obligations o "
            "JOIN allotments a ON a.id = o.allotment_id JOIN program_budgets b ON b.id = a.program_budget_id")):
        if match := ORS.fullmatch(number):
            key = (organization, 'ors', cluster, int(match[3]))
            last[key] = max(last.get(key, 0), int(match[5]))
    for organization, number in connection.execute(sa.text(
            "SELECT organization_id, dv_number FROM disbursements")):
        if match := DV.fullmatch(number):
            key = (organization, 'dv', '', int(match[1]))
            last[key] = max(last.get(key, 0), int(match[3]))
    for (organization, document, cluster, year), serial in sorted(last.items()):
        connection.execute(sa.text(
            "INSERT INTO document_number_series (organization_id, document, fund_cluster, year, last_serial) "
            "VALUES (:organization, :document, :cluster, :year, :serial)"),
            {"organization": organization, "document": document, "cluster": cluster, "year": year,
             "serial": serial})


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER IF EXISTS {FIXED_TRIGGER}" + (" ON disbursements" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS ppaflow_posted_disbursements_fund_cluster()")
    with triggers_kept():
        _remap(DOWN, OLD)
        if op.get_bind().dialect.name == "sqlite":
            with op.batch_alter_table('disbursements', schema=None, recreate="always") as batch_op:
                batch_op.drop_column('fund_cluster')
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column('disbursements', 'fund_cluster')
    op.drop_table('document_number_series')
