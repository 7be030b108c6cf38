#!/usr/bin/env python3
"""test_pg_partitions.py - the answers table of PostgreSQL partitioned by month (schema step 7,
sync/collector/cstore_pg_part.c) with real collectors on a real PostgreSQL
(tests/support/pgserver.py):

1. Answers across three months get one partition per month (nothing in the default partition);
   duplicates and seq conflicts are classified as before (answer_keys holds the ids, key_ranges
   the stored seqs: exactly the runs of the keys' seqs).
2. Two collectors on the same database ingest into new months at the same moment: both succeed,
   each month has one partition and every answer is stored once.
3. Retention drops the partitions of months wholly before the cut, deletes the rest before it
   answer by answer, and the rollups still equal a raw recount (test_analytics.recount); the
   removed seqs leave key_ranges; an answer of a dropped month sent again is stored again (its
   key went with it).
4. A store whose answers table is unpartitioned (as before step 7) is converted on open: same
   answers, same keys, rollups still equal the recount.

Stdlib only. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import json
import os
import sys
import threading
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, HERE)
import pgserver  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_token  # noqa: E402
from tap import check as tap  # noqa: E402
import test_analytics as ta  # noqa: E402  (Device, recount, compare)


def post(c, dev, body):
    """Returns (HTTP status, reply) for one batch."""
    req = urllib.request.Request(c.base + "/v1/batches", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + dev.token})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {}


def customers(dev, n, at0, step_ms):
    """n customers of dev from at0 every step_ms: a rating and one follow-up each."""
    out = []
    for i in range(n):
        s, at = str(uuid.uuid4()), at0 + i * step_ms
        out.append(dev.answer(s, "rs", 1, "main", "nps", i % 11, at))
        out.append(dev.answer(s, "rs", 1, "why", "choice", None, at + 5000, "ab"[i % 2]))
    return out


def partitions(query):
    rows = query("SELECT c.relname, (SELECT count(*) FROM answers a WHERE a.tableoid = c.oid)"
                 " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                 " WHERE i.inhparent = 'answers'::regclass ORDER BY 1")
    return {r[0]: int(r[1]) for r in rows}


def orphan_keys(query):
    """How many answer keys have no answer (retention must take each key with its answer)."""
    return query("SELECT count(*) FROM answer_keys k WHERE NOT EXISTS"
                 " (SELECT 1 FROM answers a WHERE a.id = k.id)")


def keys_matching(query):
    """How many answer keys name their answer's id, device, epoch (through key_epochs) and seq."""
    return query("SELECT count(*) FROM answer_keys k JOIN key_epochs e USING (ep)"
                 " JOIN answers a ON a.id = k.id AND a.device = e.device AND a.epoch = e.epoch"
                 " AND a.seq = k.seq")


def key_ranges_exact(query):
    """key_ranges against the runs of seqs in answer_keys, per device epoch: the rows in one and
    not the other, both ways (schema step 12 keeps them equal through ingest and retention)."""
    runs = ("SELECT ep, min(seq), max(seq) FROM (SELECT ep, seq, seq - row_number() OVER"
            " (PARTITION BY ep ORDER BY seq) AS g FROM answer_keys) t GROUP BY ep, g")
    return query("SELECT (SELECT count(*) FROM (SELECT ep, lo, hi FROM key_ranges EXCEPT %s) x),"
                 " (SELECT count(*) FROM (%s EXCEPT SELECT ep, lo, hi FROM key_ranges) y),"
                 " (SELECT count(*) FROM key_ranges)" % (runs, runs))[0]


