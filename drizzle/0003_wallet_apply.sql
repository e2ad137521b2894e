-- The earn path's group commit in ONE round trip: called as a statement of its own (autocommit), it
-- locks the group's user rows in users.id order (so server processes never deadlock), looks up the
-- Idempotency-Keys, walks every op in arrival order against the running balance, inserts the ledger
-- rows, updates the balances, and returns one outcome row per op, in op order.
-- Outcome codes (src/modules/wallet/repository.ts): 0 applied, 1 replayed, 2 insufficient_funds,
-- 3 idempotency_mismatch, 4 unknown_user, 5 busy (row held elsewhere; p_wait false only; nothing applied).
-- The caller never puts two ops with the same (user, key), nor a user twice, in one call (a user twice is refused).
CREATE OR REPLACE FUNCTION wallet_apply(
  p_users text[],
  p_op_user integer[],
  p_amount integer[],
  p_reason text[],
  p_key text[],
  p_wait boolean
) RETURNS TABLE (outcome smallint, tx_id bigint, amount integer, balance bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  n_users integer := coalesce(array_length(p_users, 1), 0);
  n integer := coalesce(array_length(p_op_user, 1), 0);
  v_balance bigint[] := array_fill(null::bigint, array[n_users]);
  v_busy boolean[] := array_fill(false, array[n_users]);
  v_changed boolean[] := array_fill(false, array[n_users]);
  prev_id bigint[] := array_fill(null::bigint, array[n]);
  prev_amount integer[] := array_fill(null::integer, array[n]);
  prev_reason text[] := array_fill(null::text, array[n]);
  prev_balance bigint[] := array_fill(null::bigint, array[n]);
  o_outcome smallint[] := array_fill(null::smallint, array[n]);
  o_tx bigint[] := array_fill(null::bigint, array[n]);
  o_amount integer[] := array_fill(null::integer, array[n]);
  o_balance bigint[] := array_fill(null::bigint, array[n]);
  ins_user text[] := '{}';
  ins_amount integer[] := '{}';
  ins_reason text[] := '{}';
  ins_balance bigint[] := '{}';
  ins_key text[] := '{}';
  ins_op integer[] := '{}';
  upd_user text[] := '{}';
  upd_balance bigint[] := '{}';
  ids bigint[];
  m integer := 0;
  ui integer;
  i integer;
  r record;
BEGIN
  IF n = 0 THEN
    RETURN;
  END IF;
  -- one drain per user per call: a user twice would read one balance twice and lose an update
  IF (SELECT count(DISTINCT u) FROM unnest(p_users) AS u) <> n_users THEN
    RAISE EXCEPTION 'wallet_apply: a user appears twice in one call' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_wait THEN
    FOR r IN SELECT k.i, u.balance FROM users u JOIN unnest(p_users) WITH ORDINALITY AS k(user_id, i) ON u.user_id = k.user_id
             ORDER BY u.id FOR UPDATE OF u LOOP
      v_balance[r.i] := r.balance;
    END LOOP;
  ELSE
    FOR r IN SELECT k.i, u.balance FROM users u JOIN unnest(p_users) WITH ORDINALITY AS k(user_id, i) ON u.user_id = k.user_id
             ORDER BY u.id FOR UPDATE OF u SKIP LOCKED LOOP
      v_balance[r.i] := r.balance;
    END LOOP;
    -- a row SKIP LOCKED left out but that exists is held elsewhere (busy), not missing
    IF array_position(v_balance, null) IS NOT NULL THEN
      FOR r IN SELECT k.i FROM unnest(p_users) WITH ORDINALITY AS k(user_id, i) JOIN users u ON u.user_id = k.user_id
               WHERE v_balance[k.i] IS NULL LOOP
        v_busy[r.i] := true;
      END LOOP;
    END IF;
  END IF;

  -- after the lock: sees every ledger row committed by whoever held a row before us
  IF array_length(array_remove(p_key, null), 1) > 0 THEN
    FOR r IN SELECT o.i, l.id, l.amount, l.reason, l.balance_after
             FROM unnest(p_op_user, p_key) WITH ORDINALITY AS o(ui, k, i)
             JOIN wallet_ledger l ON l.user_id = p_users[o.ui] AND l.idempotency_key = o.k
             WHERE o.k IS NOT NULL LOOP
      prev_id[r.i] := r.id;
      prev_amount[r.i] := r.amount;
      prev_reason[r.i] := r.reason;
      prev_balance[r.i] := r.balance_after;
    END LOOP;
  END IF;

  FOR i IN 1 .. n LOOP
    ui := p_op_user[i];
    IF v_balance[ui] IS NULL THEN
      o_outcome[i] := CASE WHEN v_busy[ui] THEN 5 ELSE 4 END;
    ELSIF prev_id[i] IS NOT NULL THEN
      IF prev_amount[i] = p_amount[i] AND prev_reason[i] IS NOT DISTINCT FROM p_reason[i] THEN
        o_outcome[i] := 1;
        o_tx[i] := prev_id[i];
        o_amount[i] := abs(prev_amount[i]);
        o_balance[i] := prev_balance[i];
      ELSE
        o_outcome[i] := 3;
      END IF;
    ELSIF v_balance[ui] + p_amount[i] < 0 THEN
      o_outcome[i] := 2;
      o_amount[i] := -p_amount[i];
      o_balance[i] := v_balance[ui];
    ELSE
      v_balance[ui] := v_balance[ui] + p_amount[i];
      v_changed[ui] := true;
      m := m + 1;
      ins_user[m] := p_users[ui];
      ins_amount[m] := p_amount[i];
      ins_reason[m] := p_reason[i];
      ins_balance[m] := v_balance[ui];
      ins_key[m] := p_key[i];
      ins_op[m] := i;
      o_outcome[i] := 0;
      o_amount[i] := abs(p_amount[i]);
      o_balance[i] := v_balance[ui];
    END IF;
  END LOOP;

  IF m > 0 THEN
    -- ids come from the sequence in row order, so the i-th smallest id is the i-th row inserted
    WITH inserted AS (
      INSERT INTO wallet_ledger (user_id, amount, reason, balance_after, idempotency_key)
      SELECT * FROM unnest(ins_user, ins_amount, ins_reason, ins_balance, ins_key)
      RETURNING id
    )
    SELECT array_agg(inserted.id ORDER BY inserted.id) INTO ids FROM inserted;
    FOR i IN 1 .. m LOOP
      o_tx[ins_op[i]] := ids[i];
    END LOOP;
    FOR ui IN 1 .. n_users LOOP
      IF v_changed[ui] THEN
        upd_user := upd_user || p_users[ui];
        upd_balance := upd_balance || v_balance[ui];
      END IF;
    END LOOP;
    UPDATE users SET balance = v.balance FROM unnest(upd_user, upd_balance) AS v(user_id, balance)
      WHERE users.user_id = v.user_id;
  END IF;

  RETURN QUERY SELECT * FROM unnest(o_outcome, o_tx, o_amount, o_balance);
END;
$$;
