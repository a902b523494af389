// /api/docs: Swagger UI over /api/openapi.json. Its requests carry this browser's session
// cookie; those that change something also carry the session's CSRF token, the one the page
// was rendered with (<body hx-headers>), or the newer one an answer hands out (signing in).
(function () {
  "use strict";
  var token = "";
  try {
    token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  } catch (e) {
    token = "";
  }
  var SAFE = { GET: true, HEAD: true, OPTIONS: true };

  function start() {
    var holder = document.getElementById("swagger-ui");
    if (!holder || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    window.SwaggerUIBundle({
      url: holder.getAttribute("data-openapi"),
      domNode: holder,
      deepLinking: false, // a link inside each operation's button: one control each
      docExpansion: "list",
      defaultModelsExpandDepth: 0,
      displayRequestDuration: true,
      tryItOutEnabled: false,
      requestInterceptor: function (request) {
        var method = (request.method || "GET").toUpperCase();
        if (!SAFE[method] && token) {
          request.headers["X-CSRF-Token"] = token;
        }
        request.credentials = "same-origin";
        return request;
      },
      responseInterceptor: function (response) {
        // signing in (or reading the session) hands out the session's token
        var body = response && response.body;
        if (body && typeof body === "object" && typeof body.csrf_token === "string") {
          token = body.csrf_token;
        }
        return response;
      },
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
