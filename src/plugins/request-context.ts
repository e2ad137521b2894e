/**
 * Cross-cutting HTTP concerns, registered once on the root app:
 * X-Request-ID on every response, one JSON log line per request, and a strict JSON body parser
 * (64 KiB limit, application/json only, objects only) whose failures use the common error shape.
 */
import { Elysia } from "elysia";
import { config } from "../config";
import { AppError, PayloadTooLargeError, ValidationError } from "../errors";
import { log } from "../logger";
import { httpDuration, httpRequests } from "../metrics";

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

/** 408: the body did not arrive within BODY_TIMEOUT_MS; the connection is closed (the rest of the body is never read). */
class BodyTimeoutError extends AppError {
  constructor() {
    super(408, "request_timeout", `request body not received within ${config.bodyTimeoutMs} ms`, undefined, {
      connection: "close",
    });
  }
}

/** 503 before any work: too many requests in flight (slow bodies hold theirs); the connection is closed. */
class TooManyRequestsInFlightError extends AppError {
  constructor() {
    super(503, "overloaded", "too many requests in flight; retry shortly", undefined, {
      "Retry-After": "1",
      connection: "close",
    });
  }
}

/**
 * Reads at most BODY_LIMIT_BYTES, and only until BODY_TIMEOUT_MS after the request arrived: a client
 * sending one byte every few seconds resets the runtime's idle timer, so without a deadline it would
 * hold a connection (and a file descriptor) for as long as it likes.
 */
async function readLimited(request: Request): Promise<string> {
  const length = request.headers.get("content-length");
  if (length !== null && Number(length) > BODY_LIMIT_BYTES) throw new PayloadTooLargeError(BODY_LIMIT_BYTES);
  if (!request.body) return "";
  // with Content-Length the runtime enforces the length, so text() is bounded; chunked bodies are counted here
  const reading = length !== null ? request.text() : readChunked(request.body);
  // a small body usually arrived with the headers: no deadline timer for it (one per request costs under load)
  await null;
  if (Bun.peek.status(reading) !== "pending") return reading;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const remainingMs = Math.max(0, requestInfo(request).startedAt + config.bodyTimeoutMs - performance.now());
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyTimeoutError()), remainingMs);
  });
  try {
    return await Promise.race([reading, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function readChunked(body: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > BODY_LIMIT_BYTES) throw new PayloadTooLargeError(BODY_LIMIT_BYTES);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses a JSON object body; anything else is a 400 that names the problem. */
async function parseJsonObject(request: Request, contentType: string): Promise<unknown> {
  const text = await readLimited(request);
  // null, not undefined: undefined would hand the consumed stream to the next parser
  if (text.trim() === "") return null;
  if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType)) {
    throw new ValidationError("content-type must be application/json", {
      field: "content-type",
      received: contentType.slice(0, 100),
    });
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

/** Both request metrics of one (method, route, status), looked up once: prom-client hashes the labels on every call. */
const routeMetricsCache = new Map<string, { observe: (seconds: number) => void }>();
function routeMetrics(method: string, route: string, status: number) {
  const key = `${method} ${route} ${status}`;
  let metrics = routeMetricsCache.get(key);
  if (!metrics) {
    const duration = httpDuration.labels(method, route, String(status));
    const requests = httpRequests.labels(method, route, String(status));
    metrics = {
      observe: (seconds) => {
        duration.observe(seconds);
        requests.inc();
      },
    };
    routeMetricsCache.set(key, metrics);
  }
  return metrics;
}

export const requestContext = new Elysia({ name: "request-context" })
  .onRequest(({ request, set, server }) => {
    set.headers["x-request-id"] = requestInfo(request).requestId;
    // /health stays answerable, so a probe sees a live process and its database, not the crowd
    if (server && server.pendingRequests > config.maxRequestsInFlight && !request.url.endsWith("/health"))
      throw new TooManyRequestsInFlightError();
  })
  .onParse({ as: "global" }, ({ request, contentType }) => parseJsonObject(request, contentType ?? ""))
  .onAfterResponse({ as: "global" }, ({ request, set, path, route }) => {
    const info = requestInfo(request);
    const status = typeof set.status === "number" ? set.status : 200;
    const seconds = (performance.now() - info.startedAt) / 1000;
    // the route pattern, not the path, keeps label cardinality bounded
    routeMetrics(request.method, route || "unmatched", status).observe(seconds);
    log(status >= 500 ? "error" : "info", "request", {
      requestId: info.requestId,
      method: request.method,
      path,
      status,
      durationMs: Math.round(seconds * 100_000) / 100,
      ...(info.userId ? { userId: info.userId } : {}),
    });
  });
