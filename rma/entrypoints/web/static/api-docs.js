// Starts Swagger UI on /api/docs from the application's own OpenAPI document. A file of its
// own, not an inline script: the Content-Security-Policy allows scripts from this site only.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
});
