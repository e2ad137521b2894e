/**
 * The offline API docs: HTML pages for Swagger UI and ReDoc, and the browser bundles they need,
 * read from the project's own dependencies (swagger-ui-dist, redoc) so no request leaves the machine.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const resolve = createRequire(import.meta.url).resolve;

// ReDoc's sidebar badge loads its logo from Redocly's CDN (no option turns it off): served with a blank inline image instead
const REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const BLANK_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";

interface Asset {
  /** the file, as a module path resolved from node_modules */
  module: string;
  type: string;
  /** text replaced once at load; start-up fails if it is missing (a dependency upgrade changed it) */
  replace?: [from: string, to: string];
}

/** The files a docs page may load: URL name -> where it lives in node_modules and how it is served. */
const ASSETS: Record<string, Asset> = {
  "swagger-ui-bundle.js": { module: "swagger-ui-dist/swagger-ui-bundle.js", type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { module: "swagger-ui-dist/swagger-ui.css", type: "text/css; charset=utf-8" },
  "redoc.standalone.js": {
    module: "redoc/bundles/redoc.standalone.js",
    type: "text/javascript; charset=utf-8",
    replace: [REDOC_CDN_LOGO, BLANK_SVG],
  },
};

export const ASSET_NAMES = Object.keys(ASSETS);
const ASSETS_PATH = "/docs/assets";

const loaded = new Map<string, Uint8Array>();

function load(asset: Asset): Uint8Array {
  const bytes = readFileSync(resolve(asset.module));
  if (!asset.replace) return bytes;
  const [from, to] = asset.replace;
  const text = bytes.toString("utf8");
  if (!text.includes(from)) throw new Error(`${asset.module}: expected to find ${from} to replace`);
  return Buffer.from(text.replaceAll(from, to), "utf8");
}

/** The asset's bytes (read once, on first use) and its content type; undefined for an unknown name. */
export function docsAsset(name: string): { body: Uint8Array; contentType: string } | undefined {
  if (!Object.hasOwn(ASSETS, name)) return undefined;
  const asset = ASSETS[name];
  let body = loaded.get(name);
  if (!body) {
    body = load(asset);
    loaded.set(name, body);
  }
  return { body, contentType: asset.type };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An HTML page around one docs bundle; the charset meta as well as the header, so a saved copy is not read as Latin-1. */
function docsPage(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  ${head}
</head>
<body>
${body}
</body>
</html>
`;
}

/** Swagger UI reading the OpenAPI document at specUrl. */
export function swaggerPage(title: string, specUrl: string): string {
  return docsPage(
    title,
    `<link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">`,
    `  <div id="swagger-ui"></div>
  <script src="${ASSETS_PATH}/swagger-ui-bundle.js" charset="utf-8"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: "#swagger-ui", deepLinking: true });
  </script>`,
  );
}

/** ReDoc reading the OpenAPI document at specUrl. */
export function redocPage(title: string, specUrl: string): string {
  return docsPage(
    title,
    "<style>body { margin: 0; padding: 0; }</style>",
    `  <div id="redoc"></div>
  <script src="${ASSETS_PATH}/redoc.standalone.js" charset="utf-8"></script>
  <script>
    Redoc.init(${JSON.stringify(specUrl)}, { hideDownloadButton: false }, document.getElementById("redoc"));
  </script>`,
  );
}
