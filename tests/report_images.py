"""The first page of every report as printed, as PNG (issue 13; docs/design.md
§8; ``make report-images``): a small fiscal year in the money chain
(appropriated, allotted, a sub-allotment to another MOA, obligated, a
delivery accepted, partly paid, a plan entered) on a temporary SQLite
database, each report's PDF drawn by PDFium (``services.reports.first_page_png``).

    python -m tests.report_images docs/reports
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from db import db
from db.migrate import upgrade
from db.models import User
from services import reports
from tests.support import Chain, World
from web import create_app


def fiscal_year(world: World) -> Chain:
    """FY2025 of MSSD: PHP 2,000,000.00 MOOE allotted in Q1, 250,000.00 of it
    sub-allotted to MTIT, an ORS of 1,500,000.00 with 1,400,000.00 delivered and
    1,250,000.50 paid, and a
    financial plan."""
    chain = Chain(world)
    world.org("MTIT", "Ministry of Trade, Investments and Tourism")
    allotment = chain.allot("2000000.00", quarter=1)
    obligation = chain.obligate(allotment["id"], "1500000.00", day="2025-03-10")
    chain.post(f"/api/obligations/{obligation['id']}/deliveries", world.focal, 201, amount="1400000.00",
               accepted_on="2025-03-20", reference="IAR-2025-03-0001")
    chain.disburse(obligation["id"], "1250000.50", day="2025-03-31")
    chain.post(f"/api/allotments/{allotment['id']}/sub-allotments", world.budget_analyst, 201, recipient="MTIT",
               amount="250000.00", sub_allotment_date="2025-02-14", saro_number="SUB-ARO-2025-001",
               reason="Cotabato City field office", legal_basis="DBM letter")
    world.client.put(f"/api/monitoring-entries/{chain.ppa}/execution-plan", headers=world.focal.headers, json={
        "lines": [{"month": month, "allotment_class": "mooe", "obligations_planned": "500000.00",
                   "disbursements_planned": "400000.00"} for month in range(1, 5)]})
    return chain


def main(out: Path) -> None:
    """Write ``<name>.png`` for every report of ``services.reports.REPORTS`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'images.sqlite3'}", "REDIS_URL": None,
                          "TESTING": True, "ATTACHMENTS_DIR": str(Path(tmp) / "attachments")})
        with app.app_context():
            upgrade(db.engine)
        world = World(app)
        fiscal_year(world)
        with app.app_context():
            admin = db.session.get(User, world.admin.id)
            for name in reports.REPORT_KINDS:
                quarter = 1 if reports.REPORTS[name].quarterly else None
                (out / f"{name}.png").write_bytes(reports.first_page_png(admin, name, 2025, None, quarter=quarter))
                print(f"wrote {out / (name + '.png')}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/reports"))
