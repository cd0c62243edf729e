"""The web app loads nothing from another site (issue 11: no CDN)."""

from __future__ import annotations

import re
from pathlib import Path

import web

TEMPLATES = Path(web.__file__).parent / "ui" / "templates"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def test_swagger_ui_is_served_from_the_vendored_files(app):
    client = app.test_client()
    page = client.get("/api/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert client.get(f"/static/vendor/swagger-ui/{name}").status_code == 200, name


def test_no_template_loads_anything_from_another_site():
    offenders = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                 if EXTERNAL.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_vendored_file_sits_beside_its_licence():
    vendor = Path(web.__file__).parent / "static" / "vendor"
    for directory in vendor.iterdir():
        assert any(p.name.upper().startswith(("LICENSE", "LICENCE")) for p in directory.iterdir()), directory
