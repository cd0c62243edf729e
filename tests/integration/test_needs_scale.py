"""The top priorities and the gap analysis read needs set-based (issue 15,
"Tests and measurements": statements constant): each sends as many SQL
statements for 500 needs and 5,000 votes as for 50 needs and 500 votes,
while its figures grow with the rows. The data are the benchmark's
(``tests.bench.needs``), bulk-inserted at a tiny size."""

from __future__ import annotations

from db import db
from db.models import User
from services import needs, users
from tests.bench.needs import populate, populate_base
from tests.bench.wbs import count_statements


def test_priorities_and_the_gap_analysis_send_as_many_statements_for_ten_times_the_needs_and_votes(app):
    with app.app_context():
        organization = users.ensure_organization("MSSD", "Ministry of Social Services and Development")
        users.ensure_organization("BPDA", "Bangsamoro Planning and Development Authority")
        reviewer, _ = users.add_user("bench.reviewer", ["technical_reviewer"], organization="BPDA",
                                     with_token=False)
        reviewer_id, organization_id = reviewer.id, organization.id
        voters = populate_base(organization_id, reviewer_id)
        measured = []
        for first, last, votes in ((1, 50, 500), (51, 500, 4_500)):
            populate(first, last, votes, voters, organization_id)
            db.session.remove()
            user = db.session.get(User, reviewer_id)
            with count_statements(db.engine) as ranked:
                groups = needs.priorities()
            with count_statements(db.engine) as counted:
                gaps = needs.gap_analysis(user)
            measured.append((ranked["n"], counted["n"], sum(len(g["needs"]) for g in groups),
                             gaps["total"]["raised"], gaps["total"]["funded"]))
            db.session.remove()

    (few_ranked, few_counted, *few), (many_ranked, many_counted, *many) = measured
    assert few[1:] == [50, 3] and many[1:] == [500, 25]  # raised, funded (one need in twenty)
    assert 0 < few[0] < many[0]  # more provinces and categories filled: more needs among the priorities
    assert (many_ranked, many_counted) == (few_ranked, few_counted)
