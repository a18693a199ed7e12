// Starts Swagger UI on /docs over the API's own OpenAPI document (an external script: the CSP forbids inline ones).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
