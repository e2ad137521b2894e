import { t } from "elysia";
import { storableText } from "../../shared-models";

/** t.Number with multipleOf, not t.Integer: t.Integer coerces "10" to 10, and the contract forbids coercion. */
export const WalletBody = t.Object(
  {
    amount: t.Number({
      minimum: 1,
      maximum: 100_000,
      multipleOf: 1,
      description: "integer 1..100000",
      examples: [500],
    }),
    reason: t.Optional(t.String({ maxLength: 200, pattern: storableText(), examples: ["daily login bonus"] })),
  },
  { additionalProperties: true },
);
export type WalletBody = typeof WalletBody.static;

export const WalletResponse = t.Object({
  ok: t.Literal(true),
  amount: t.Integer(),
  balance: t.Integer({ description: "the balance right after this request, in commit order" }),
  txId: t.Integer({ description: "ledger entry id" }),
});
export type WalletResponse = typeof WalletResponse.static;

export const BalanceResponse = t.Object({ userId: t.String(), balance: t.Integer() });

export const LedgerQuery = t.Object({
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: 100, multipleOf: 1, default: 50 })),
  cursor: t.Optional(t.String({ pattern: "^[0-9]{1,18}$", description: "nextCursor of the previous page" })),
});

const LedgerEntry = t.Object({
  txId: t.Integer(),
  amount: t.Integer({ description: "positive for earns, negative for spends" }),
  reason: t.Union([t.String(), t.Null()]),
  balanceAfter: t.Integer(),
  createdAt: t.String({ format: "date-time" }),
  idempotencyKey: t.Union([t.String(), t.Null()]),
});

export const LedgerResponse = t.Object({
  entries: t.Array(LedgerEntry),
  nextCursor: t.Union([t.String(), t.Null()]),
});
