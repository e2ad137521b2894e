/** Login: create the user row once, however many first logins race for it. */
import { db } from "../../db/client";
import { users } from "../../db/schema";
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

/** Options for jose's jwtVerify: HS256 only, exp/iat/sub required (the plugin alone accepts HS384/512 and no exp). */
export const VERIFY_OPTIONS = { algorithms: ["HS256"], requiredClaims: ["exp", "iat", "sub"] };

/** sub of a verified payload, or a 401. */
export function subjectOf(payload: Record<string, unknown> | false): string {
  if (!payload || typeof payload.sub !== "string" || payload.sub === "" || typeof payload.exp !== "number") {
    throw new UnauthorizedError("invalid or expired token");
  }
  return payload.sub;
}
