/**
 * The page queries read their index in order (hardening finding 4): EXPLAIN shows an index scan on the
 * (user, newest first) index and no Sort, on a user with thousands of rows among others' rows.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { and, desc, eq, lt } from "drizzle-orm";
import { db, rawQuery } from "../src/db/client";
import { walletLedger } from "../src/db/schema";
import { eventsPageQuery } from "../src/modules/events/service";
import { uniqueUser } from "./helpers";

const heavy = uniqueUser("plan_heavy");
const ROWS = 4000;

async function plan(text: string, params: unknown[]): Promise<string> {
  const rows = await rawQuery<Record<string, string>>(`explain ${text}`, params);
  return rows.map((row) => Object.values(row)[0]).join("\n");
}

beforeAll(async () => {
  await rawQuery("insert into users (user_id) values ($1), ($2)", [heavy, `${heavy}_other`]);
  await rawQuery(
    `insert into events (user_id, event_type, ts_utc) select case when g % 2 = 0 then $1 else $2 end, 'type_' || (g % 7), now() - g * interval '1 minute'
     from generate_series(1, $3::int) g`,
    [heavy, `${heavy}_other`, ROWS * 2],
  );
  await rawQuery(
    // the heavy user's entries are the oldest, as for a player who stopped: a backward scan of the primary key would read everyone's newer rows first
    `insert into wallet_ledger (user_id, amount, balance_after) select case when g <= $3::int / 5 then $1 else $2 end, 1, g from generate_series(1, $3::int) g`,
    [heavy, `${heavy}_other`, ROWS * 5],
  );
  await rawQuery("analyze events", []);
  await rawQuery("analyze wallet_ledger", []);
}, 60_000);

describe("query plans", () => {
  test("GET /events first page and a keyset page: index scan of events_user_ts_idx, no Sort", async () => {
    for (const query of [{ limit: 100 }, { limit: 100, cursor: `${Date.now() - 60_000}.123456` }]) {
      const { text, params } = eventsPageQuery(heavy, query);
      const explained = await plan(text, params);
      expect(explained).toContain("Index Scan using events_user_ts_idx");
      expect(explained).not.toContain("Sort");
      if (query.cursor) expect(explained).toMatch(/Index Cond: .*ROW\(ts_utc, id\) < ROW\(/);
    }
  });

  test("GET /wallet/ledger page (the query of readLedger in src/modules/wallet/repository.ts): index scan of wallet_ledger_user_id_idx, no Sort", async () => {
    // mirrors readLedger: where user_id = $1 [and id < $2] order by id desc limit $n
    for (const before of [undefined, 1_000_000]) {
      const where =
        before === undefined
          ? eq(walletLedger.userId, heavy)
          : and(eq(walletLedger.userId, heavy), lt(walletLedger.id, before));
      const { sql, params } = db
        .select()
        .from(walletLedger)
        .where(where)
        .orderBy(desc(walletLedger.id))
        .limit(51)
        .toSQL();
      const explained = await plan(sql, params);
      expect(explained).toContain("Index Scan using wallet_ledger_user_id_idx");
      expect(explained).not.toContain("Sort");
    }
  });

  test("global GET /stats with a one-hour window: the ts_utc index, not a scan of the whole table", async () => {
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const explained = await plan(
      "select event_type, count(*)::int as count from events where true and ts_utc >= $1::timestamptz group by event_type order by count desc, event_type",
      [hourAgo],
    );
    expect(explained).toMatch(/Index (Only )?Scan using events_ts_type_idx|Bitmap Index Scan on events_ts_type_idx/);
    expect(explained).not.toContain("Seq Scan");
  });
});
