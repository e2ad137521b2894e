/** Login: create the user row once, however many first logins race for it. */
import { db } from "../../db/client";
import { users } from "../../db/schema";
import { createHmac, timingSafeEqual } from "node:crypto";
import { UnauthorizedError } from "../../errors";

export async function ensureUser(userId: string): Promise<void> {
  // ON CONFLICT DO NOTHING: concurrent first logins both succeed and leave one row
  await db.insert(users).values({ userId }).onConflictDoNothing({ target: users.userId });
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError("Authorization header must be 'Bearer <token>'");
  return match[1];
}

const invalid = () => new UnauthorizedError("invalid or expired token");

function decodeJson(part: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {}
  throw invalid();
}

/**
 * Verifies an HS256 JWT and returns its sub and exp, or throws a 401. HS256 only (alg none, HS384,
 * HS512, RS256... are refused); exp, iat and sub are required and exp is enforced. node:crypto's HMAC
 * is used instead of the plugin's verify (jose over WebCrypto, importing the key on every call):
 * it is ~5x cheaper, and this runs on every authenticated request.
 */
export function verifyHs256(token: string, secret: string, nowS = Date.now() / 1000): { sub: string; exp: number } {
  const parts = token.split(".");
  if (parts.length !== 3) throw invalid();
  const [header, payload, signature] = parts;
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  if (decodeJson(header).alg !== "HS256") throw invalid();
  const claims = decodeJson(payload);
  const { sub, exp, iat, nbf } = claims;
  if (typeof sub !== "string" || sub === "" || typeof exp !== "number" || typeof iat !== "number") throw invalid();
  if (exp <= nowS || (typeof nbf === "number" && nbf > nowS + 60)) throw invalid();
  return { sub, exp };
}
