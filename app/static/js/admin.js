// Small helpers for the supervisor and admin screens; every page works without them.
(function () {
  "use strict";
  // Webhook events: "All events" and particular events exclude each other (the server reads
  // particular events as meaning those, so the page without this script saves the same thing).
  document.addEventListener("change", function (event) {
    var box = event.target;
    var fieldset = box.closest && box.closest("[data-events]");
    if (!fieldset || !box.checked) { return; }
    var all = fieldset.querySelector("[data-all-events]");
    if (box === all) {
      fieldset.querySelectorAll('input[name="events"]:not([data-all-events])').forEach(function (other) {
        other.checked = false;
      });
    } else if (all) {
      all.checked = false;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    // After a form comes back with errors, put the cursor in the first field to fix.
    var invalid = event.target.querySelector && event.target.querySelector('[aria-invalid="true"]');
    if (invalid) { invalid.focus(); return; }
    // Select a freshly created API token so it can be copied at once.
    var token = document.querySelector("[data-new-token]");
    if (token && window.getSelection) {
      var range = document.createRange();
      range.selectNodeContents(token);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  });
})();
