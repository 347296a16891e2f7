// Store app helpers: the scan queue, scan feedback (sound + flash) and keeping the scan field ready.
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

  document.addEventListener("htmx:afterSettle", function (event) {
    scanFeedback();
    var field = document.querySelector("[data-scan-field]");
    if (field && !document.querySelector("dialog[open]")) { field.focus(); }
  });

  // Tapping empty space on the package page returns focus to the scan field, so the next scan lands.
  document.addEventListener("click", function (event) {
    var field = document.querySelector("[data-scan-field]");
    if (!field) { return; }
    if (event.target.closest("a, button, input, select, textarea, summary, label, details")) { return; }
    field.focus();
  });
})();
