/**
 * Offline docs: /docs (Swagger UI) and /redoc (ReDoc) render every operation in headless Chromium with
 * the network cut off, and every asset they load comes from this server, as UTF-8.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { app } from "../src/app";
import { ASSET_NAMES } from "../src/modules/docs/service";
import { call } from "./helpers";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** The brief's launch flags; the host resolver rule makes every name but localhost unresolvable. */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];

describe("pages and assets over HTTP", () => {
  test("/docs and /redoc are UTF-8 HTML that load scripts from this server only", async () => {
    for (const path of ["/docs", "/redoc"]) {
      const response = await call("GET", path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.text).toContain('<meta charset="utf-8">');
      const urls = [...response.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(url).toStartWith("/docs/assets/");
      expect(response.text).not.toMatch(/https?:\/\//);
    }
  });

  test("every asset is served with a UTF-8 content type; unknown names are a JSON 404", async () => {
    for (const name of ASSET_NAMES) {
      const response = await app.handle(new Request(`http://localhost/docs/assets/${name}`));
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/(javascript|css); charset=utf-8$/);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    }
    for (const name of ["package.json", "..%2Fpackage.json", "swagger-ui-bundle.js.map"]) {
      const response = await call("GET", `/docs/assets/${name}`);
      expect(response.status).toBe(404);
      expect(response.json.error.code).toBe("not_found");
    }
  });

  test("the OpenAPI document stays at /docs/json", async () => {
    const response = await call("GET", "/docs/json");
    expect(response.status).toBe(200);
    expect(response.json.openapi).toStartWith("3.");
    expect(Object.keys(response.json.paths)).toContain("/login");
    expect(Object.keys(response.json.paths)).not.toContain("/docs/assets/{file}");
  });
});

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `docs.test.ts: ${CHROMIUM} not found, browser tests skipped (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );

describe.skipIf(!haveChromium)("rendered in headless Chromium with the network cut off", () => {
  let server: ReturnType<typeof Bun.serve>;
  let base: string;
  let profile: string;
  let context: import("playwright-core").BrowserContext;
  /** every request the pages tried to send anywhere but this server */
  const blocked: string[] = [];

  beforeAll(async () => {
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => app.handle(request) });
    base = `http://127.0.0.1:${server.port}`;
    profile = mkdtempSync(join(tmpdir(), "docs-chromium-"));
    const { chromium } = await import("playwright-core");
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if ((url.hostname === "127.0.0.1" || url.hostname === "localhost") && url.port === String(server.port))
        return route.continue();
      if (url.protocol === "data:" || url.protocol === "blob:") return route.continue();
      blocked.push(url.href);
      return route.abort("internetdisconnected");
    });
  });

  afterAll(async () => {
    await context?.close();
    server?.stop(true);
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** Loads a page, waits for the text of an operation summary, returns the page's text and its console errors. */
  async function render(path: string, selector: string) {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`${base}${path}`, { waitUntil: "load" });
    await page.waitForSelector(selector, { timeout: 30_000 });
    const text = await page.locator("body").textContent();
    return { page, text, errors };
  }

  test("Swagger UI at /docs lists the operations", async () => {
    const { page, text, errors } = await render("/docs", ".opblock-summary-path");
    expect(text).toContain("/login");
    expect(text).toContain("/af/postback");
    expect(text).toContain("Record a gameplay event");
    expect(await page.locator(".opblock").count()).toBeGreaterThan(10);
    expect(errors).toEqual([]);
    if (process.env.DOCS_SCREENSHOTS)
      await page.screenshot({ path: join(process.env.DOCS_SCREENSHOTS, "docs-swagger-ui.png") });
    await page.close();
  });

  test("ReDoc at /redoc lists the operations", async () => {
    const { page, text, errors } = await render("/redoc", "[data-section-id^='operation/'], [id^='operation/']");
    expect(text).toContain("Record a gameplay event");
    expect(text).toContain("Receive one AppsFlyer Push API V2 record");
    expect(errors).toEqual([]);
    if (process.env.DOCS_SCREENSHOTS)
      await page.screenshot({ path: join(process.env.DOCS_SCREENSHOTS, "docs-redoc.png") });
    await page.close();
  });

  test("no page tried to reach another host", () => {
    expect(blocked).toEqual([]);
  });
});
