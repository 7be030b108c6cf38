#!/usr/bin/env python3
"""test_pg_ingest.py - PostgreSQL ingest with its rollups (schema steps 8 and 10, sync/collector/
cstore_pg.c, cstore_pg_part.c and the PostgreSQL side of crollup.c) with real collectors on a
real PostgreSQL (tests/support/pgserver.py):

1. A new store is at schema 10: answer_keys (id, ep, seq), ep numbering the device epoch in
   key_epochs; answers without its id index.
2. Customers whose answers span batches, sent in order and out of order (a batch whose middle
   customer was stored by a later batch: the COPY of its new customers fails and the batch is
   folded again with every customer looked up): the rollups equal a raw recount.
3. Two collectors, at the same moment, batches of two devices naming the same customers, and
   two batches of one device (the first round in an epoch new to the store, which both number
   at once: one key_epochs row): every batch accepted, each customer counted once (recount).
4. A store at schema 7 (answer_keys (id, device, epoch, seq, at_ms) with at_ms's index, answers
   with its id index) is migrated on open: the index and column gone, the keys renumbered by
   epoch and intact; retention then drops a month with its keys; the rollups equal the recount.

Stdlib only. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import json
import os
import sys
import threading
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, HERE)
import pgserver  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_token  # noqa: E402
from tap import check as tap  # noqa: E402
import test_analytics as ta  # noqa: E402  (Device, recount, compare)
from test_pg_partitions import keys_matching, orphan_keys, post  # noqa: E402


def shape(query):
    """(answer_keys' columns, the indexes of answers and answer_keys) as sorted lists."""
    cols = [r[0] for r in query("SELECT column_name FROM information_schema.columns"
                                " WHERE table_name = 'answer_keys' ORDER BY 1")]
    idx = [r[0] for r in query("SELECT indexname FROM pg_indexes WHERE tablename IN"
                               " ('answers', 'answer_keys') ORDER BY 1")]
    return cols, idx


def accepted_all(res):
    return all(r and r[0] == 200 and len(r[1].get("accepted", [])) == r[2] for r in res)


def suite(pg, work):
    def query(sql):
        return [tuple(line.split("|")) for line in pg.psql(sql).splitlines() if line]

    url = pg.url
    fleet_cli(url, "node", "set", "vn/hcm", "--settings",
              json.dumps({"timezone": "Asia/Ho_Chi_Minh"}))
    devs = []
    for i in range(3):
        node = "vn/hcm/g-%d/tp-%d" % (i % 2, i)
        fleet_cli(url, "node", "set", node)
        tok = fleet_token(url, "device", "add", "g-%d" % i, "--node", node)
        devs.append(ta.Device("g-%d" % i, tok, "g-%d" % (i % 2), "tp-%d" % i))
    cols, idx = shape(query)
    tap(query("SELECT max(version) FROM schema_version") == [("10",)]
        and cols == ["ep", "id", "seq"] and "answers_id" not in idx
        and "answer_keys_at" not in idx and "answers_at_ms" in idx
        and "answer_keys_ep_seq_key" in idx,
        "a new store is at schema 10: answer_keys (id, ep, seq) unique by (ep, seq), one index on"
        " answers",
        (cols, idx))
    a = synclib.Collector(url, None, work, extra=["--tz", "UTC"], name="ing-a").start()
    b = synclib.Collector(url, None, work, extra=["--tz", "UTC"], name="ing-b").start()
    try:
        # 2. Customers across batch boundaries: a rating in one batch, its follow-up in the next;
        # then three batches sent 1, 3, 2 (batch 2's middle customer is stored by batch 3).
        d0 = devs[0]
        at = ta.ms(2025, 10, 6, 2)
        ans = []
        for i in range(30):
            s = str(uuid.uuid4())
            ans.append(d0.answer(s, "rs", 1, "main", "nps", i % 11, at + i * 60000))
            ans.append(d0.answer(s, "rs", 1, "why", "choice", None, at + i * 60000 + 5000,
                                 "ab"[i % 2]))
        res = []
        for k in range(0, 60, 7):  # odd batch size: every boundary splits a customer
            body = d0.batch(ans[k:k + 7])
            st, rep = post(a, d0, body)
            res.append((st, rep, len(body["answers"])))
        tap(accepted_all(res), "customers split across batches: every batch accepted")
        ta.compare("pg-ingest", "after customers split across batches", query)
        mid = str(uuid.uuid4())
        order = []
        h = 3600000
        for i in range(3):
            s = mid if i in (1, 2) else str(uuid.uuid4())
            order.append([d0.answer(str(uuid.uuid4()), "rs", 1, "main", "nps", 7, at + 9 * h + i),
                          d0.answer(s, "rs", 1, "main", "nps", 3 + i, at + 10 * h + i * 60000),
                          d0.answer(str(uuid.uuid4()), "rs", 1, "main", "nps", 9, at + 11 * h + i)])
        res = [(st, rep, 3) for st, rep in (post(a, d0, d0.batch(order[i])) for i in (0, 2, 1))]
        tap(accepted_all(res), "batches sent out of order, one customer in the middle of two:"
            " every batch accepted", res)
        ta.compare("pg-ingest", "after batches out of order", query)

        # 3. Two collectors at once: devices g-1 and g-2 name the same customers; and two
        # batches of g-0 (its customers going on from one batch into the other).
        ok = []
        d0.epoch = str(uuid.uuid4())  # round 0: both collectors number this new epoch at once
        for r in range(6):
            gate = threading.Barrier(4)
            shared = [str(uuid.uuid4()) for _ in range(12)]
            mine = [str(uuid.uuid4()) for _ in range(8)]
            t0 = ta.ms(2025, 10, 7 + r, 3)
            bodies = []
            for k, dev in enumerate((devs[1], devs[2])):
                bodies.append((a if k == 0 else b, dev, dev.batch(
                    [dev.answer(s, "rs", 1, "main", "nps", (j + k) % 11, t0 + j * 1000 + k)
                     for j, s in enumerate(shared)])))
            first = [d0.answer(s, "rs", 1, "main", "nps", j % 11, t0 + j * 1000)
                     for j, s in enumerate(mine)]
            second = [d0.answer(s, "rs", 1, "why", "choice", None, t0 + j * 1000 + 500, "b")
                      for j, s in enumerate(mine)]
            bodies.append((a, d0, d0.batch(first)))
            bodies.append((b, d0, d0.batch(second)))
            res = [None] * 4

            def go(k, coll, dev, body):
                gate.wait()
                st, rep = post(coll, dev, body)
                res[k] = (st, rep, len(body["answers"]))

            th = [threading.Thread(target=go, args=(k,) + x) for k, x in enumerate(bodies)]
            for t in th:
                t.start()
            for t in th:
                t.join()
            ok.append(accepted_all(res))
        epochs = query("SELECT count(*), count(DISTINCT epoch) FROM key_epochs WHERE device = 'g-0'")
        tap(all(ok) and epochs == [("2", "2")], "two collectors, same customers from two devices"
            " and two batches of one device (a new epoch first) at once: every batch accepted,"
            " the device's two epochs numbered once each", (ok, epochs))
        ta.compare("pg-ingest", "after concurrent batches naming the same customers", query)
    finally:
        rca, rcb = a.stop(), b.stop()
    tap(rca == 0 and rcb == 0, "both collectors stopped cleanly (no leak reported)", (rca, rcb))

    # 4. Back to schema 7's shape, then opened again: steps 8 to 10 run.
    keys = query("SELECT count(*), sum(seq) FROM answer_keys")
    pg.psql("CREATE TABLE answer_keys_7 AS SELECT k.id, e.device, e.epoch, k.seq, a.at_ms"
            "  FROM answer_keys k JOIN key_epochs e USING (ep) JOIN answers a ON a.id = k.id;"
            " DROP TABLE answer_keys; DROP TABLE key_epochs;"
            " ALTER TABLE answer_keys_7 RENAME TO answer_keys;"
            " ALTER TABLE answer_keys ADD PRIMARY KEY (id), ADD UNIQUE (device, epoch, seq),"
            "  ALTER COLUMN at_ms SET NOT NULL;"
            " CREATE INDEX answer_keys_at ON answer_keys(at_ms);"
            " CREATE INDEX answers_id ON answers(id);"
            " DELETE FROM schema_version WHERE version >= 8;")
    fleet_cli(url, "node", "list")
    cols, idx = shape(query)
    same = keys_matching(query)
    tap(query("SELECT max(version) FROM schema_version") == [("10",)]
        and cols == ["ep", "id", "seq"] and "answers_id" not in idx
        and "answer_keys_at" not in idx
        and query("SELECT count(*), sum(seq) FROM answer_keys") == keys
        and same == [(keys[0][0],)],
        "a schema-7 store is migrated on open: at_ms and both indexes gone, the keys intact and"
        " numbered by their answer's device epoch", (cols, idx, keys, same))
    rc, out, err = fleet_cli(url, "retention", "--before", "2025-11-15", check=False)
    orphan = orphan_keys(query)
    left = query("SELECT count(*) FROM answers")
    months = [r[0] for r in query("SELECT c.relname FROM pg_inherits i JOIN pg_class c"
                                  " ON c.oid = i.inhrelid WHERE i.inhparent = 'answers'::regclass")]
    tap(rc == 0 and orphan == [("0",)] and left == [("0",)] and "answers_2025_10" not in months,
        "retention after the migration drops October with its keys (no key left behind)",
        (rc, err, orphan, left, months))
    ta.compare("pg-ingest", "after retention", query)


def main():
    return pgserver.run_suite("tp-pg-ingest-", suite)


if __name__ == "__main__":
    sys.exit(main())
