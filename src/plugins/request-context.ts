/**
 * Cross-cutting HTTP concerns, registered once on the root app:
 * X-Request-ID on every response, one JSON log line per request, and a strict JSON body parser
 * (64 KiB limit, application/json only, objects only) whose failures use the common error shape.
 */
import { Elysia } from "elysia";
import { AppError, ValidationError } from "../errors";
import { log } from "../logger";
import { httpDuration, httpRequests } from "../modules/metrics/service";

export const BODY_LIMIT_BYTES = 64 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

interface RequestInfo {
  requestId: string;
  startedAt: number;
  userId?: string;
}

const requests = new WeakMap<Request, RequestInfo>();

/** The per-request record (request id, start time, authenticated user) kept for logging. */
export function requestInfo(request: Request): RequestInfo {
  let info = requests.get(request);
  if (!info) {
    const given = request.headers.get("x-request-id");
    info = { requestId: given && REQUEST_ID.test(given) ? given : crypto.randomUUID(), startedAt: performance.now() };
    requests.set(request, info);
  }
  return info;
}

export class PayloadTooLargeError extends AppError {
  constructor() {
    super(413, "payload_too_large", `request body exceeds ${BODY_LIMIT_BYTES} bytes`);
  }
}

/** Reads at most BODY_LIMIT_BYTES from the stream, so a huge chunked body is never buffered whole. */
async function readLimited(request: Request): Promise<string> {
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (Number(length) > BODY_LIMIT_BYTES) throw new PayloadTooLargeError();
    return request.text(); // the runtime enforces Content-Length, so this is bounded
  }
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > BODY_LIMIT_BYTES) throw new PayloadTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses a JSON object body; anything else is a 400 that names the problem. */
export async function parseJsonObject(request: Request, contentType: string): Promise<unknown> {
  const text = await readLimited(request);
  // null, not undefined: undefined would hand the consumed stream to the next parser
  if (text.trim() === "") return null;
  if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType)) {
    throw new ValidationError("content-type must be application/json", { field: "content-type", received: contentType.slice(0, 100) });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ValidationError("malformed JSON body", { field: "body", reason: (error as Error).message.slice(0, 200) });
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ValidationError("request body must be a JSON object", { field: "body" });
  }
  return body;
}

export const requestContext = new Elysia({ name: "request-context" })
  .onRequest(({ request, set }) => {
    set.headers["x-request-id"] = requestInfo(request).requestId;
  })
  .onParse({ as: "global" }, ({ request, contentType }) => parseJsonObject(request, contentType ?? ""))
  .onAfterResponse({ as: "global" }, ({ request, set, path, route }) => {
    const info = requestInfo(request);
    const status = typeof set.status === "number" ? set.status : 200;
    const seconds = (performance.now() - info.startedAt) / 1000;
    // the route pattern, not the path, keeps label cardinality bounded
    httpDuration.observe({ method: request.method, route: route || "unmatched", status }, seconds);
    httpRequests.inc({ method: request.method, route: route || "unmatched", status });
    log(status >= 500 ? "error" : "info", "request", {
      requestId: info.requestId,
      method: request.method,
      path,
      status,
      durationMs: Math.round(seconds * 100_000) / 100,
      ...(info.userId ? { userId: info.userId } : {}),
    });
  });
