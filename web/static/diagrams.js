// Draws every <pre class="mermaid"> of the page with the vendored mermaid
// (web/static/README.md): a static file, not an inline script, so a
// Content-Security-Policy without 'unsafe-inline' scripts allows it. Pages
// that htmx swaps in are drawn too. The diagrams' text alternative is the
// page's own HTML beside them (docs/design.md §11).
(function () {
  "use strict";
  function draw() {
    if (!window.mermaid) { return; }
    window.mermaid.run({ querySelector: "pre.mermaid:not([data-processed])" });
  }
  function start() {
    if (!window.mermaid) { return; }
    window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
    draw();
    document.body.addEventListener("htmx:afterSettle", draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
