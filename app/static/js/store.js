// Store app helpers: scan feedback (sound + flash) and keeping the scan field ready.
(function () {
  "use strict";
  var audio = null;

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
    if (feedback.hasAttribute("data-scan-error")) {
      tone(160, 0.35, "square");
      var form = document.getElementById("scan-form");
      if (form) {
        form.classList.remove("scan-flash");
        void form.offsetWidth; // restart the animation on repeated errors
        form.classList.add("scan-flash");
      }
      if (navigator.vibrate) { navigator.vibrate([120, 60, 120]); }
    } else if (feedback.hasAttribute("data-scan-ok")) {
      var scanForm = document.getElementById("scan-form");
      if (scanForm) { scanForm.classList.remove("scan-flash"); }
      tone(880, 0.12, "sine");
    }
  }

  // The barcode is in the request now: empty the field at once so the next scan starts clean.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "scan-form") {
      var field = elt.querySelector("[data-scan-field]");
      if (field) { field.value = ""; }
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    scanFeedback();
    var field = document.querySelector("[data-scan-field]");
    if (field && !document.querySelector("dialog[open]")) { field.focus(); }
  });

  // A scanner types fast: ignore Enter on an empty field instead of posting an empty scan.
  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if (event.key === "Enter" && el && el.hasAttribute && el.hasAttribute("data-scan-field") && !el.value.trim()) {
      event.preventDefault();
    }
  });

  // Tapping empty space on the package page returns focus to the scan field, so the next scan lands.
  document.addEventListener("click", function (event) {
    var field = document.querySelector("[data-scan-field]");
    if (!field) { return; }
    if (event.target.closest("a, button, input, select, textarea, summary, label, details")) { return; }
    field.focus();
  });
})();
