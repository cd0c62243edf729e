"""FAR No. 1 reads the chain set-based (issue 13: "SQL statements constant
in the number of rows"): the consolidated statement sends as many SQL
statements for four MOAs' posted documents as for one MOA's, and its
figures grow with the rows. The data are the benchmark's
(``tests.bench.far1.populate``), bulk-inserted at a tiny size."""

from __future__ import annotations

from decimal import Decimal

from db import db
from services import users
from services.far1 import far1_statements
from tests.bench.far1 import FISCAL_YEAR, OBLIGATED, populate
from tests.bench.wbs import count_statements

PPAS, DOCUMENTS = 4, 10  # per MOA: 6 ORS of 100,000.00 and 4 DVs


def test_the_consolidated_statement_sends_as_many_statements_for_four_moas_as_for_one(app):
    with app.app_context():
        users.ensure_organization("MFBM", "Ministry of Finance, and Budget and Management")
        users.add_user("mfbm.analyst", ["budget_analyst"], organization="MFBM")
        measured = []
        for moas in (range(1, 2), range(2, 5)):
            populate(moas, PPAS, DOCUMENTS)
            db.session.remove()
            analyst = users.get_user("mfbm.analyst")
            with count_statements(db.engine) as counted:
                statements = far1_statements(analyst, FISCAL_YEAR, quarter=4)
            measured.append((counted["n"], sum((s.total.obligations_total for s in statements), Decimal(0))))
            db.session.remove()

    (one_moa, obligated_one), (four_moas, obligated_four) = measured
    assert (obligated_one, obligated_four) == (6 * OBLIGATED, 24 * OBLIGATED)
    assert four_moas == one_moa
