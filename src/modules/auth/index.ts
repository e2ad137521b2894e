import { Elysia } from "elysia";
import { jwt } from "@elysiajs/jwt";
import { config } from "../../config";
import { UnauthorizedError } from "../../errors";
import { requestInfo } from "../../plugins/request-context";
import { ErrorResponse } from "../../shared-models";
import { LoginBody, LoginResponse } from "./model";
import { bearerToken, ensureUser, subjectOf, VERIFY_OPTIONS } from "./service";

const jwtPlugin = jwt({ name: "jwt", secret: config.jwtSecret, alg: "HS256" });

// HMAC verification is deterministic, so a token that verified once needs only its exp re-checked
const verifiedTokens = new Map<string, { sub: string; exp: number }>();
const VERIFIED_TOKENS_MAX = 100_000;

async function userOf(verify: (token: string, options: typeof VERIFY_OPTIONS) => Promise<Record<string, unknown> | false>, token: string): Promise<string> {
  const nowS = Date.now() / 1000;
  const cached = verifiedTokens.get(token);
  if (cached && cached.exp > nowS) return cached.sub;
  const payload = await verify(token, VERIFY_OPTIONS);
  const sub = subjectOf(payload);
  if (verifiedTokens.size >= VERIFIED_TOKENS_MAX) verifiedTokens.clear();
  verifiedTokens.set(token, { sub, exp: (payload as { exp: number }).exp });
  return sub;
}

/** Routes after `.use(authGuard)` get `userId` from a valid Bearer token, or answer 401. */
export const authGuard = new Elysia({ name: "auth-guard" })
  .use(jwtPlugin)
  .resolve({ as: "scoped" }, async ({ jwt, headers, request }) => {
    const token = bearerToken(headers.authorization);
    if (!token) throw new UnauthorizedError("missing bearer token");
    const userId = await userOf(jwt.verify as never, token);
    requestInfo(request).userId = userId;
    return { userId };
  });

/** Like authGuard, but no token means `userId: undefined`; a bad token is still a 401. */
export const optionalAuth = new Elysia({ name: "optional-auth" })
  .use(jwtPlugin)
  .resolve({ as: "scoped" }, async ({ jwt, headers, request }) => {
    const token = bearerToken(headers.authorization);
    if (!token) return { userId: undefined as string | undefined };
    const userId: string | undefined = await userOf(jwt.verify as never, token);
    requestInfo(request).userId = userId;
    return { userId };
  });

export const authModule = new Elysia({ name: "auth", prefix: "" })
  .use(jwtPlugin)
  .post(
    "/login",
    async ({ body, jwt }) => {
      await ensureUser(body.userId);
      const exp = Math.floor(Date.now() / 1000) + config.jwtTtlMin * 60;
      const token = await jwt.sign({ sub: body.userId, exp });
      return { token, userId: body.userId, expiresAt: new Date(exp * 1000).toISOString() };
    },
    {
      body: LoginBody,
      response: { 200: LoginResponse, 400: ErrorResponse, 422: ErrorResponse },
      detail: { tags: ["auth"], summary: "Log in (creates the user on first login) and get a JWT" },
    },
  );
