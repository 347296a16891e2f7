// Small helpers for the supervisor and admin screens; every page works without them.
(function () {
  "use strict";
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
