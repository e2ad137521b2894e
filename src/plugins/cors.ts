/**
 * CORS for browser builds of the game: origins listed in ALLOWED_ORIGINS get Access-Control-* headers,
 * every other origin (and every request when the list is empty) gets none.
 * Hand-written rather than @elysiajs/cors: that plugin (1.4.3) sends Allow-Headers, Allow-Methods and
 * Expose-Headers on every response and answers any origin's preflight, which a disallowed origin must not get.
 */
import { Elysia } from "elysia";

/** Request headers a browser client may send (the preflight's Access-Control-Allow-Headers). */
const CORS_ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"];
/** Response headers a browser client may read besides the CORS-safelisted ones. */
const CORS_EXPOSED_HEADERS = ["X-Request-ID", "Idempotent-Replayed", "Retry-After"];
/** Every method the API routes use. */
const CORS_METHODS = ["GET", "POST"];
/** Seconds a browser may cache a preflight answer. */
const CORS_MAX_AGE_S = 600;

/** The CORS plugin for `origins` (exact `scheme://host[:port]` strings, or "*"); a no-op when empty. */
export function cors(origins: readonly string[]) {
  const plugin = new Elysia({ name: "cors", seed: origins });
  if (origins.length === 0) return plugin;
  const anyOrigin = origins.includes("*");
  const allowed = new Set(origins);
  return plugin.onRequest(({ request, set }) => {
    const origin = request.headers.get("origin");
    const preflight =
      request.method === "OPTIONS" && origin !== null && request.headers.has("access-control-request-method");
    // caches must not hand one origin's answer to another
    if (!anyOrigin) set.headers.vary = "Origin";
    if (origin === null || !(anyOrigin || allowed.has(origin))) {
      // a disallowed preflight: an empty 204 without CORS headers, which the browser treats as a refusal
      if (preflight) return new Response(null, { status: 204 });
      return;
    }
    set.headers["access-control-allow-origin"] = anyOrigin ? "*" : origin;
    if (preflight) {
      set.headers["access-control-allow-methods"] = CORS_METHODS.join(", ");
      set.headers["access-control-allow-headers"] = CORS_ALLOWED_HEADERS.join(", ");
      set.headers["access-control-max-age"] = String(CORS_MAX_AGE_S);
      return new Response(null, { status: 204 });
    }
    set.headers["access-control-expose-headers"] = CORS_EXPOSED_HEADERS.join(", ");
  });
}
