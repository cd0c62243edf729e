"""An allotment records its allotment class and its validity category
(docs/design.md §12, "Validity periods and dates"; issue 12 item 2).

``allotments.allotment_class``: ``ps``, ``mooe``, ``finex`` or ``co``;
existing allotments take their PPA's ``appropriation_class``.
``allotments.validity_category``: which validity rule of
``rules/default/validity.yaml`` governs the allotment and what draws on it
(``ps``, ``mooe_general_administration``, ``mooe_operations``,
``co_infrastructure``, ``co_other``, ``finex``), always one of its class;
existing allotments take their class's default (MOOE of operations, other
CO).

The columns are added in place (``ALTER TABLE ... ADD COLUMN``) on both
PostgreSQL and SQLite, so SQLite keeps the table and its triggers (0004's
limits). The CHECK constraints are part of the column definitions on
SQLite, which cannot add a constraint to an existing table, and separate
named constraints on PostgreSQL.

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-30
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CLASSES = ('ps', 'mooe', 'finex', 'co')
CATEGORY_CLASS = {
    'ps': 'ps', 'mooe_general_administration': 'mooe', 'mooe_operations': 'mooe',
    'co_infrastructure': 'co', 'co_other': 'co', 'finex': 'finex',
}
DEFAULT_CATEGORY = {'ps': 'ps', 'mooe': 'mooe_operations', 'finex': 'finex', 'co': 'co_other'}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


CLASS_CHECK = _in('allotment_class', CLASSES)
CATEGORY_CHECK = _in('validity_category', CATEGORY_CLASS)
#: The category is one of the class's.
MATCH_CHECK = " OR ".join(
    f"(allotment_class = '{klass}' AND "
    f"{_in('validity_category', [c for c, k in CATEGORY_CLASS.items() if k == klass])})"
    for klass in CLASSES)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE allotments ADD COLUMN allotment_class VARCHAR(5) NOT NULL DEFAULT 'mooe'")
        op.execute("ALTER TABLE allotments ADD COLUMN validity_category VARCHAR(30) NOT NULL "
                   "DEFAULT 'mooe_operations'")
    else:
        op.execute(f"ALTER TABLE allotments ADD COLUMN allotment_class VARCHAR(5) NOT NULL DEFAULT 'mooe' "
                   f"CONSTRAINT ck_allotments_allotment_class CHECK ({CLASS_CHECK})")
        op.execute(f"ALTER TABLE allotments ADD COLUMN validity_category VARCHAR(30) NOT NULL "
                   f"DEFAULT 'mooe_operations' CONSTRAINT ck_allotments_validity_category "
                   f"CHECK (({CATEGORY_CHECK}) AND ({MATCH_CHECK}))")
    # Existing allotments: their PPA's class and that class's default category, in one statement (the
    # SQLite CHECK sees both columns change together).
    ppa_class = ("(SELECT ppas.appropriation_class FROM program_budgets JOIN ppas ON ppas.id = program_budgets.ppa_id "
                 "WHERE program_budgets.id = allotments.program_budget_id)")
    cases = " ".join(f"WHEN '{k}' THEN '{c}'" for k, c in DEFAULT_CATEGORY.items())
    op.execute(f"UPDATE allotments SET allotment_class = {ppa_class}, "
               f"validity_category = CASE {ppa_class} {cases} END")
    if postgres:
        op.execute(f"ALTER TABLE allotments ADD CONSTRAINT ck_allotments_allotment_class CHECK ({CLASS_CHECK})")
        op.execute(f"ALTER TABLE allotments ADD CONSTRAINT ck_allotments_validity_category "
                   f"CHECK (({CATEGORY_CHECK}) AND ({MATCH_CHECK}))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE allotments DROP CONSTRAINT ck_allotments_validity_category")
        op.execute("ALTER TABLE allotments DROP CONSTRAINT ck_allotments_allotment_class")
    op.execute("ALTER TABLE allotments DROP COLUMN validity_category")
    op.execute("ALTER TABLE allotments DROP COLUMN allotment_class")
