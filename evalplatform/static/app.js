// evalplatform: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // A page answered to a refused POST names the page it shows (data-page-url): the address
  // bar shows that page, so that a reload reads it instead of sending the form again.
  var pageUrl = document.body && document.body.getAttribute("data-page-url");
  if (pageUrl && window.history.replaceState) window.history.replaceState(null, "", pageUrl);
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle-nav]");
    if (!toggle) return;
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", open ? "false" : "true");
    if (nav) nav.classList.toggle("open", !open);
  });
  // After htmx swaps in a form with errors, move focus to the first invalid field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.target.querySelector && event.target.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  });
  // An htmx request that is refused (403, 404, 409, 5xx: base.html's htmx-config swaps
  // none of them) or that does not reach the server: the form says so, with the server's
  // message (the error page's [data-error-message]), instead of doing nothing. The form's
  // fields keep what was typed; the next request of the form clears the message.
  function requestMessage(xhr) {
    var fallback = document.body.getAttribute("data-request-failed") || "";
    if (!xhr || !xhr.responseText) return fallback;
    var type = xhr.getResponseHeader("content-type") || "";
    if (type.indexOf("application/json") !== -1) {
      try { return JSON.parse(xhr.responseText).detail || fallback; } catch (e) { return fallback; }
    }
    var html = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var found = html.querySelector("[data-error-message]");
    return (found && found.textContent.trim()) || fallback;
  }
  function showRequestError(event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.closest) return;
    var form = elt.closest("form");
    var box = form ? form.querySelector(":scope > [data-request-error]") : null;
    if (!box) {
      box = document.createElement("div");
      box.className = "flash flash-error";
      box.setAttribute("role", "alert");
      box.setAttribute("data-request-error", "");
      if (form) form.insertBefore(box, form.firstChild);
      else document.getElementById("flashes").appendChild(box);
    }
    box.textContent = requestMessage(event.detail.xhr);
    if (box.scrollIntoView) box.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:responseError", showRequestError);
  document.addEventListener("htmx:sendError", showRequestError);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    var form = elt && elt.closest && elt.closest("form");
    var scope = form || document.getElementById("flashes");
    if (!scope) return;
    scope.querySelectorAll("[data-request-error]").forEach(function (box) { box.remove(); });
  });
  // A step that cannot be undone (submitting a sheet, approving, publishing) asks first:
  // data-confirm on the button that submits, or on the form. Cancelling sends nothing.
  // Listened to while the event goes down (capture), before htmx's own handler on the form.
  document.addEventListener("submit", function (event) {
    var source = (event.submitter && event.submitter.closest("[data-confirm]")) ||
      event.target.closest("form[data-confirm]");
    if (source && !window.confirm(source.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
  // Charts: <div data-chart='{"option": ...}'> is drawn with ECharts when it is on the page.
  function drawCharts(root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(el.dataset.chart));
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  // <button data-print> prints the page (the report's print-friendly layout).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
