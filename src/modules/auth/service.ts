/** Login: create the user row once, however many first logins race for it. */

import { createHmac, timingSafeEqual } from "node:crypto";
import { db } from "../../db/client";
import { users } from "../../db/schema";
import { UnauthorizedError, ValidationError } from "../../errors";

// format characters (zero-width, bidi controls, BOM, soft hyphen...) render as nothing or reorder text
const FORMAT_CHAR = /\p{Cf}/u;
const SURROUNDING_SPACE = /^\s|\s$/u;

/**
 * One account per visible name: the id in NFC (so NFC and NFD spellings are one user); format characters
 * and leading or trailing white space are a 422, since they make look-alike ids that differ invisibly.
 */
export function normaliseUserId(raw: string, field: string): string {
  if (FORMAT_CHAR.test(raw))
    throw new ValidationError(
      `${field} must not contain invisible format characters (zero-width, bidi controls)`,
      { field },
      422,
    );
  if (SURROUNDING_SPACE.test(raw))
    throw new ValidationError(`${field} must not start or end with white space`, { field }, 422);
  const normalised = raw.normalize("NFC");
  if (normalised.length > 255)
    throw new ValidationError(`${field} must be at most 255 characters in NFC`, { field }, 422);
  return normalised;
}

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

/** Longest token accepted: ours are ~200 bytes; a cap keeps what one request can make us hash and cache small. */
const TOKEN_MAX_BYTES = 1024;
// header.payload.signature, each base64url without padding; an HS256 signature is 32 bytes = 43 characters
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;
// the 43rd character carries 4 bits of the signature and 2 unused bits, which must be zero
const LAST_SIGNATURE_CHAR = /[AEIMQUYcgkosw048]$/;

/**
 * True when the token is spelled the one way a signer writes it: three base64url segments, a
 * 43-character signature that re-encodes to itself (Buffer.from(.., "base64url") skips foreign
 * characters and unused bits, so `<token>!` or a changed last character would verify too), <= 1 KiB.
 */
function canonicalTokenShape(token: string): boolean {
  return token.length <= TOKEN_MAX_BYTES && TOKEN_SHAPE.test(token) && LAST_SIGNATURE_CHAR.test(token);
}

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
 * it is ~5x cheaper, and this runs on every authenticated request. The token must have the canonical
 * shape (canonicalTokenShape), so one signed token has exactly one accepted spelling.
 */
export function verifyHs256(token: string, secret: string, nowS = Date.now() / 1000): { sub: string; exp: number } {
  if (!canonicalTokenShape(token)) throw invalid();
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
