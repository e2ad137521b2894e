import { Elysia } from "elysia";
import { UnauthorizedError } from "../../errors";
import { ErrorResponse, IdempotencyHeaders } from "../../shared-models";
import { authGuard } from "../auth";
import { BalanceResponse, LedgerQuery, LedgerResponse, WalletBody, WalletResponse } from "./model";
import { readBalance, readLedger } from "./repository";
import { wallet } from "./service";

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
  503: ErrorResponse,
};

/** /earn (sign 1) and /spend (sign -1) through the user's actor; a replay is marked in a header. */
async function submit(
  userId: string,
  body: WalletBody,
  sign: 1 | -1,
  idempotencyKey: string | undefined,
  responseHeaders: Record<string, unknown>,
) {
  const result = await wallet.submit(userId, {
    amount: sign * body.amount,
    reason: body.reason ?? null,
    idempotencyKey: idempotencyKey ?? null,
  });
  if (result.replayed) responseHeaders["idempotent-replayed"] = "true";
  return { ok: true as const, amount: result.amount, balance: result.balance, txId: result.txId };
}

export const walletModule = new Elysia({ name: "wallet" })
  .use(authGuard)
  .post("/earn", ({ body, userId, headers, set }) => submit(userId, body, 1, headers["idempotency-key"], set.headers), {
    body: WalletBody,
    headers: IdempotencyHeaders,
    response: { 200: WalletResponse, ...errors },
    detail: { tags: ["wallet"], summary: "Credit in-game currency", security: [{ bearer: [] }] },
  })
  .post(
    "/spend",
    ({ body, userId, headers, set }) => submit(userId, body, -1, headers["idempotency-key"], set.headers),
    {
      body: WalletBody,
      headers: IdempotencyHeaders,
      response: { 200: WalletResponse, ...errors },
      detail: {
        tags: ["wallet"],
        summary: "Debit in-game currency (409 insufficient_funds below zero)",
        security: [{ bearer: [] }],
      },
    },
  )
  .get(
    "/balance",
    async ({ userId }) => {
      const balance = await readBalance(userId);
      if (balance === undefined) throw new UnauthorizedError("user of this token does not exist; log in again");
      return { userId, balance };
    },
    {
      response: { 200: BalanceResponse, 401: ErrorResponse },
      detail: { tags: ["wallet"], summary: "Current balance", security: [{ bearer: [] }] },
    },
  )
  .get(
    "/wallet/ledger",
    async ({ userId, query }) => {
      const limit = query.limit ?? 50;
      const rows = await readLedger(userId, limit + 1, query.cursor === undefined ? undefined : Number(query.cursor));
      const page = rows.slice(0, limit);
      return {
        entries: page.map((row) => ({
          txId: row.id,
          amount: row.amount,
          reason: row.reason,
          balanceAfter: row.balanceAfter,
          createdAt: row.createdAt.toISOString(),
          idempotencyKey: row.idempotencyKey,
        })),
        nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null,
      };
    },
    {
      query: LedgerQuery,
      response: { 200: LedgerResponse, 401: ErrorResponse, 422: ErrorResponse },
      detail: {
        tags: ["wallet"],
        summary: "Ledger entries, newest first, keyset-paginated",
        security: [{ bearer: [] }],
      },
    },
  );
