// Live refresh for the resque-sidecar pages: re-fetch the page and swap its #live region every
// data-refresh seconds, only while the tab is visible, never while the user is typing or has a
// <details> open inside it. Pages work fully without this script.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  var live = document.getElementById("live");
  if (!seconds || !live) { return; }
  var status = document.getElementById("live-status");
  var timer = null;

  function busy() {
    var active = document.activeElement;
    if (active && live.contains(active) && active.tagName !== "A" && active.tagName !== "TIME") { return true; }
    return live.querySelector("details[open]") !== null;
  }

  function refresh() {
    if (document.visibilityState !== "visible" || busy()) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("status " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live");
        if (fresh && !busy()) { live.replaceChildren.apply(live, Array.prototype.slice.call(fresh.childNodes).map(function (n) { return document.adoptNode(n); })); }
        if (status) { status.textContent = "Live: updated " + new Date().toLocaleTimeString(); }
      })
      .catch(function () { if (status) { status.textContent = "Live refresh failed; reload the page"; } });
  }

  function start() { if (timer === null) { timer = window.setInterval(refresh, seconds * 1000); } }
  function stop() { if (timer !== null) { window.clearInterval(timer); timer = null; } }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { refresh(); start(); } else { stop(); if (status) { status.textContent = "Live refresh paused (tab hidden)"; } }
  });
  if (document.visibilityState === "visible") { start(); }
})();
