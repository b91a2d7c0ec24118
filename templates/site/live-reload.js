/* Added by `runbook serve` to the pages it serves, never written into the built site. The
   server tells its pages about every build: after one that succeeded, an open page reloads;
   while the build fails, the page shows the build's errors over the last site that built.

   Browsers keep few connections open to one server, so one page of the site listens for all
   the open ones (the holder of a lock) and passes the news on to the others. */
(function () {
  "use strict";
  var me = document.currentScript;
  var server = me ? me.getAttribute("data-server") : "";
  var built = Number(me ? me.getAttribute("data-built") : 0) || 0;
  var events = (me && me.getAttribute("data-events")) || "/__runbook/events";
  var box = null;

  function showError(text) {
    if (!box) {
      box = document.createElement("div");
      box.id = "rbk-serve-error";
      box.setAttribute("role", "alert");
      box.style.cssText =
        "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;max-height:60vh;overflow:auto;" +
        "box-sizing:border-box;margin:0;padding:0.8rem 1rem;background:#2a0f12;color:#ffe1e1;" +
        "border-top:3px solid #e5484d;font:0.85rem/1.45 ui-monospace,Menlo,Consolas,monospace;" +
        "box-shadow:0 -6px 24px rgba(0,0,0,0.35);text-align:left";
      var title = document.createElement("p");
      title.style.cssText = "margin:0 0 0.5rem;font-weight:700;font-family:system-ui,sans-serif";
      title.textContent = "The site did not build. This page is the last site that built; it reloads once the build succeeds.";
      var pre = document.createElement("pre");
      // Diagnostics point at columns: their lines are kept, and scroll on a narrow screen.
      pre.style.cssText = "margin:0;white-space:pre;overflow-x:auto;font:inherit;background:none;color:inherit;padding:0";
      box.appendChild(title);
      box.appendChild(pre);
    }
    box.lastChild.textContent = text;
    if (!box.parentNode) document.body.appendChild(box);
  }

  function hideError() {
    if (box && box.parentNode) box.parentNode.removeChild(box);
  }

  function apply(state) {
    if (!state || typeof state !== "object") return;
    if (state.error) {
      showError(state.error);
    } else if (state.server !== server || state.built > built) {
      location.reload();
    } else {
      hideError();
    }
  }

  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("rbk-serve") : null;
  var last = null;

  function listen() {
    var source = new EventSource(events);
    source.onmessage = function (e) {
      var state;
      try {
        state = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      last = state;
      if (channel) channel.postMessage(state);
      apply(state);
    };
    // Closed before the page goes, so that a reload is not reported as a lost connection.
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  if (channel && navigator.locks && navigator.locks.request) {
    channel.onmessage = function (e) {
      if (e.data === "hello") {
        if (last) channel.postMessage(last);
      } else {
        apply(e.data);
      }
    };
    navigator.locks.request("rbk-serve-events", function () {
      listen();
      // Held for as long as this page is open.
      return new Promise(function () {});
    });
    channel.postMessage("hello");
  } else {
    listen();
  }
})();
