"""``make screenshots``: a PNG of every page of the web app at 1440 px and
390 px wide, in ``out/screenshots/`` (``<page>-1440.png``, ``<page>-390.png``).

The pages show the examples (``examples/``) after the demo's approval,
tracking and budget scripts (``web.demo``), one PPA returned for revision and
one overdue, on a fresh SQLite database, served and shot with the same set-up
as the browser tests (``tests.browser.harness``). A new page is one more row
of ``PAGES``.

Run: ``make screenshots`` (``python -m tests.browser.screenshots [OUT_DIR]``).
"""

from __future__ import annotations

import io
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from db import db
from db.migrate import upgrade
from services import approvals, attachments, notifications, reports, users
from tests import documents
from tests.browser.harness import DESKTOP, PHONE, chromium_path, launch, served
from web.app import create_app
from web.demo import APPROVAL_SCRIPT, run_approval_script, run_budget_script, run_tracking_script
from web.examples import load_examples

PASSWORD = "screenshots-only-password"

#: (file name, who is signed in (None: nobody), path; ``{key}`` is an example PPA's id).
PAGES: tuple[tuple[str, str | None, str], ...] = (
    ("login", None, "/login"),
    ("my-work-reviewer", "bpda.reviewer", "/"),
    ("my-work-focal", "mssd.focal", "/"),
    ("alerts", "mssd.focal", "/alerts"),
    ("notifications", "bpda.reviewer", "/notifications"),
    ("ppas", "bpda.reviewer", "/ppas"),
    ("ppa-new", "mssd.focal", "/ppas/new"),
    ("ppa", "bpda.reviewer", "/ppas/{coconut}"),
    ("ppa-work-items", "mssd.focal", "/ppas/{livelihood}/work-items"),
    ("ppa-budget", "moh.focal", "/ppas/{rhu}/budget"),
    ("ppa-budget-locked", "mssd.focal", "/ppas/{livelihood}/budget"),
    ("ppa-execution", "mssd.focal", "/ppas/{livelihood}/execution"),
    ("ppa-returned-draft", "mssd.focal", "/ppas/{cash_for_work}"),
    ("ppa-history", "mssd.focal", "/ppas/{cash_for_work}/history"),
    ("budget-proposals", "mfbm.analyst", "/budget-proposals"),
    ("budget-proposal", "mssd.focal", "/budget-proposals/{proposal}"),
    ("reports", "mfbm.analyst", "/reports"),
    ("report-job", "mfbm.analyst", "/reports/jobs/{report_job}"),
    ("not-found", "mssd.focal", "/ppas/{coconut}"),
    ("admin-users", "admin", "/admin/users"),
    ("admin-user-new", "admin", "/admin/users/new"),
    ("admin-organizations", "admin", "/admin/organizations"),
)


def example_world(app) -> dict[str, int | str]:
    """Load the examples and move them along, attach a supporting document
    and run a background report; returns example key -> PPA id (and
    ``report_job`` -> the report's job id, ``proposal`` -> the first budget
    proposal's id)."""
    with app.app_context():
        upgrade(db.engine)
        loaded = load_examples()
        run_approval_script(loaded.ppa_ids, APPROVAL_SCRIPT)
        run_tracking_script(lambda *_: None, loaded.ppa_ids)
        with tempfile.TemporaryDirectory(prefix="ppaflow-reports-") as report_dir:
            run_budget_script(lambda *_: None, loaded.ppa_ids, Path(report_dir))
        focal, reviewer = users.get_user_or_raise("mssd.focal"), users.get_user_or_raise("bpda.reviewer")
        returned = loaded.ppa_ids["cash_for_work"]
        approvals.submit(focal, returned)
        approvals.return_for_revision(reviewer, returned, comment="Attach the list of displaced families "
                                                                  "per barangay and the DSWD certification.")
        with db.engine.begin() as connection:  # waiting since June 2025: overdue
            connection.execute(text("UPDATE ppas SET stage_entered_at = :at WHERE id = :id"),
                               {"at": datetime(2025, 6, 5, 1, 0, tzinfo=UTC), "id": loaded.ppa_ids["coconut"]})
        notifications.send_deadline_reminders()
        attachments.add_attachment(users.get_user_or_raise("mafar.focal"), "ppa", loaded.ppa_ids["coconut"],
                                   io.BytesIO(documents.pdf("Coconut farmers of Lanao del Sur: beneficiary list")),
                                   "Beneficiary list - Lanao del Sur.pdf")
        job_id = reports.request_report(users.get_user_or_raise("mfbm.analyst"), "mfbm", 2026, None,
                                        background=True).id
        proposal = db.session.scalar(text("SELECT min(id) FROM budget_proposals"))
        for username in loaded.users:
            users.set_password(username, PASSWORD)
        db.session.remove()
    return loaded.ppa_ids | {"report_job": job_id, "proposal": proposal}


def shoot(out_dir: Path) -> list[Path]:
    """Write every page of ``PAGES`` at both widths; returns the files."""
    path = chromium_path()
    if path is None:
        sys.exit("make screenshots needs Chromium: apt-get install -y chromium (or set CHROMIUM)")
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="ppaflow-screenshots-") as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'screenshots.sqlite3'}", "REDIS_URL": None,
                          "ATTACHMENTS_DIR": str(Path(tmp) / "attachments")})
        ids = example_world(app)
        with served(app) as base, sync_playwright() as playwright:
            browser = launch(playwright, path)
            for name, username, page_path in PAGES:
                context = browser.new_context(viewport=DESKTOP, base_url=base, timezone_id="Asia/Manila")
                page = context.new_page()
                if username is not None:
                    page.goto("/login")
                    page.get_by_label("Username").fill(username)
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    page.wait_for_load_state()
                page.goto(page_path.format(**ids))
                for viewport in (DESKTOP, PHONE):
                    page.set_viewport_size(viewport)
                    target = out_dir / f"{name}-{viewport['width']}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                context.close()
            browser.close()
        with app.app_context():
            db.engine.dispose()
    return written


def main() -> int:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "out/screenshots")
    for target in shoot(out_dir):
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
