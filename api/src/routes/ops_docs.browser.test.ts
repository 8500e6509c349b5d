// GET /docs in a real headless Chromium (Debian's, driven by playwright-core) against the real api entry
// point: every operation of /openapi.json is listed, and the page fetched nothing but Kogi itself.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiProcess,
  cleanIsolatedState,
  isolatedState,
  killAll,
  startApiProcess,
} from "../testutil/api-process.js";

const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
// Offline and quiet: no GPU, no background fetches of updates, components or sync.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

const found = existsSync(CHROMIUM);
if (!found)
  console.error(
    `\n!!! ops_docs.browser.test: no Chromium at ${CHROMIUM} (set CHROMIUM_BIN, or run npm run bootstrap as ` +
      `root, which installs Debian's chromium). ${process.env.CI ? "Failing: CI must run it." : "Skipping."}\n`,
  );

describe.skipIf(!found && !process.env.CI)("/docs in a headless browser", () => {
  const state = isolatedState("docs");
  const started: ApiProcess[] = [];
  let api: ApiProcess;
  let browser: Browser;

  beforeAll(async () => {
    if (!found) throw new Error(`no Chromium at ${CHROMIUM}: CI must install it (scripts/bootstrap.sh does)`);
    api = await startApiProcess(
      "docs",
      { DATABASE_URL: state.databaseUrl, REDIS_PREFIX: state.redisPrefix },
      started,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: FLAGS,
      headless: true,
      timeout: 30_000,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await killAll(started);
    await cleanIsolatedState(state);
  });

  it("lists every operation of /openapi.json, loading nothing from outside Kogi", async () => {
    const spec = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
      info: { title: string };
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThan(20);

    const context = await browser.newContext();
    const outside: string[] = [];
    const failed: string[] = [];
    const pageErrors: string[] = [];
    // Anything not served by Kogi is refused (and recorded): a CDN asset would leave the page blank.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === api.url) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.on("response", (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    page.on("requestfailed", (request) => failed.push(`${request.failure()?.errorText} ${request.url()}`));
    page.on("pageerror", (error) => pageErrors.push(error.message));

    await page.goto(`${api.url}/docs`, { waitUntil: "load", timeout: 30_000 });
    // Swagger UI renders one .opblock per operation once it has fetched and parsed the spec; a refused
    // outside request or a script error ends the wait at once (the assertions below say which).
    const blocks = page.locator("#swagger-ui .opblock");
    const deadline = performance.now() + 30_000;
    while ((await blocks.count()) < operations.length && !outside.length && !pageErrors.length) {
      if (performance.now() > deadline) break;
      await page.waitForTimeout(100);
    }
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
    if (process.env.DOCS_SCREENSHOT)
      await page.screenshot({ path: process.env.DOCS_SCREENSHOT, fullPage: false });
    const listed = await page.$$eval("#swagger-ui .opblock", (blocks) =>
      blocks.map((block) => {
        const method = block.querySelector(".opblock-summary-method")?.textContent?.trim() ?? "";
        const path = block.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
        return `${method} ${path}`;
      }),
    );
    expect([...listed].sort()).toEqual([...operations].sort());
    expect(await page.locator("#swagger-ui .info .title").textContent()).toContain(spec.info.title);

    expect(failed).toEqual([]);
    await context.close();
  });

  it("serves only the page's own files, cacheably", async () => {
    const css = await fetch(`${api.url}/docs/assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    const etag = css.headers.get("etag") as string;
    expect(etag).toMatch(/swagger-ui-5\./);
    expect((await css.text()).length).toBeGreaterThan(10_000);
    const again = await fetch(`${api.url}/docs/assets/swagger-ui.css`, {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    for (const name of ["package.json", "index.html", "..%2Fpackage.json", "swagger-initializer.js"]) {
      const response = await fetch(`${api.url}/docs/assets/${name}`);
      expect(response.status, name).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/problem\+json/);
      await response.arrayBuffer();
    }
  });
});
