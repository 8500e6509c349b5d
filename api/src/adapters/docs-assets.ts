// Swagger UI's files for GET /docs, read from the swagger-ui-dist npm package (a runtime dependency of the
// api, so it is in the production image too): the docs page needs no CDN, no internet, no build step.
//
// swagger-ui-dist is pinned to 5.17.14: from 5.18 on it depends on @scarf/scarf, whose install script
// reports installs over the network; 5.17 renders OpenAPI 3.1 all the same.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DocsAssets } from "../context.js";

/** The only files served, each with its type: nothing else in the package directory is reachable. */
const FILES: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  // Fetched by the browser only while its developer tools are open.
  "swagger-ui.css.map": "application/json",
  "swagger-ui-bundle.js.map": "application/json",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

/** Where swagger-ui-dist is installed and which version; undefined when it is not (the api still serves). */
function locate(): { dir: string; version: string } | undefined {
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve("swagger-ui-dist/package.json");
    return { dir: dirname(manifest), version: (require(manifest) as { version: string }).version };
  } catch {
    return undefined;
  }
}

export function swaggerUiAssets(): DocsAssets {
  const found = locate();
  // Read once, on first use, and kept (about 1.9 MB): the page loads them on every visit.
  const cache = new Map<string, Promise<Uint8Array>>();
  return {
    version: found?.version ?? "missing",
    async read(name) {
      const contentType = FILES[name];
      if (!contentType || !found) return undefined;
      let body = cache.get(name);
      if (!body) {
        body = readFile(join(found.dir, name)).then((buffer) => new Uint8Array(buffer));
        // A failed read (a broken install) is retried on the next request rather than cached.
        body.catch(() => cache.delete(name));
        cache.set(name, body);
      }
      return { body: await body, contentType };
    },
  };
}
