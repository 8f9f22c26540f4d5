// Renders /openapi.json with Swagger UI (swagger-ui-dist, served by the API itself): no inline script or style,
// so the page keeps the API's 'self'-only Content-Security-Policy.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    docExpansion: 'list',
    // The document is validated in the repository; never send it to an outside validator.
    validatorUrl: null,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
});
