/**
 * GET /docs (Swagger UI) and GET /redoc (ReDoc) for the OpenAPI document at /docs/json, with every
 * script and stylesheet served from /docs/assets: the pages work with no internet.
 * Registered after @elysiajs/swagger: its /docs page loads Swagger UI from unpkg, and the later route wins.
 */
import { Elysia, t } from "elysia";
import { NotFoundError } from "../../errors";
import { docsAsset, redocPage, swaggerPage } from "./service";

const TITLE = "Game API";
const SPEC_URL = "/docs/json";
const HTML = "text/html; charset=utf-8";

const html = (text: string) => new Response(text, { headers: { "content-type": HTML, "cache-control": "no-cache" } });

export const docsModule = new Elysia({ name: "docs" })
  .get("/docs", () => html(swaggerPage(`${TITLE}: Swagger UI`, SPEC_URL)), { detail: { hide: true } })
  .get("/redoc", () => html(redocPage(`${TITLE}: ReDoc`, SPEC_URL)), { detail: { hide: true } })
  .get(
    "/docs/assets/:file",
    ({ params }) => {
      const asset = docsAsset(params.file);
      if (!asset) throw new NotFoundError("no such docs asset");
      // the bundles change only with the dependency version; an hour of caching spares reloads
      return new Response(asset.body, {
        headers: { "content-type": asset.contentType, "cache-control": "public, max-age=3600" },
      });
    },
    { params: t.Object({ file: t.String() }), detail: { hide: true } },
  );
