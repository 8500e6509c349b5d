// GET /docs: the interactive API docs (Swagger UI over /openapi.json), every file served by Kogi itself
// from the swagger-ui-dist package (services.docs), so the page works offline and behind closed networks.
// Not in the OpenAPI document: it is a page for people, not an operation.
import type { App } from "../app.js";
import { ProblemError, problemResponse } from "../errors.js";

export const DOCS_ASSETS_PATH = "/docs/assets/";

// Relative URLs: the page also works when a proxy mounts Kogi under a path prefix.
const page = (version: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kogi API</title>
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png?v=${version}">
<link rel="stylesheet" href="docs/assets/swagger-ui.css?v=${version}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js?v=${version}"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  tryItOutEnabled: false,
});
</script>
</body>
</html>
`;

export function registerOpsDocs(app: App) {
  app.get("/docs", (c) => {
    c.header("Cache-Control", "no-cache");
    return c.html(page(c.get("services").docs.version));
  });
  app.get(`${DOCS_ASSETS_PATH}:file`, async (c) => {
    const { docs } = c.get("services");
    const asset = await docs.read(c.req.param("file"));
    if (!asset)
      return problemResponse(c, new ProblemError(404, "route_not_found", `No docs asset ${c.req.path}`));
    const etag = `"swagger-ui-${docs.version}"`;
    // The files change only with the package version, which is also in the page's URLs.
    c.header("Cache-Control", "public, max-age=86400");
    c.header("ETag", etag);
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    c.header("Content-Type", asset.contentType);
    return c.body(asset.body as Uint8Array<ArrayBuffer>);
  });
}