def suite(pg, work):
    url = pg.url

    def query(sql):
        return [tuple(line.split("|")) for line in pg.psql(sql).splitlines() if line]

    fleet_cli(url, "node", "set", "vn/hcm", "--settings",
              json.dumps({"timezone": "Asia/Ho_Chi_Minh"}))
    devs = []
    for i in range(4):
        node = "vn/hcm/p-%d/tp-%d" % (i % 2, i)
        fleet_cli(url, "node", "set", node)
        tok = fleet_token(url, "device", "add", "p-%d" % i, "--node", node)
        devs.append(ta.Device("p-%d" % i, tok, "p-%d" % (i % 2), "tp-%d" % i))
    tap(query("SELECT count(*) FROM pg_partitioned_table"
              " WHERE partrelid = 'answers'::regclass") == [("1",)],
        "a new store's answers table is partitioned")
    a = synclib.Collector(url, None, work, extra=["--tz", "UTC"], name="part-a").start()
    b = synclib.Collector(url, None, work, extra=["--tz", "UTC"], name="part-b").start()
    try:
        # 1. Three months (August to October 2025, none made in advance), 40 customers a day
        # apart on each of two devices.
        d0, d1 = devs[0], devs[1]
        sent = []
        for dev in (d0, d1):
            ans = customers(dev, 80, ta.ms(2025, 8, 10, 3), 86400000)
            for k in range(0, len(ans), 20):
                body = dev.batch(ans[k:k + 20])
                st, rep = post(a, dev, body)
                sent.append((dev, body))
                if st != 200 or len(rep.get("accepted", [])) != len(body["answers"]):
                    tap(False, "batch of %s accepted" % dev.id, (st, rep))
        parts = partitions(query)
        months = {n: c for n, c in parts.items() if n.startswith("answers_2025_")}
        tap(sorted(months) == ["answers_2025_08", "answers_2025_09", "answers_2025_10"]
            and sum(months.values()) == 320 and parts.get("answers_default") == 0,
            "answers of three months land in one partition per month, none in the default one",
            parts)
        keys = query("SELECT count(*) FROM answer_keys")[0][0]
        tap(keys == "320", "answer_keys holds one key per answer", keys)
        dev, body = sent[3]
        st, rep = post(b, dev, body)
        tap(st == 200 and sorted(rep["duplicates"]) == sorted(x["id"] for x in body["answers"])
            and not rep["accepted"], "a batch sent again (to the other collector): all duplicates")
        clash = dict(body["answers"][0], id=str(uuid.uuid4()))
        fresh = d0.answer(str(uuid.uuid4()), "rs", 1, "main", "nps", 9, ta.ms(2025, 9, 1, 1))
        st, rep = post(a, dev, dev.batch([clash, fresh]))
        codes = [r.get("code") for r in rep.get("rejected", [])]
        tap(st == 200 and rep["accepted"] == [fresh["id"]] and codes == ["seq_conflict"],
            "a new id under a stored seq: seq_conflict; the new answer beside it accepted",
            (st, rep))
        ta.compare("partitions", "after ingest across three months", query)
        exact = key_ranges_exact(query)
        tap(exact[:2] == ("0", "0") and exact[2] != "0",
            "key_ranges holds exactly the runs of stored seqs (%s ranges)" % exact[2], exact)

        # 2. Two collectors, new months, at the same moment: 6 months x 2 devices, each month's
        # batches sent to both collectors behind one barrier.
        ok = []
        for m in range(1, 7):
            gate = threading.Barrier(2)
            res = [None, None]

            def go(k, coll, dev):
                ans = customers(dev, 10, ta.ms(2024, m, 3, 4), 3600000)
                body = dev.batch(ans)
                gate.wait()
                res[k] = (post(coll, dev, body), len(ans))

            th = [threading.Thread(target=go, args=(0, a, devs[2])),
                  threading.Thread(target=go, args=(1, b, devs[3]))]
            for t in th:
                t.start()
            for t in th:
                t.join()
            ok.append(all(r and r[0][0] == 200 and len(r[0][1]["accepted"]) == r[1]
                          for r in res))
        parts = partitions(query)
        made = {n: c for n, c in parts.items() if n.startswith("answers_2024_")}
        tap(all(ok) and len(made) == 6 and all(c == 40 for c in made.values())
            and parts.get("answers_default") == 0,
            "two collectors ingesting into six new months at once: every batch accepted, one"
            " partition a month with every answer once", (ok, made))
        ta.compare("partitions", "after the concurrent months", query)

        # 3. Retention before 2025-09-15: 2024's months and August 2025 are dropped whole,
        # September's first half goes answer by answer.
        rc, out, err = fleet_cli(url, "retention", "--before", "2025-09-15", check=False)
        res = json.loads(out) if rc == 0 else {}
        parts = partitions(query)
        gone = [n for n in parts if n.startswith("answers_2024_") or n == "answers_2025_08"]
        tap(rc == 0 and not gone and "answers_2025_09" in parts and "answers_2025_10" in parts,
            "retention dropped the partitions of the months wholly before the cut", (rc, err,
                                                                                      parts))
        left = query("SELECT count(*) FROM answers WHERE at_ms < %d" % ta.ms(2025, 9, 14, 17))
        orphan = orphan_keys(query)
        tap(left == [("0",)] and orphan == [("0",)] and res.get("answers", 0) > 0,
            "retention: no answer before the cut left, no key without its answer (%s answers)"
            % res.get("answers"), (left, orphan, res))
        ta.compare("partitions", "after retention", query)
        exact = key_ranges_exact(query)
        tap(exact[:2] == ("0", "0") and query("SELECT count(*) FROM key_gone") == [("0",)],
            "retention gave the removed answers' seqs back: key_ranges equals the runs of the"
            " keys left (cut at both ends of a device's run)", exact)
        dev, body = sent[0]
        st, rep = post(a, dev, body)
        tap(st == 200 and len(rep["accepted"]) == len(body["answers"])
            and "answers_2025_08" in partitions(query),
            "an answer of a dropped month sent again is stored again (its month made anew)",
            (st, rep))
        ta.compare("partitions", "after a dropped month came back", query)
        exact = key_ranges_exact(query)
        tap(exact[:2] == ("0", "0"), "key_ranges exact after the month came back", exact)
    finally:
        rca, rcb = a.stop(), b.stop()
    tap(rca == 0 and rcb == 0, "both collectors stopped cleanly (no leak reported)", (rca, rcb))

    # 4. The same store as before step 7: answers unpartitioned with its own keys.
    before = query("SELECT count(*), sum(seq), count(DISTINCT id) FROM answers")
    pg.psql("CREATE TABLE old_answers AS SELECT * FROM answers;"
            " DROP TABLE answers; DROP TABLE answer_keys; DROP TABLE key_epochs;"
            " DROP TABLE key_ranges; DROP TABLE key_gone;"
            " ALTER TABLE old_answers RENAME TO answers;"
            " ALTER TABLE answers ADD PRIMARY KEY (id), ADD UNIQUE (device, epoch, seq);"
            " CREATE INDEX answers_at ON answers(at_ms);"
            " DELETE FROM schema_version WHERE version >= 7;")
    fleet_cli(url, "node", "list")
    after = query("SELECT count(*), sum(seq), count(DISTINCT id) FROM answers")
    keys = keys_matching(query)
    part = query("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'answers'::regclass")
    exact = key_ranges_exact(query)
    tap(part == [("1",)] and after == before and keys == [(before[0][0],)]
        and partitions(query).get("answers_default") == 0 and exact[:2] == ("0", "0"),
        "an unpartitioned answers table is converted on open: same answers, one key each, the"
        " stored seqs as ranges", (part, before, after, keys, exact))
    ta.compare("partitions", "after the conversion", query)


def main():
    return pgserver.run_suite("tp-partitions-", suite)


if __name__ == "__main__":
    sys.exit(main())
