import { describe, expect, test } from "bun:test";
import { connectionFailure, mapError, rootCause } from "../src/errors";

/** An error the way a driver raises it, wrapped the way drizzle does ("Failed query: ..." with the cause). */
function wrapped(code: string, message: string): Error {
  const driverError = Object.assign(new Error(message), { code });
  return new Error("Failed query: select 1\nparams: ", { cause: driverError });
}

describe("a lost database connection (hardening finding 6)", () => {
  test.each([
    ["postgres.js CONNECTION_CLOSED", "CONNECTION_CLOSED", "write CONNECTION_CLOSED 127.0.0.1:5432"],
    ["postgres.js CONNECT_TIMEOUT", "CONNECT_TIMEOUT", "write CONNECT_TIMEOUT 127.0.0.1:5432"],
    ["a refused socket", "ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"],
    ["the server shutting down (57P01)", "57P01", "terminating connection due to administrator command"],
    ["a database refusing connections (55000 is not one)", "3D000", "database does not exist"],
    ["too many connections (53300)", "53300", "sorry, too many clients already"],
    ["connection exception class 08", "08006", "connection failure"],
  ])("%s", (_name, code, message) => {
    const mapped = mapError("UNKNOWN", wrapped(code, message), "req-1");
    if (code === "3D000") {
      expect(mapped.status).toBe(500);
      return;
    }
    expect(mapped.status).toBe(503);
    expect(mapped.headers?.["Retry-After"]).toBe("1");
    expect(mapped.body.error).toEqual({
      code: "database_unavailable",
      message: "the database is unreachable; retry shortly",
      requestId: "req-1",
    });
    expect(JSON.stringify(mapped.body)).not.toContain("select 1");
    expect(mapped.unexpected).toBe(true);
    expect(connectionFailure(wrapped(code, message))?.message).toBe(message);
  });

  test("a FATAL server error (the session is gone) is a 503 too", () => {
    const fatal = Object.assign(new Error('database "x" is not currently accepting connections'), {
      code: "55000",
      severity: "FATAL",
    });
    expect(mapError("UNKNOWN", new Error("Failed query: select 1", { cause: fatal }), "r").status).toBe(503);
    expect(mapError("UNKNOWN", Object.assign(new Error("x"), { code: "55000", severity: "ERROR" }), "r").status).toBe(
      500,
    );
  });

  test("any other error stays a 500 internal_error without its text; the log gets the driver's message", () => {
    const error = wrapped("22008", 'date/time field value out of range: "0000-01-01"');
    const mapped = mapError("UNKNOWN", error, "req-2");
    expect(mapped.status).toBe(500);
    expect(JSON.stringify(mapped.body)).not.toContain("0000");
    expect(rootCause(error)).toBe('Error: date/time field value out of range: "0000-01-01"');
  });
});
