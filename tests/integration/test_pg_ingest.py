#!/usr/bin/env python3
"""test_pg_ingest.py - PostgreSQL ingest with its rollups (schema steps 8 to 12, sync/collector/
cstore_pg.c, cstore_pg_keys.c, cstore_pg_part.c and the PostgreSQL side of crollup.c) with real
collectors on a real PostgreSQL (tests/support/pgserver.py):

1. A new store is at schema 12: answer_keys (id, ep, seq) with one index, its id; the stored
   seqs of each device epoch (ep, numbered in key_epochs) as ranges in key_ranges; answers
   without its id index; customers (ru_sessions) keyed by a uuid session.
2. Customers whose answers span batches, sent in order and out of order (a batch whose middle
   customer was stored by a later batch: the COPY of its new customers fails and the batch is
   folded again with every customer looked up): the rollups equal a raw recount.
3. Two collectors, at the same moment, batches of two devices naming the same customers, and
   two batches of one device (the first round in an epoch new to the store, which both number
   at once: one key_epochs row): every batch accepted, each customer counted once (recount),
   key_ranges equal to the runs of the stored seqs; then one batch sent to both collectors at
   the same moment: one delivery accepts it, the other finds every answer stored; and two
   batches under the same seqs at once: one stored, the other all seq conflicts.
4. A store at schema 7 (answer_keys (id, device, epoch, seq, at_ms) with at_ms's index, answers
   with its id index, text sessions) is migrated on open: the index and column gone, the keys
   renumbered by epoch and intact, key_ranges made from them, sessions turned into uuids;
   retention then drops a month with its keys and their seqs; the rollups equal the recount.
5. The same 40 random batches (new answers, answers sent again, ids and seqs repeated within a
   batch and against stored ones, in any order) to a SQLite and a PostgreSQL collector: every
   reply names the same answers accepted, duplicate and rejected (PostgreSQL keeps seqs as ranges,
   SQLite a unique index: one rule); key_ranges stay the runs of the stored seqs, and step 12
   run again over an emptied key_ranges makes them again.
6. A collector with one HTTP thread and two batch workers: while device A's batch waits in the
   store (a lock on its epoch's key_epochs row, held by a psql session), device B's batch, on
   another connection of that same thread, is stored and answered; A's is stored once the lock
   goes. Stored inline on the HTTP thread, B would wait for A (this check fails with one worker).
   A read of /v1/report held in the store (read_audit locked), on the same thread: another batch
   is answered meanwhile, the read once the lock goes. Stopped while A's batch is held: a batch
   sent meanwhile is still answered, then A's, and the collector exits cleanly.

Stdlib only. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import copy
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, HERE)
import pgserver  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_token  # noqa: E402
from tap import check as tap  # noqa: E402
import test_analytics as ta  # noqa: E402  (Device, recount, compare)
from test_pg_partitions import key_ranges_exact, keys_matching, orphan_keys, post  # noqa: E402


def shape(query):
    """(answer_keys' columns, the indexes of answers and answer_keys) as sorted lists."""
    cols = [r[0] for r in query("SELECT column_name FROM information_schema.columns"
                                " WHERE table_name = 'answer_keys' ORDER BY 1")]
    idx = [r[0] for r in query("SELECT indexname FROM pg_indexes WHERE tablename IN"
                               " ('answers', 'answer_keys') ORDER BY 1")]
    return cols, idx


def session_type(query):
    """The type of ru_sessions.session ("uuid" since schema 11)."""
    return query("SELECT data_type FROM information_schema.columns WHERE table_name ="
                 " 'ru_sessions' AND column_name = 'session'")[0][0]


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
    tap(query("SELECT max(version) FROM schema_version") == [("12",)]
        and cols == ["ep", "id", "seq"] and idx == ["answer_keys_pkey", "answers_at_ms"]
        and query("SELECT count(*) FROM key_ranges") == [("0",)]
        and session_type(query) == "uuid",
        "a new store is at schema 12: answer_keys (id, ep, seq) keyed by id only, key_ranges,"
        " one index on answers, customers keyed by a uuid session",
        (cols, idx, session_type(query)))
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
        exact = key_ranges_exact(query)
        tap(exact[:2] == ("0", "0"), "key_ranges equals the runs of the stored seqs after the"
            " concurrent batches (%s ranges)" % exact[2], exact)

        # The same batch to both collectors at the same moment (a reply lost, the batch sent
        # again while the first delivery is still being stored): the epoch's key lock makes one
        # delivery store it and the other find every answer stored.
        twice = []
        for r in range(4):
            gate = threading.Barrier(2)
            t0 = ta.ms(2025, 10, 20 + r, 3)
            body = d0.batch([d0.answer(str(uuid.uuid4()), "rs", 1, "main", "nps", j % 11,
                                       t0 + j * 1000) for j in range(30)])
            res = [None, None]

            def both(k, coll):
                gate.wait()
                res[k] = post(coll, d0, body)

            th = [threading.Thread(target=both, args=(k, coll)) for k, coll in enumerate((a, b))]
            for t in th:
                t.start()
            for t in th:
                t.join()
            ids = sorted(x["id"] for x in body["answers"])
            got = sorted((sorted(rep.get("accepted", [])), sorted(rep.get("duplicates", [])))
                         for st, rep in res)
            twice.append(all(st == 200 for st, rep in res) and got == [([], ids), (ids, [])])
        # Two different batches under the same seqs at once (a device whose database was
        # restored and kept its epoch): one is stored, the other is all seq conflicts; with no
        # index on (epoch, seq) only the epoch's key lock keeps the second out.
        clash = []
        for r in range(4):
            gate = threading.Barrier(2)
            t0 = ta.ms(2025, 10, 24 + r, 3)
            first = d0.seq
            bodies = []
            for k in range(2):
                d0.seq = first
                bodies.append(d0.batch([d0.answer(str(uuid.uuid4()), "rs", 1, "main", "nps",
                                                  (j + k) % 11, t0 + j * 1000)
                                        for j in range(20)]))
            res = [None, None]

            def one(k, coll):
                gate.wait()
                res[k] = post(coll, d0, bodies[k])

            th = [threading.Thread(target=one, args=(k, coll)) for k, coll in enumerate((a, b))]
            for t in th:
                t.start()
            for t in th:
                t.join()
            kinds = sorted((len(rep.get("accepted", [])),
                            [x.get("code") for x in rep.get("rejected", [])].count("seq_conflict"))
                           for st, rep in res)
            clash.append(all(st == 200 for st, rep in res) and kinds == [(0, 20), (20, 0)])
        exact = key_ranges_exact(query)
        tap(all(twice) and all(clash) and exact[:2] == ("0", "0"),
            "one batch sent to both collectors at once, four times: one delivery accepts every"
            " answer, the other finds them all stored; two batches under the same seqs at once,"
            " four times: one stored, the other all seq conflicts; key_ranges exact",
            (twice, clash, exact))
        ta.compare("pg-ingest", "after batches delivered twice at once", query)
    finally:
        rca, rcb = a.stop(), b.stop()
    tap(rca == 0 and rcb == 0, "both collectors stopped cleanly (no leak reported)", (rca, rcb))
    held_batch(pg, work, query, devs[1], devs[2], devs[0])

    # 4. Back to schema 7's shape, then opened again: steps 8 to 12 run.
    keys = query("SELECT count(*), sum(seq) FROM answer_keys")
    sessions = query("SELECT count(*), min(session::text), max(session::text) FROM ru_sessions")
    pg.psql("CREATE TABLE answer_keys_7 AS SELECT k.id, e.device, e.epoch, k.seq, a.at_ms"
            "  FROM answer_keys k JOIN key_epochs e USING (ep) JOIN answers a ON a.id = k.id;"
            " DROP TABLE answer_keys; DROP TABLE key_epochs;"
            " DROP TABLE key_ranges; DROP TABLE key_gone;"
            " ALTER TABLE answer_keys_7 RENAME TO answer_keys;"
            " ALTER TABLE answer_keys ADD PRIMARY KEY (id), ADD UNIQUE (device, epoch, seq),"
            "  ALTER COLUMN at_ms SET NOT NULL;"
            " CREATE INDEX answer_keys_at ON answer_keys(at_ms);"
            " CREATE INDEX answers_id ON answers(id);"
            " ALTER TABLE ru_sessions ALTER COLUMN session TYPE text;"
            " DELETE FROM schema_version WHERE version >= 8;")
    fleet_cli(url, "node", "list")
    cols, idx = shape(query)
    same = keys_matching(query)
    after = query("SELECT count(*), min(session::text), max(session::text) FROM ru_sessions")
    exact = key_ranges_exact(query)
    tap(query("SELECT max(version) FROM schema_version") == [("12",)]
        and cols == ["ep", "id", "seq"] and idx == ["answer_keys_pkey", "answers_at_ms"]
        and query("SELECT count(*), sum(seq) FROM answer_keys") == keys
        and same == [(keys[0][0],)] and exact[:2] == ("0", "0")
        and session_type(query) == "uuid" and after == sessions,
        "a schema-7 store is migrated on open: at_ms and the indexes but the id's gone, the keys"
        " intact and numbered by their answer's device epoch, their seqs as ranges, the"
        " customers' text sessions turned into uuids",
        (cols, idx, keys, same, exact, session_type(query), sessions, after))
    ta.compare("pg-ingest", "after the migration", query)
    rc, out, err = fleet_cli(url, "retention", "--before", "2025-11-15", check=False)
    orphan = orphan_keys(query)
    left = query("SELECT count(*) FROM answers")
    months = [r[0] for r in query("SELECT c.relname FROM pg_inherits i JOIN pg_class c"
                                  " ON c.oid = i.inhrelid WHERE i.inhparent = 'answers'::regclass")]
    tap(rc == 0 and orphan == [("0",)] and left == [("0",)] and "answers_2025_10" not in months,
        "retention after the migration drops October with its keys (no key left behind)",
        (rc, err, orphan, left, months))
    exact = key_ranges_exact(query)
    tap(exact == ("0", "0", "0"), "retention gave every removed seq back: key_ranges empty", exact)
    ta.compare("pg-ingest", "after retention", query)

    # 5. The same random batches to SQLite and PostgreSQL.
    parity(pg, work, query)


def hold(pg, sql):
    """A psql session that begins a transaction and runs sql (locks, then one SELECT); returns it
    and the SELECT's output line once the locks are held. release() commits it."""
    p = subprocess.Popen(["psql", pg.url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    p.stdin.write("BEGIN;\n%s\n" % sql)
    p.stdin.flush()
    return p, p.stdout.readline().strip()


def release(p):
    if not p:
        return
    try:
        p.stdin.write("COMMIT;\n")
        p.stdin.close()
    except OSError:
        pass
    p.wait(30)


def held_batch(pg, work, query, da, db, dc):
    """6. One batch held up in the store holds up no other device's batch (collector.c, cwork.c)."""
    c = synclib.Collector(pg.url, None, work, extra=["--tz", "UTC", "--threads", "1",
                                                     "--batch-workers", "2"],
                          name="ing-held").start()
    lock = th_a = th_b = None
    a_held = False
    res = {}
    try:
        t0 = ta.ms(2025, 11, 3, 3)

        def one_batch(dev, k):
            return dev.batch([dev.answer(str(uuid.uuid4()), "rs", 1, "main", "nps", (k + j) % 11,
                                         t0 + k * 60000 + j) for j in range(3)])

        first = post(c, da, one_batch(da, 0))
        ep = query("SELECT ep FROM key_epochs WHERE device = '%s' AND epoch = '%s'"
                   % (da.id, da.epoch))
        lock, held = hold(pg, "SELECT 'held' FROM key_epochs WHERE ep = %s FOR UPDATE;"
                          % ep[0][0])
        body_a, body_b = one_batch(da, 1), one_batch(db, 2)
        th_a = threading.Thread(target=lambda: res.update(a=post(c, da, body_a)))
        th_a.start()
        waiting = False
        for _ in range(200):  # A's batch is in the store, waiting for the lock
            if query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                     " AND query LIKE '%key_epochs%'") == [("1",)]:
                waiting = True
                break
            time.sleep(0.05)
        th_b = threading.Thread(target=lambda: res.update(b=post(c, db, body_b)))
        th_b.start()
        th_b.join(20)
        b_first = not th_b.is_alive() and th_a.is_alive()
        read_checks = held_read(c, pg, query, db, one_batch(db, 4))
        # Stopped while A's batch is still held: the stop waits for the workers, and a batch
        # that arrives meanwhile is still stored and answered.
        c.proc.p.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        res["c"] = post(c, dc, one_batch(dc, 3))
        a_held = th_a.is_alive()
    finally:
        release(lock)
        for th in (th_a, th_b):
            if th:
                th.join(60)
        rc = c.stop()
    ok = [st == 200 and len(rep.get("accepted", [])) == 3
          for st, rep in (first, res.get("a", (0, {})), res.get("b", (0, {})))]
    tap(held == "held" and waiting and b_first and all(ok),
        "one HTTP thread, two batch workers: while device %s's batch waits for its epoch's lock in"
        " the store, device %s's batch on another connection of the same thread is stored and"
        " answered; %s's is stored once the lock goes" % (da.id, db.id, da.id),
        (held, waiting, b_first, ok))
    tap(all(read_checks), "one HTTP thread, one read worker: while a read of /v1/report waits"
        " for its audit row (read_audit locked by a psql session), a batch sent on the same thread"
        " is stored and answered; the read is answered once the lock goes", read_checks)
    st_c, rep_c = res.get("c", (0, {}))
    tap(a_held and st_c == 200 and len(rep_c.get("accepted", [])) == 3 and rc == 0,
        "stopped (SIGTERM) while %s's batch was held: a batch sent meanwhile was stored and"
        " answered, the held one answered once the lock went, and the collector exited cleanly"
        " (no leak reported)" % da.id, (a_held, st_c, rc))


def held_read(c, pg, query, dev, body):
    """A read held in the store (its audit row cannot be written) holds up no batch on its HTTP
    thread. Returns the checks: lock taken, read waiting, batch answered meanwhile, read answered
    after."""
    res = {}
    lock = th = None
    try:
        lock, held = hold(pg, "LOCK TABLE read_audit IN ACCESS EXCLUSIVE MODE; SELECT 'held';")
        held = held == "held"
        th = threading.Thread(target=lambda: res.update(
            r=ta.get(c, "/v1/report?from=2025-11-01&to=2025-11-30&by=day")))
        th.start()
        waiting = False
        for _ in range(200):
            if query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                     " AND query LIKE '%read_audit%'") == [("1",)]:
                waiting = True
                break
            time.sleep(0.05)
        box = {}
        tb = threading.Thread(target=lambda: box.update(b=post(c, dev, body)))
        tb.start()
        tb.join(20)
        st, rep = box.get("b", (0, {}))
        batch_meanwhile = st == 200 and len(rep.get("accepted", [])) == 3 and th.is_alive()
    finally:
        release(lock)
        if th:
            th.join(60)
    read_after = res.get("r", (0, None))[0] == 200
    return held, waiting, batch_meanwhile, read_after


def random_batches(dev, n, seed=14):
    """n batches of dev mixing new answers with answers sent before, their ids under new seqs,
    new ids under used seqs, and repeats inside the batch, shuffled."""
    rng = random.Random(seed)
    sent = []
    out = []
    at = ta.ms(2025, 11, 3, 2)
    for _ in range(n):
        items = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if not sent or r < 0.45:
                a = dev.answer(str(uuid.uuid4()), "rs", 1, "main", "nps", rng.randint(0, 10),
                               at + rng.randint(0, 10 ** 8))
            elif r < 0.6:
                a = copy.deepcopy(rng.choice(sent))  # sent again
            elif r < 0.7:
                a = dict(copy.deepcopy(rng.choice(sent)), seq=dev.seq + 1)  # its id, a new seq
                dev.seq += 1
            elif r < 0.8:
                a = dict(copy.deepcopy(rng.choice(sent)), id=str(uuid.uuid4()))  # a used seq
            elif items and r < 0.88:
                a = copy.deepcopy(rng.choice(items))  # twice in this batch
            elif items and r < 0.94:
                a = dict(copy.deepcopy(rng.choice(items)), id=str(uuid.uuid4()))
            elif items:
                a = dict(copy.deepcopy(rng.choice(items)), seq=dev.seq + 1)
                dev.seq += 1
            else:
                a = copy.deepcopy(rng.choice(sent))
            items.append(a)
        rng.shuffle(items)
        sent.extend(items)
        out.append(dev.batch(items))
    return out


def parity(pg, work, query):
    """Section 5: one device in a SQLite store and in the PostgreSQL store, the same batches."""
    sq_url = "sqlite:" + os.path.join(work, "parity.db")
    devs = {}
    for name, url in (("sqlite", sq_url), ("postgresql", pg.url)):
        fleet_cli(url, "node", "set", "vn/hcm/g-9/tp-9")
        devs[name] = ta.Device("g-9", fleet_token(url, "device", "add", "g-9", "--node",
                                                  "vn/hcm/g-9/tp-9"), "g-9", "tp-9")
    devs["postgresql"].epoch = devs["sqlite"].epoch
    batches = random_batches(devs["sqlite"], 40)
    colls = {name: synclib.Collector(url, None, work, extra=["--tz", "UTC"],
                                     name="parity-" + name).start()
             for name, url in (("sqlite", sq_url), ("postgresql", pg.url))}
    diff = []
    counts = [0, 0, 0]
    try:
        for k, body in enumerate(batches):
            reps = {}
            for name, coll in colls.items():
                st, rep = post(coll, devs[name], body)
                reps[name] = (st, rep.get("accepted"), rep.get("duplicates"),
                              [(r.get("index"), r.get("code")) for r in rep.get("rejected", [])])
            if reps["sqlite"] != reps["postgresql"]:
                diff.append((k, reps))
            st, acc, dup, rej = reps["postgresql"]
            counts = [counts[0] + len(acc or []), counts[1] + len(dup or []),
                      counts[2] + len(rej)]
    finally:
        rcs = [c.stop() for c in colls.values()]
    tap(not diff and rcs == [0, 0] and all(counts),
        "40 random batches to SQLite and PostgreSQL: the same answers accepted (%d), duplicate"
        " (%d) and rejected (%d) in every reply" % tuple(counts), diff[:2])
    exact = key_ranges_exact(query)
    tap(exact[:2] == ("0", "0"), "key_ranges equals the runs of the stored seqs after them (%s"
        " ranges)" % exact[2], exact)
    ta.compare("pg-ingest", "after the random batches", query)
    # A store whose key_ranges went missing (its step 12 rerun) has them made again from the keys.
    pg.psql("DELETE FROM key_ranges; DELETE FROM schema_version WHERE version >= 12")
    fleet_cli(pg.url, "node", "list")
    exact = key_ranges_exact(query)
    tap(exact[:2] == ("0", "0") and exact[2] != "0", "step 12 run again over an empty key_ranges"
        " makes them again from the keys (%s ranges)" % exact[2], exact)


def main():
    return pgserver.run_suite("tp-pg-ingest-", suite)


if __name__ == "__main__":
    sys.exit(main())
