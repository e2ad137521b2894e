import { jwt } from "@elysiajs/jwt";
import { Elysia } from "elysia";
import { config } from "../../config";
import { UnauthorizedError } from "../../errors";
import { clientAddress, loginLimiter } from "../../plugins/client-limits";
import { requestInfo } from "../../plugins/request-context";
import { ErrorResponse } from "../../shared-models";
import { LoginBody, LoginResponse } from "./model";
import { bearerToken, ensureUser, normaliseUserId, verifyHs256 } from "./service";
import { TokenCache } from "./token-cache";

/** Signs tokens at /login (verification is verifyHs256, see service.ts). */
const jwtPlugin = jwt({ name: "jwt", secret: config.jwtSecret, alg: "HS256" });

/** Bytes the verified-token cache may hold (~25,000 tokens of ~200 characters); past it the least recently used go. */
const TOKEN_CACHE_MAX_BYTES = 16 * 1024 * 1024;
// HMAC verification is deterministic, so a token that verified once needs only its exp re-checked
const verifiedTokens = new TokenCache(TOKEN_CACHE_MAX_BYTES);

function userOf(token: string): string {
  // a hit needs the exact token, and only canonical tokens are cached: other spellings miss and fail the shape check
  const cached = verifiedTokens.get(token);
  if (cached) return cached.sub;
  const verified = verifyHs256(token, config.jwtSecret); // checks the canonical shape first
  verifiedTokens.set(token, verified);
  return verified.sub;
}

/** Routes after `.use(authGuard)` get `userId` from a valid Bearer token, or answer 401. */
export const authGuard = new Elysia({ name: "auth-guard" }).resolve({ as: "scoped" }, ({ headers, request }) => {
  const token = bearerToken(headers.authorization);
  if (!token) throw new UnauthorizedError("missing bearer token");
  const userId = userOf(token);
  requestInfo(request).userId = userId;
  return { userId };
});

/** Like authGuard, but no token means `userId: undefined`; a bad token is still a 401. */
export const optionalAuth = new Elysia({ name: "optional-auth" }).resolve({ as: "scoped" }, ({ headers, request }) => {
  const token = bearerToken(headers.authorization);
  if (!token) return { userId: undefined as string | undefined };
  const userId: string | undefined = userOf(token);
  requestInfo(request).userId = userId;
  return { userId };
});

export const authModule = new Elysia({ name: "auth", prefix: "" }).use(jwtPlugin).post(
  "/login",
  async ({ body, jwt }) => {
    const userId = normaliseUserId(body.userId, "userId");
    await ensureUser(userId);
    const exp = Math.floor(Date.now() / 1000) + config.jwtTtlMin * 60;
    const token = await jwt.sign({ sub: userId, exp });
    return { token, userId, expiresAt: new Date(exp * 1000).toISOString() };
  },
  {
    beforeHandle: ({ request, server }) => loginLimiter.check(clientAddress(request, server)),
    body: LoginBody,
    response: { 200: LoginResponse, 400: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse },
    detail: { tags: ["auth"], summary: "Log in (creates the user on first login) and get a JWT" },
  },
);
