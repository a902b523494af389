// The respondent's page: keeps answers on the phone while filling (so a dropped connection
// loses nothing), shows progress, stops a double tap and an offline send. The page works
// fully without this file.
(function () {
  "use strict";
  var PREFIX = "evalplatform-survey:";
  var SKIP = { csrf_token: 1, submission_key: 1, website: 1 };
  // A service site's open link may be answered on a shared device (a tablet at the counter):
  // its draft is restored only if it was saved in the last few minutes, so that the next
  // person does not find, and send, what the last one left unfinished.
  var SHARED_DRAFT_MINUTES = 10;

  function storage() {
    try { var s = window.localStorage; s.setItem(PREFIX + "t", "1"); s.removeItem(PREFIX + "t"); return s; }
    catch (e) { return null; }
  }

  function collect(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "hidden" || el.type === "submit") return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      if (el.value === "") return;
      (data[el.name] = data[el.name] || []).push(el.value);
    });
    return data;
  }

  function anyGiven(form) {
    return Array.prototype.some.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "hidden") return false;
      if (el.type === "radio" || el.type === "checkbox") return el.checked;
      return el.tagName === "TEXTAREA" && el.value.trim() !== "";
    });
  }

  function restore(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      var values = data[el.name];
      if (!values || SKIP[el.name]) return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = values.indexOf(el.value) >= 0;
      else if (el.tagName === "TEXTAREA") el.value = values.join(" ");
    });
  }

  function progress(form) {
    var questions = form.querySelectorAll("[data-question]");
    var done = 0;
    Array.prototype.forEach.call(questions, function (q) {
      var given = Array.prototype.some.call(q.querySelectorAll("input, textarea"), function (el) {
        return (el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "";
      });
      if (given) done += 1;
    });
    var text = (form.dataset.msgProgress || "{done} / {total}")
      .replace("{done}", done).replace("{total}", questions.length);
    var label = document.getElementById("progress");
    // a live region: rewritten only when the count changes, so that typing in a text box
    // does not make a screen reader read the count again at every key
    if (label && label.textContent !== text) label.textContent = text;
    var bar = document.getElementById("progress-bar");
    if (bar) bar.style.width = (questions.length ? Math.round(100 * done / questions.length) : 0) + "%";
  }

  function say(message, ok) {
    var box = document.getElementById("status");
    if (!box) return;
    box.className = "r-status" + (ok ? " ok" : "");
    box.textContent = message;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    var clear = document.querySelector("[data-clear-store]");
    if (clear && store) {
      store.removeItem(PREFIX + clear.getAttribute("data-clear-store"));
      store.removeItem(PREFIX + clear.getAttribute("data-clear-store") + ":at");
    }

    var form = document.getElementById("survey-form");
    if (!form) return;
    var key = form.dataset.storeKey ? PREFIX + form.dataset.storeKey : null;
    var shared = !!form.dataset.sharedDevice;
    if (store && key && shared) {
      var at = Number(store.getItem(key + ":at") || 0);
      if (!(Date.now() - at < SHARED_DRAFT_MINUTES * 60000)) {
        store.removeItem(key);  // left by someone else, or long ago: not theirs to send
        store.removeItem(key + ":at");
      }
    }
    if (store && key && !anyGiven(form)) {
      try {
        var saved = JSON.parse(store.getItem(key) || "null");
        if (saved && Object.keys(saved).length) {
          restore(form, saved);
          say(form.dataset.msgRestored || "", true);
        }
      } catch (e) { /* a damaged entry is ignored */ }
    }
    progress(form);
    var save = function () {
      progress(form);
      if (store && key) {
        try {
          store.setItem(key, JSON.stringify(collect(form)));
          if (shared) store.setItem(key + ":at", String(Date.now()));
        } catch (e) { /* full: ignore */ }
      }
    };
    form.addEventListener("change", save);
    form.addEventListener("input", save);
    form.addEventListener("reset", function (event) {
      if (anyGiven(form) && form.dataset.msgConfirmReset
          && !window.confirm(form.dataset.msgConfirmReset)) { event.preventDefault(); return; }
      if (store && key) { store.removeItem(key); store.removeItem(key + ":at"); }
      window.setTimeout(function () { progress(form); say("", true); }, 0);
    });

    var sending = false;
    var button = document.getElementById("submit");
    form.addEventListener("submit", function (event) {
      if (form.dataset.preview) { event.preventDefault(); return; }
      if (navigator.onLine === false) {
        event.preventDefault();
        save();
        say(form.dataset.msgOffline || "", false);
        return;
      }
      if (sending) { event.preventDefault(); return; }
      save();
      sending = true;
      if (button) button.setAttribute("aria-disabled", "true");
    });
    window.addEventListener("pageshow", function () {
      sending = false;
      if (button) button.removeAttribute("aria-disabled");
    });
    window.addEventListener("online", function () { say("", true); });

    var invalid = form.querySelector(".has-error input, .has-error textarea");
    if (invalid) invalid.focus();
    var start = document.getElementById("start");
    if (start) start.addEventListener("click", function (event) {
      var target = document.getElementById("questions");
      if (!target) return;
      event.preventDefault();
      target.scrollIntoView({ behavior: "smooth" });
      target.focus({ preventScroll: true });
    });
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });
})();
