/** Domain errors: each has an HTTP status and a stable code; the root onError maps them. */
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
