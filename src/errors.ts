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

/** 429/503: the caller should come back after retryAfterS seconds. */
export class OverloadedError extends AppError {
  constructor(status: 429 | 503, code: string, message: string, retryAfterS = 1) {
    super(status, code, message, undefined, { "Retry-After": String(retryAfterS) });
  }
}

/** The JSON error shape of every non-2xx response. */
export function errorBody(code: string, message: string, requestId: string, details?: Record<string, unknown>) {
  return { error: details ? { code, message, requestId, details } : { code, message, requestId } };
}

interface MappedError {
  status: number;
  body: ReturnType<typeof errorBody>;
  headers?: Record<string, string>;
  /** unknown errors are logged with their stack; client mistakes are not */
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
  if (code === "PARSE" && (error as { cause?: unknown }).cause instanceof AppError) error = (error as { cause: AppError }).cause;
  if (error instanceof AppError) {
    return { status: error.status, body: errorBody(error.code, error.message, requestId, error.details), headers: error.headers };
  }
  switch (code) {
    case "PARSE":
      return { status: 400, body: errorBody("validation_error", "malformed request body", requestId, { field: "body" }) };
    case "VALIDATION": {
      const validation = error as ElysiaValidation;
      if (validation.type === "body" && (validation.value === null || validation.value === undefined)) {
        return { status: 400, body: errorBody("validation_error", "request body must be a JSON object", requestId, { field: "body" }) };
      }
      const path = validation.valueError?.path ?? "";
      const field = path.replace(/^\//, "").replace(/\//g, ".") || validation.type;
      const message = `${field}: ${validation.valueError?.message ?? "invalid value"}`;
      return { status: 422, body: errorBody("validation_error", message, requestId, { field, in: validation.type }) };
    }
    case "NOT_FOUND":
      return { status: 404, body: errorBody("not_found", "no such route", requestId) };
    default:
      return { status: 500, body: errorBody("internal_error", "internal server error", requestId), unexpected: true };
  }
}
