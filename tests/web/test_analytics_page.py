"""``/analytics`` without a browser (issue 16 item 6): an analyst sees the
four views with their charts, figures, the projection's method and export
links; the navigation offers it to analysts, not to a MOA focal person, who
still gets only their own MOA's figures there; user text in a chart is inert."""

from __future__ import annotations

from sqlalchemy import update

from db import db
from db.models import Ppa
from tests.support import Chain


def test_an_analyst_sees_the_four_views_with_charts_figures_method_and_exports(world, browser_for):
    chain = Chain(world)
    chain.obligate(chain.allot("1000000.00", day="2025-01-06")["id"], "250000.00", day="2025-01-15")
    analyst = browser_for(world.budget_analyst)

    page = analyst.client.get("/analytics?fiscal_year=2025&from_year=2025&to_year=2025&by=class&as_of=2025-01-31")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    for heading in ("Multi-year trends", "Execution velocity against BED No. 3", "Needs fulfilment by province",
                    "Year-end projection"):
        assert heading in html
    assert html.count("<svg") == 5  # two trend charts, one per other view
    assert "₱250,000.00" in html and "₱3,000,000.00" in html  # obligated in January; 12 months like it
    assert "1.96" in html and "/api/analytics/projection.pdf?fiscal_year=2025" in html
    assert '/api/analytics/trends.png?from_year=2025&amp;to_year=2025&amp;by=class' in html
    assert 'href="/analytics"' in analyst.client.get("/analytics").get_data(as_text=True)


def test_a_focal_person_is_not_offered_the_page_and_sees_only_their_moa_there(world, browser_for):
    chain = Chain(world)
    chain.obligate(chain.allot("1000000.00", day="2025-01-06")["id"], "250000.00", day="2025-01-15")
    other = browser_for(world.other_focal)

    html = other.client.get("/analytics?fiscal_year=2025&from_year=2025&to_year=2025&moa=MSSD").get_data(as_text=True)

    assert 'href="/analytics"' not in html and "₱250,000.00" not in html and "MSSD" not in html


def test_a_sector_typed_as_markup_is_shown_as_text_in_the_chart(world, browser_for):
    chain = Chain(world)
    chain.obligate(chain.allot("1000000.00", day="2025-01-06")["id"], "250000.00", day="2025-01-15")
    with world.app.app_context():
        db.session.execute(update(Ppa).where(Ppa.id == chain.ppa).values(sector="<script>x</script>"))
        db.session.commit()

    html = browser_for(world.budget_analyst).client.get(
        "/analytics?fiscal_year=2025&from_year=2025&to_year=2025&by=sector").get_data(as_text=True)

    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
