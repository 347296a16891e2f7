// Store app helpers: the scan queue, scan feedback (sound, vibration, flash), keeping the scan
// field ready, and the small steps that need a script (confirmed forms, label before Ship).
(function () {
  "use strict";
  var audio = null;
  // How often each cue was played: tests (and curious supervisors) read it.
  var played = window.packlineFeedback = { success: 0, error: 0 };

  // The user's choice in My settings, on <body>; on unless they switched it off.
  function feedbackOn() {
    return document.body.getAttribute("data-scan-feedback") !== "off";
  }

  function cue(kind) {
    if (!feedbackOn()) { return; }
    played[kind] += 1;
    if (kind === "error") {
      tone(160, 0.35, "square");
      if (navigator.vibrate) { navigator.vibrate([120, 60, 120]); }
    } else {
      tone(880, 0.12, "sine");
      if (navigator.vibrate) { navigator.vibrate(40); }
    }
  }

  function tone(frequency, seconds, type) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = type;
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + seconds);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + seconds);
    } catch (e) { /* no audio on this device: the red panel is the cue */ }
  }

  // Each scan answer is a fresh #scan-feedback; cue it once.
  function scanFeedback() {
    var feedback = document.getElementById("scan-feedback");
    if (!feedback || feedback.hasAttribute("data-cued")) { return; }
    feedback.setAttribute("data-cued", "");
    var form = document.getElementById("scan-form");
    if (feedback.hasAttribute("data-scan-error")) {
      cue("error");
      if (form) {
        form.classList.remove("scan-flash");
        void form.offsetWidth; // restart the animation on repeated errors
        form.classList.add("scan-flash");
      }
    } else if (feedback.hasAttribute("data-scan-ok")) {
      if (form) { form.classList.remove("scan-flash"); }
      cue("success");
    }
  }

  // Saving My settings with htmx: the answer's event carries the new choice.
  document.body.addEventListener("scan-feedback", function (event) {
    document.body.setAttribute("data-scan-feedback", event.detail.value === "off" ? "off" : "on");
  });

  // Destructive forms carry a disabled confirm=1: with a script the browser's dialog (app.js)
  // asks, so the server need not ask again; without one the server asks on the page.
  function enableConfirmed(root) {
    var inputs = root.querySelectorAll ? root.querySelectorAll("input[data-js-confirmed]") : [];
    for (var i = 0; i < inputs.length; i++) { inputs[i].disabled = false; }
  }
  enableConfirmed(document);
  document.addEventListener("htmx:load", function (event) { enableConfirmed(event.target); });

  // Print label is the next step; once it was opened, Ship is.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-print-label]");
    if (!link) { return; }
    var ship = document.querySelector("#actions button[data-command=ship]");
    if (!ship) { return; }
    link.classList.remove("btn-primary");
    ship.classList.add("btn-primary");
  });

  // Scans are queued here, not by htmx: a scanner types the next barcode while the previous scan
  // is still on the network, and a request that read the field when it left would carry two
  // barcodes glued together (and the next one none). So each Enter takes the field's value into a
  // FIFO and empties the field at once; scans leave one at a time, each after the previous answer.
  var scans = [];
  var sending = false;

  function sendNextScan() {
    if (sending || !scans.length) { return; }
    var form = document.getElementById("scan-form");
    if (!form) { scans = []; return; } // the package moved on (its page says why): nothing to count
    var barcode = scans.shift();
    sending = true;
    var done = function () { sending = false; sendNextScan(); };
    window.htmx.ajax("POST", form.getAttribute("action"), {
      source: form, values: { barcode: barcode }, target: "#scan-feedback", swap: "outerHTML"
    }).then(done, done);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-scan-form")) { return; }
    var field = form.querySelector("[data-scan-field]");
    var barcode = field ? field.value.trim() : "";
    if (barcode && !window.htmx) { return; } // no htmx: a plain form post, one scan per page
    event.preventDefault(); // never an empty scan
    if (!barcode) { return; }
    field.value = "";
    scans.push(barcode);
    sendNextScan();
  });

  // Where the next scan goes: the field of the step that waits for a scan (a marketplace label
  // once every item is picked, data-scan-next), else the item scan field.
  function scanTarget() {
    return document.querySelector("[data-scan-next]") || document.querySelector("[data-scan-field]");
  }

  // On a phone the store's links scroll inside their own strip (store.css): bring this page's
  // link into the middle of it, so a Turkish "Teslim alma" is never cut under the settings gear.
  function showCurrentTab() {
    var nav = document.querySelector(".topbar nav");
    var current = nav && nav.querySelector("a[aria-current=page]");
    if (!current || nav.scrollWidth <= nav.clientWidth) { return; }
    var box = nav.getBoundingClientRect(), link = current.getBoundingClientRect();
    nav.scrollLeft += (link.left + link.width / 2) - (box.left + box.width / 2);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showCurrentTab);
  } else {
    showCurrentTab();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    scanFeedback();
    var field = scanTarget();
    if (field && !document.querySelector("dialog[open]")) { field.focus(); }
  });

  // Tapping empty space on the package page returns focus to the scan field, so the next scan lands.
  document.addEventListener("click", function (event) {
    var field = scanTarget();
    if (!field) { return; }
    if (event.target.closest("a, button, input, select, textarea, summary, label, details")) { return; }
    field.focus();
  });
})();
