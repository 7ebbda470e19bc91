// Start Swagger UI on the API docs page (kept out of the HTML for the Content-Security-Policy).
(function () {
  "use strict";
  var box = document.getElementById("swagger-ui-container");
  var config = { url: box.getAttribute("data-spec-url"), dom_id: "#swagger-ui-container" };
  var extra = JSON.parse(document.getElementById("swagger-config").textContent || "{}");
  Object.keys(extra).forEach(function (name) { config[name] = extra[name]; });
  window.ui = window.SwaggerUIBundle(config);
})();
