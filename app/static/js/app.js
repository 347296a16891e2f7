// Packline's small progressive-enhancement layer. Everything works without it.
(function () {
  "use strict";
  // Keep focus in the scan field after each htmx swap so a keyboard-wedge scanner keeps working.
  document.addEventListener("htmx:afterSettle", function () {
    var scan = document.querySelector("[data-scan-field]");
    if (scan) { scan.focus(); }
  });
  // Confirm dialogs for destructive actions, without inline script (CSP forbids it).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); event.stopPropagation(); }
  }, true);
})();
