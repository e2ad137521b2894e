/** Domain errors: each has an HTTP status and a stable code; the root onError maps them. */

/** A bad environment variable (thrown by src/config.ts, named in the message; start-up exits 1). */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    /** extra response headers, e.g. Retry-After */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: Record<string, unknown>, status = 400) {
    super(status, "validation_error", message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "missing or invalid token") {
    super(401, "unauthorized", message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = "not found") {
    super(404, "not_found", message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(409, code, message, details);
  }
}

/** 422: an Idempotency-Key sent again with a different request (wallet and events). */
export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request body", {
      field: "Idempotency-Key",
    });
  }
}

/** 413: a request body over the limit (the JSON parser counts chunked bodies as they arrive). */
export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, "payload_too_large", `request body exceeds ${limitBytes} bytes`);
  }
}

/** 429/503: the caller should come back after retryAfterS seconds. */
export class OverloadedError extends AppError {
  constructor(status: 429 | 503, code: string, message: string, retryAfterS = 1) {
    super(status, code, message, undefined, { "Retry-After": String(retryAfterS) });
  }
}

// postgres.js codes for a connection it lost or could not open, socket errnos, and PGlite after close
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);
// SQLSTATEs: class 08 connection exception, 57P01-57P03 shutdown / cannot connect now, 53300 too many connections
const CONNECTION_SQLSTATE = /^(08...|57P0[123]|53300)$/;

/** The error, or one of its causes, says the database connection is gone or cannot be opened. */
export function connectionFailure(error: unknown): Error | undefined {
  for (
    let current = error, depth = 0;
    current instanceof Error && depth < 5;
    current = (current as { cause?: unknown }).cause, depth++
  ) {
    const code = String((current as { code?: unknown }).code ?? "");
    // FATAL/PANIC: the server ended the session (e.g. 55000 "database is not currently accepting connections")
    const severity = (current as { severity?: unknown }).severity;
    if (
      CONNECTION_CODES.has(code) ||
      CONNECTION_SQLSTATE.test(code) ||
      severity === "FATAL" ||
      severity === "PANIC" ||
      /PGlite is closed/i.test(current.message)
    )
      return current;
  }
  return undefined;
}

/** The deepest cause's message (drizzle wraps the driver's error in "Failed query: <sql>"), for log lines. */
export function rootCause(error: unknown): string {
  let current = error;
  for (
    let depth = 0;
    depth < 5 && current instanceof Error && (current as { cause?: unknown }).cause instanceof Error;
    depth++
  )
    current = (current as { cause: Error }).cause;
  return current instanceof Error ? `${current.name}: ${current.message}`.slice(0, 500) : String(current).slice(0, 500);
}

/** The JSON error shape of every non-2xx response. */
function errorBody(code: string, message: string, requestId: string, details?: Record<string, unknown>) {
  return { error: details ? { code, message, requestId, details } : { code, message, requestId } };
}

interface MappedError {
  status: number;
  body: ReturnType<typeof errorBody>;
  headers?: Record<string, string>;
  /** unknown errors and lost databases are logged with their cause; client mistakes are not */
  unexpected?: boolean;
}

/** Elysia's validation error, duck-typed: which part of the request, and the first failing path. */
interface ElysiaValidation {
  type: string;
  value: unknown;
  valueError?: { path: string; message: string };
}

/** The one mapping from anything thrown to the JSON error shape (used by the root onError). */
export function mapError(code: string | number, error: unknown, requestId: string): MappedError {
  if (code === "PARSE" && (error as { cause?: unknown }).cause instanceof AppError)
    error = (error as { cause: AppError }).cause;
  if (error instanceof AppError) {
    return {
      status: error.status,
      body: errorBody(error.code, error.message, requestId, error.details),
      headers: error.headers,
    };
  }
  switch (code) {
    case "PARSE":
      return {
        status: 400,
        body: errorBody("validation_error", "malformed request body", requestId, { field: "body" }),
      };
    case "VALIDATION": {
      const validation = error as ElysiaValidation;
      if (validation.type === "body" && (validation.value === null || validation.value === undefined)) {
        return {
          status: 400,
          body: errorBody("validation_error", "request body must be a JSON object", requestId, { field: "body" }),
        };
      }
      const path = validation.valueError?.path ?? "";
      const field = path.replace(/^\//, "").replace(/\//g, ".") || validation.type;
      const message = `${field}: ${validation.valueError?.message ?? "invalid value"}`;
      return { status: 422, body: errorBody("validation_error", message, requestId, { field, in: validation.type }) };
    }
    case "NOT_FOUND":
      return { status: 404, body: errorBody("not_found", "no such route", requestId) };
    default:
      if (connectionFailure(error)) {
        const body = errorBody("database_unavailable", "the database is unreachable; retry shortly", requestId);
        return { status: 503, body, headers: { "Retry-After": "1" }, unexpected: true };
      }
      return { status: 500, body: errorBody("internal_error", "internal server error", requestId), unexpected: true };
  }
}
