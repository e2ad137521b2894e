-- Distributes users, wallet_ledger and events by user_id, co-located, on a Citus cluster
-- (docs/scaling.md says why each change is needed). Citus is not in this project's machine's
-- package sources, so this file has NOT been run here: run docs/scaling.md's test plan first.
--
-- Run on the coordinator, with psql, after:
--   1. the workers were added (deploy/citus/docker-compose.yml's citus-setup does both steps), and
--   2. the API's migrations (drizzle/*.sql) created the tables on the coordinator (one API
--      process started once, or the compose file's `migrate` service).
-- Idempotent: on an already distributed schema it only prints a notice.
--
--   psql "postgres://game:game@coordinator:5432/game" -v ON_ERROR_STOP=1 -f deploy/citus/distribute.sql

-- every shard of the three tables on the same worker for the same user_id range: 32 shards per
-- table, enough to spread over 2 workers now and to rebalance onto 8-16 later without re-sharding
SET citus.shard_count = 32;
-- the ledger's append-only trigger must exist on every shard (it only raises: it touches no other shard)
SET citus.enable_unsafe_triggers = on;

DO $distribute$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'users'::regclass) THEN
    RAISE NOTICE 'users, wallet_ledger and events are already distributed: nothing to do';
    RETURN;
  END IF;
  IF (SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0) = 0 THEN
    RAISE EXCEPTION 'no worker node: add the workers (SELECT citus_add_node(host, port)) before distributing';
  END IF;

  -- 1. Constraints that Citus cannot enforce across shards. A PRIMARY KEY or UNIQUE constraint of a
  --    distributed table must contain the distribution column, so that one shard can check it.
  --    The foreign key is dropped first: it depends on users' unique index, which changes.
  ALTER TABLE wallet_ledger DROP CONSTRAINT wallet_ledger_user_id_users_user_id_fk;
  -- users: user_id becomes the primary key (it was UNIQUE already); id stays, filled by its
  -- sequence and used to order row locks, but it is no longer a key of its own
  ALTER TABLE users DROP CONSTRAINT users_user_id_unique;
  ALTER TABLE users DROP CONSTRAINT users_pkey;
  ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (user_id);
  -- ledger and events: (user_id, id) instead of (id). The sequences still make id unique (txId, eventId);
  -- the unique (user_id, idempotency_key) indexes already contain user_id and stay as they are
  ALTER TABLE wallet_ledger DROP CONSTRAINT wallet_ledger_pkey;
  ALTER TABLE wallet_ledger ADD CONSTRAINT wallet_ledger_pkey PRIMARY KEY (user_id, id);
  ALTER TABLE events DROP CONSTRAINT events_pkey;
  ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (user_id, id);

  -- 2. Distribute, co-located: shard k of wallet_ledger and of events holds the same users as
  --    shard k of users, on the same worker, so a user's FOR UPDATE, ledger insert and balance
  --    update are one single-node (router) transaction.
  PERFORM create_distributed_table('users', 'user_id');
  PERFORM create_distributed_table('wallet_ledger', 'user_id', colocate_with => 'users');
  PERFORM create_distributed_table('events', 'user_id', colocate_with => 'users');

  -- 3. The foreign key again: allowed between co-located tables when it contains the distribution column.
  ALTER TABLE wallet_ledger ADD CONSTRAINT wallet_ledger_user_id_users_user_id_fk
    FOREIGN KEY (user_id) REFERENCES users (user_id);
END
$distribute$;

-- What the API should see afterwards (docs/scaling.md, test plan step 2):
SELECT logicalrelid::regclass AS "table", partkey IS NOT NULL AS distributed, colocationid
  FROM pg_dist_partition WHERE logicalrelid IN ('users'::regclass, 'wallet_ledger'::regclass, 'events'::regclass)
  ORDER BY 1;
