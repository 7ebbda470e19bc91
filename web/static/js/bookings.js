// My bookings: while a charger charges, refresh its live panel (energy, duration, cost).
(function () {
  "use strict";
  var EVERY_MS = 5000;
  function refresh(panel) {
    fetch(panel.getAttribute("data-refresh"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.firstElementChild;
        panel.replaceWith(fresh);
        watch(fresh);
      });
  }
  function watch(panel) {
    if (panel.hasAttribute("data-charging") || panel.textContent.indexOf("Waiting") !== -1) {
      setTimeout(function () { refresh(panel); }, EVERY_MS);
    }
  }
  document.querySelectorAll(".live[data-refresh]").forEach(watch);
})();
