#!/usr/bin/env python3
"""bench_sync.py - sync performance figures beside the targets of issue 4 section 6.

  1. drain: a device database with a 1,000,000-answer backlog (tests/gen_answers on /dev/shm)
     synced by `touchpoint sync --once` (batch_max 5000, gzip) straight to a local collector with
     a SQLite store: seconds (target <= 30 s).
  2. wire bytes per answer with gzip: a 100,000-answer copy synced through
     tests/support/faultproxy.py with no faults, which counts every byte each way at the HTTP
     level (request line, headers, body; TCP/IP overhead not counted). The request side is judged
     against the target (<= 40 B); both directions are printed too.
  3. collector ingest into SQLite: 40 pre-built gzip batches of 5,000 answers (10 devices, one
     batch of each in turn, as kiosks send them) posted over 4 kept-alive connections: answers/s
     (target >= 50,000/s) and answers per CPU-second of the collector (target >= 50,000).
  4. collector ingest into PostgreSQL (a real server, tests/support/pgserver.py) of the same
     batches, and a raw `COPY` of the same rows into a table of the same shape (LIKE answers
     INCLUDING ALL) just before and just after it on the same server: the ratio collector/COPY
     (against the mean of the two COPYs; target >= 0.5), the median of five such runs.
  5. 500 concurrent devices (asyncio, one kept-alive connection each) each sending 4 batches of
     100 answers: errors (target 0) and the p50/p99 batch latency.
  6. seq ranges (issue 10 item 3): 20 batches of 5,000 answers with seq step 2 (a hole after each
     answer) into SQLite and into PostgreSQL: the slowest ingest of the batches stored (target
     < 1 s each; the ones past the 50,000-range budget are refused 409 and timed too).
  7. flood (issue 10 item 1): 10 devices x 400 answers drained with `sync --once` while 2,000
     sockets from 10 loopback addresses trickle a request head, beside the same drain without
     the flood (target: every device drains, /healthz within 1 s).
Prints `figure: VALUE UNIT what (target: ...; ratio/limit: ...) met|MISSED`. Timing is judged here
only, never in `make test`. Every server started is stopped in finally blocks.
Env: BENCH_DRAIN_N (default 1000000) scales figure 1; BENCH_SYNC_ONLY=drain,ingest,concurrent,
ranges,flood picks parts.
"""

import asyncio
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import faultproxy  # noqa: E402
import synclib  # noqa: E402
import test_collector_limits as limits  # noqa: E402  (its run_* helpers, not its checks)

DRAIN_N = int(os.environ.get("BENCH_DRAIN_N", "1000000"))
WIRE_N = 100000
failures = []


def figure(value, unit, what, target, ratio, met):
    print("figure: %s %s %s (target: %s; ratio/limit: %s) %s"
          % (value, unit, what, target, ratio, "met" if met else "MISSED"), flush=True)
    if not met:
        failures.append(what)


def note(msg):
    print("  " + msg, flush=True)


def proc_cpu_s(pid):
    """CPU seconds (user + system) a running process has used so far, from /proc."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def children_cpu_s():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def load_note():
    try:
        return "load average %.1f on %d cores" % (os.getloadavg()[0], os.cpu_count())
    except OSError:
        return ""


# ---- synthetic batches for the collector-only figures -----------------------------------------

def make_batches(n_devices, per_device, per_batch, seed=7):
    """Returns (devices {id: token}, [(token, gzip body, rows)]) where rows are the answers as
    the collector will store them (for COPY)."""
    import random
    rng = random.Random(seed)
    devices = {}
    batches = []
    kinds = [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7), ("smiley4", 1, 4)]
    for d in range(n_devices):
        dev = "bench-%04d" % d
        token = uuid.UUID(int=rng.getrandbits(128)).hex + uuid.UUID(int=rng.getrandbits(128)).hex
        devices[dev] = token
        epoch = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        boot = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        seq = 0
        t = 1790000000000 + d * 1000
        for _ in range(per_device):
            answers = []
            for _ in range(per_batch):
                seq += 1
                t += rng.randint(1000, 60000)
                k, lo, hi = kinds[seq % 4]
                # Ids as the kiosk makes them (UUIDv7: time first), each answer a customer of its
                # own whose session is named by its first answer's id (storage/store_rec.c).
                aid = str(uuid.UUID(int=(t << 80) | rng.getrandbits(80)))
                answers.append({
                    "id": aid, "seq": seq, "session": aid,
                    "survey": "checkout-nps", "survey_version": 2, "question": "recommend",
                    "kind": k, "value": rng.randint(lo, hi), "choice": None, "lang": "vi",
                    "store": "hcm-01", "touchpoint": "exit", "wall_ms": t, "clock_trusted": True,
                    "mono_ms": 100000 + seq * 1000, "boot_id": boot, "flags": []})
            body = {"protocol": 1, "batch_id": str(uuid.uuid4()),
                    "device": {"id": dev, "epoch": epoch, "epoch_first_seq": 1,
                               "app_version": "bench", "pending": per_batch, "highest_seq": seq,
                               "disk_free": 10 ** 9, "clock_trusted": True, "sent_wall_ms": t,
                               "sent_mono_ms": 100000 + seq * 1000 + 5, "boot_id": boot},
                    "answers": answers}
            batches.append((token, gzip.compress(json.dumps(body).encode(), 6), dev, epoch,
                            answers))
    return devices, batches


def write_devices_file(path, devices):
    """The collector's devices file (PROTOCOL.md section 2: ID SHA256_HEX_OF_TOKEN)."""
    with open(path, "w") as f:
        for dev, tok in devices.items():
            f.write("%s %s\n" % (dev, hashlib.sha256(tok.encode()).hexdigest()))


async def post_batches(port, work, conns):
    """Posts (token, body) items over `conns` kept-alive connections; returns (latencies, errors)."""
    queue = asyncio.Queue()
    for w in work:
        queue.put_nowait(w)
    lat = []
    errors = []

    async def worker():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                st, body, dt = await one_post(reader, writer, item[0], item[1])
                lat.append(dt)
                if st != 200 or b'"ack":"touchpoint-collector"' not in body.replace(b" ", b""):
                    errors.append("%d %r" % (st, body[:120]))
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(conns)))
    return lat, errors


async def one_post(reader, writer, token, body):
    head = ("POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
            "Content-Length: %d\r\n\r\n" % (token, len(body))).encode()
    t0 = time.perf_counter()
    writer.write(head + body)
    await writer.drain()
    status_line = await reader.readline()
    clen = 0
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"", b"\n"):
            break
        if h.lower().startswith(b"content-length:"):
            clen = int(h.split(b":")[1])
    data = await reader.readexactly(clen) if clen else b""
    dt = time.perf_counter() - t0
    parts = status_line.split()
    return (int(parts[1]) if len(parts) > 1 else 0), data, dt


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


# ---- figures --------------------------------------------------------------------------------

def cached_backlog(tmp, name, dev, n, seed, days):
    """A fresh copy of a generated device database. Making 1,000,000 answers takes a minute or
    more (one durable transaction per session, as on the kiosk), so the pristine database is
    kept in $TP_BUILD/bench-cache/ and reused while tests/gen_answers is unchanged."""
    cache = os.path.join(synclib.build_dir(), "bench-cache")
    os.makedirs(cache, exist_ok=True)
    pristine = os.path.join(cache, "%s-%d-%d.db" % (dev, n, seed))
    gen = os.path.join(synclib.build_dir(), "tests", "gen_answers")
    if not os.path.exists(pristine) or os.path.getmtime(pristine) < os.path.getmtime(gen):
        for ext in ("", "-wal", "-shm", ".seqmark", ".tmp", ".tmp-wal", ".tmp.seqmark"):
            if os.path.exists(pristine + ext):
                os.remove(pristine + ext)
        # Made on tmp (/dev/shm: one fsync per session costs nothing there), then kept.
        t0 = time.monotonic()
        fresh = os.path.join(tmp, "fresh-" + name)
        line = synclib.gen_answers(fresh, dev, n, seed=seed, days=days)
        synclib.copy_db(fresh, pristine + ".tmp")
        for ext in ("-wal", ".seqmark", ""):  # the database file last: it marks the copy done
            if os.path.exists(pristine + ".tmp" + ext):
                os.replace(pristine + ".tmp" + ext, pristine + ext)
        for ext in ("", "-wal", "-shm", ".seqmark"):
            if os.path.exists(fresh + ext):
                os.remove(fresh + ext)
        note("made %s in %.1f s: %s" % (os.path.basename(pristine), time.monotonic() - t0, line))
    db = os.path.join(tmp, name)
    synclib.copy_db(pristine, db)
    return db


def bench_drain(tmp):
    db = cached_backlog(tmp, "backlog.db", "drain-01", DRAIN_N, 3, 30)
    wire_db = cached_backlog(tmp, "wire.db", "wire-01", WIRE_N, 4, 5)
    devices_file = os.path.join(tmp, "drain-devices.txt")
    tok = synclib.add_device(devices_file, "drain-01")
    tok2 = synclib.add_device(devices_file, "wire-01")
    col = synclib.Collector("sqlite:" + os.path.join(tmp, "drain-central.db"), devices_file, tmp,
                            extra=["--rate", "1000", "--burst", "1000"], name="drain").start()
    proxy = None
    try:
        conf = synclib.write_device_config(tmp, "drain-01", col.base, tok, batch_max=5000,
                                           db=db)
        with open(conf, "a") as f:
            f.write("batch_max_bytes = 8388608\n")
        col_cpu0 = proc_cpu_s(col.proc.p.pid)
        cli_cpu0 = children_cpu_s()
        t0 = time.perf_counter()
        rc, out = synclib.sync_once(db, conf, timeout=600)
        dt = time.perf_counter() - t0
        cli_cpu = children_cpu_s() - cli_cpu0
        col_cpu = proc_cpu_s(col.proc.p.pid) - col_cpu0
        if rc != 0:
            note("sync --once failed (exit %d): %s" % (rc, out.strip()[-400:]))
        n = count_central(os.path.join(tmp, "drain-central.db"), "drain-01")
        figure("%.1f" % dt, "s", "to drain a %d-answer backlog to a local SQLite collector "
               "(touchpoint sync --once, batch_max 5000, gzip; %d stored; %.0f answers/s)"
               % (DRAIN_N, n, n / dt if dt else 0), "<= 30 s", "%.2f" % (dt / 30.0),
               rc == 0 and n == DRAIN_N and dt <= 30.0)
        note("CPU used: client %.1f s, collector %.1f s (the client waits for each reply, so "
             "on an idle machine the drain takes about their sum); %s"
             % (cli_cpu, col_cpu, load_note()))

        proxy = faultproxy.FaultProxy(("127.0.0.1", col.port), rate=0.0).start()
        conf2 = synclib.write_device_config(tmp, "wire-01", "http://127.0.0.1:%d" % proxy.port,
                                            tok2, batch_max=5000, db=wire_db)
        with open(conf2, "a") as f:
            f.write("batch_max_bytes = 8388608\n")
        rc, out = synclib.sync_once(wire_db, conf2, timeout=300)
        st = proxy.stats()
        if rc != 0:
            note("sync --once through the proxy failed (exit %d): %s" % (rc, out.strip()[-400:]))
        up = st["bytes_from_clients"] / WIRE_N
        both = (st["bytes_from_clients"] + st["bytes_to_clients"]) / WIRE_N
        figure("%.1f" % up, "B/answer", "on the wire client->collector with gzip (%d answers, "
               "%d requests, request headers included)" % (WIRE_N, st["requests"]),
               "<= 40", "%.2f" % (up / 40.0), rc == 0 and up <= 40)
        note("both directions: %.1f B/answer (the reply is not compressed: it lists every "
             "answer id, ~39 B each, PROTOCOL.md section 6)" % both)
    finally:
        if proxy:
            proxy.stop()
        col.stop()


def count_central(path, dev):
    import sqlite3
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM answers WHERE device = ?", (dev,)).fetchone()[0]
    finally:
        con.close()


def ingest(store_url, tmp, name, devices, batches):
    devices_file = os.path.join(tmp, name + "-devices.txt")
    write_devices_file(devices_file, devices)
    col = synclib.Collector(store_url, devices_file, tmp, name=name,
                            extra=["--rate", "100000", "--burst", "100000"]).start()
    try:
        work = [(b[0], b[1]) for b in batches]
        cpu0 = proc_cpu_s(col.proc.p.pid)
        t0 = time.perf_counter()
        lat, errors = asyncio.run(post_batches(col.port, work, 4))
        dt = time.perf_counter() - t0
        cpu = proc_cpu_s(col.proc.p.pid) - cpu0
    finally:
        col.stop()
    n = sum(len(b[4]) for b in batches)
    note("%s: collector used %.1f s CPU for %d answers (%.0f answers per CPU second); %s"
         % (name, cpu, n, n / cpu if cpu > 0 else 0, load_note()))
    return n, dt, cpu, errors


def bench_ingest_sqlite(tmp, devices, batches):
    n, dt, cpu, errors = ingest("sqlite:" + os.path.join(tmp, "ingest.db"), tmp,
                                "ingest-sqlite", devices, batches)
    rate = n / dt
    figure("%.0f" % rate, "answers/s", "collector ingest into SQLite (%d answers in %d gzip "
           "batches of %d over 4 connections, %d errors)" % (n, len(batches), len(batches[0][4]),
                                                             len(errors)),
           ">= 50000/s", "%.2f" % (rate / 50000.0), rate >= 50000 and not errors)
    per_cpu = n / cpu if cpu > 0 else 0
    figure("%.0f" % per_cpu, "answers/CPU-s", "collector ingest into SQLite with the rollups kept in"
           " the batch transaction, per CPU-second of the collector (user + system, %.1f s)" % cpu,
           ">= 50000", "%.2f" % (per_cpu / 50000.0), per_cpu >= 50000 and not errors)
    if errors:
        note("first error: %s" % errors[0])


COPY_COLS = ("id", "device", "epoch", "seq", "session", "survey", "survey_version", "question",
             "kind", "value", "choice", "lang", "store", "touchpoint", "wall_ms", "clock_trusted",
             "mono_ms", "boot_id", "flags", "at_ms", "time_source", "received_at_ms", "batch_id")


PG_RUNS = 5  # runs (a raw COPY, the ingest, a raw COPY again) of the PostgreSQL figure


def psql_run(srv, *commands, stdin=None):
    """Runs psql commands on srv (ON_ERROR_STOP); returns stdout. stdin: a file to send."""
    args = ["psql", srv.url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    for c in commands:
        args += ["-c", c]
    out = subprocess.run(args, stdin=stdin, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError("psql: %s" % out.stderr.strip())
    return out.stdout


def raw_copy_s(srv, table, rows_file):
    """Seconds for a raw `COPY table FROM STDIN` (text, through psql) of rows_file into a new
    table of the answers' shape; raises unless every row went in."""
    psql_run(srv, "CREATE TABLE %s (LIKE answers INCLUDING ALL)" % table)
    with open(rows_file, "rb") as f:
        t0 = time.perf_counter()
        psql_run(srv, "COPY %s (%s) FROM STDIN" % (table, ", ".join(COPY_COLS)), stdin=f)
        dt = time.perf_counter() - t0
    return dt, int(psql_run(srv, "SELECT count(*) FROM %s" % table).strip() or 0)


def pg_rows_file(pgserver, tmp, devices, batches):
    """The rows the collector stores for these batches, as COPY text: one ingest on a server of
    its own, exported (so the raw COPYs copy exactly what ingest stores)."""
    path = os.path.join(tmp, "pg-rows.copy")
    srv = pgserver.PgServer()
    try:
        srv.init().start().create_db()
        ingest(srv.url, tmp, "ingest-pg-rows", devices, batches)
        out = os.path.join(srv.tmp, "rows.copy")
        psql_run(srv, "COPY (SELECT %s FROM answers) TO '%s'" % (", ".join(COPY_COLS), out))
        shutil.copyfile(out, path)
    finally:
        srv.close()
    return path


def ingest_pg_once(pgserver, tmp, devices, batches, rows_file):
    """One run on a new server: a raw COPY of the rows, the collector's ingest of the batches, a
    raw COPY again. This VM's speed drifts by half from one second to the next, so the ingest is
    compared with the mean of the COPYs just before and just after it. Returns (answers/s, COPY
    rows/s, rows copied each time, errors)."""
    srv = pgserver.PgServer()
    try:
        srv.init().start().create_db()
        # answers' shape comes from the collector's schema: make it before the first COPY.
        col = synclib.Collector(srv.url, None, tmp, name="ingest-pg-schema").start()
        col.stop()
        before, n_before = raw_copy_s(srv, "raw_before", rows_file)
        n, dt, _cpu, errors = ingest(srv.url, tmp, "ingest-pg", devices, batches)
        after, n_after = raw_copy_s(srv, "raw_after", rows_file)
        copy_dt = (before + after) / 2
        note("raw COPY %.2f s before and %.2f s after the ingest (%.2f s)" % (before, after, dt))
        return n / dt, n_before / copy_dt, min(n_before, n_after), errors
    finally:
        srv.close()


def bench_ingest_pg(tmp, devices, batches):
    """The ratio of the collector's ingest to a raw COPY of the same rows, each measured beside
    the other in one run; the median of PG_RUNS runs, every run printed."""
    pgserver = synclib.load_pgserver()
    if pgserver is None:
        figure("n/a", "", "collector ingest into PostgreSQL: tests/support/pgserver.py missing",
               ">= 0.5 of COPY", "n/a", False)
        return
    n = sum(len(b[4]) for b in batches)
    rows_file = pg_rows_file(pgserver, tmp, devices, batches)
    runs = []
    for i in range(PG_RUNS):
        rate, copy_rate, copied, errors = ingest_pg_once(pgserver, tmp, devices, batches,
                                                         rows_file)
        runs.append((rate / copy_rate if copy_rate else 0, rate, copy_rate, copied, errors))
        note("run %d: %.0f answers/s vs a raw COPY at %.0f rows/s: %.2f x (%d errors)"
             % (i + 1, rate, copy_rate, runs[-1][0], len(errors)))
        if errors:
            note("first error: %s" % errors[0])
    ratio, rate, copy_rate, copied, errors = sorted(runs)[len(runs) // 2]
    ok = all(r[3] == n and not r[4] for r in runs)
    figure("%.2f" % ratio, "x COPY", "collector ingest into PostgreSQL: %.0f answers/s vs a "
           "raw COPY of the same %d rows at %.0f rows/s (the mean of one just before and one just"
           " after), the median of %d runs (%s)"
           % (rate, copied, copy_rate, PG_RUNS, " / ".join("%.2f" % r[0] for r in runs)),
           ">= 0.5", "%.2f" % (ratio / 0.5), ratio >= 0.5 and ok)


def interleave(batches, per_device):
    """The batches in the order ten kiosks send them: one batch of each device in turn. A kiosk
    sends its next batch after the reply to the last, so two batches of one device are never in
    flight at once (posted device by device, the 4 connections took one device's 4 batches
    together and they queued on that device's rollup rows)."""
    return [b for k in range(per_device) for b in batches[k::per_device]]


def bench_concurrent(tmp):
    n_dev, per_dev, per_batch = 500, 4, 100
    devices, batches = make_batches(n_dev, per_dev, per_batch, seed=11)
    devices_file = os.path.join(tmp, "conc-devices.txt")
    write_devices_file(devices_file, devices)
    col = synclib.Collector("sqlite:" + os.path.join(tmp, "conc.db"), devices_file, tmp,
                            name="concurrent").start()
    try:
        by_dev = {}
        for b in batches:
            by_dev.setdefault(b[2], []).append((b[0], b[1]))

        async def device(items, start, i):
            await start.wait()
            # Each shop's kiosk comes from its own address (the collector limits connections per
            # address: COLLECTOR_CONN_PER_IP), so 500 devices use 200 loopback addresses.
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", col.port, local_addr=("127.0.%d.%d" % (1 + i // 200, 2 + i % 200), 0))
            lat, errs = [], []
            try:
                for tok, body in items:
                    st, data, dt = await one_post(reader, writer, tok, body)
                    lat.append(dt)
                    if st != 200 or b'"ack":"touchpoint-collector"' not in data:
                        errs.append("%d %r" % (st, data[:120]))
            except (OSError, asyncio.IncompleteReadError) as e:
                errs.append("connection: %s" % e)
            finally:
                writer.close()
            return lat, errs

        async def run_all():
            start = asyncio.Event()
            tasks = [asyncio.create_task(device(items, start, i))
                     for i, items in enumerate(by_dev.values())]
            await asyncio.sleep(0.2)
            t0 = time.perf_counter()
            start.set()
            res = await asyncio.gather(*tasks)
            return res, time.perf_counter() - t0

        res, dt = asyncio.run(run_all())
    finally:
        col.stop()
    lat = [x for r in res for x in r[0]]
    errs = [x for r in res for x in r[1]]
    p50, p99 = pct(lat, 50) * 1000, pct(lat, 99) * 1000
    figure("%.0f" % p99, "ms", "p99 batch latency, 500 concurrent devices x %d batches of %d "
           "answers to a SQLite collector (p50 %.0f ms, %d batches in %.1f s, %d errors)"
           % (per_dev, per_batch, p50, len(lat), dt, len(errs)), "no errors; p99 printed",
           "%d errors" % len(errs), not errs and len(lat) == n_dev * per_dev)
    if errs:
        note("first error: %s" % errs[0])


def bench_ranges(tmp):
    pgserver = synclib.load_pgserver()
    srv = pgserver.PgServer() if pgserver and pgserver.available() else None
    try:
        if srv:
            srv.init().start().create_db()
        for label, url in (("SQLite", "sqlite:" + os.path.join(tmp, "ranges.db")),
                           ("PostgreSQL", srv.url if srv else None)):
            if not url:
                figure("n/a", "", "seq-range ingest into PostgreSQL: no server", "< 1 s", "n/a",
                       False)
                continue
            r = limits.run_ranges(tmp, label.lower(), url)
            stored = [t for t, st in zip(r["times"], r["statuses"]) if st == 200]
            refused = [t for t, st in zip(r["times"], r["statuses"]) if st == 409]
            worst = max(stored or [0.0])
            figure("%.2f" % worst, "s", "slowest ingest of 5,000 answers with seq step 2 into %s "
                   "(%d stored: %s s; %d refused 409 at the range budget, slowest %.2f s; another "
                   "device's batch meanwhile %.2f s)"
                   % (label, len(stored), " ".join("%.2f" % t for t in stored), len(refused),
                      max(refused or [0.0]), r["honest"][1] if r["honest"] else -1),
                   "< 1 s", "%.2f" % worst, bool(stored) and worst < 1.0)
    finally:
        if srv:
            srv.close()


def bench_flood(tmp):
    calm = limits.run_flood(tmp, "calm", 0)
    hard = limits.run_flood(tmp, "flood", 2000)
    t_calm = max(x[1] for x in calm["res"])
    t_hard = max(x[1] for x in hard["res"])
    bad, slowest, probes = hard["probe"].worst()
    ok = (all(x[0] == 0 for x in calm["res"] + hard["res"]) and not hard["pending"]
          and bad == 0 and slowest < 1.0)
    figure("%.1f" % t_hard, "s", "10 devices x 400 answers drained under 2,000 trickling sockets "
           "from 10 addresses, beside %.1f s without the flood (/healthz: %d probes, %d failed, "
           "slowest %.3f s)" % (t_calm, probes, bad, slowest),
           "every device drains, /healthz < 1 s", "%.2f x calm" % (t_hard / t_calm if t_calm else 0),
           ok)


def main():
    build = synclib.build_dir()
    for p in ("touchpoint", "touchpoint-collector", "tests/gen_answers"):
        if not os.access(os.path.join(build, p), os.X_OK):
            print("bench_sync: %s/%s is not built" % (build, p))
            return 1
    tmp = synclib.scratch_dir("tp-bench-sync-")
    only = os.environ.get("BENCH_SYNC_ONLY", "")
    crashed = False
    try:
        for name, fn in (("drain", lambda: bench_drain(tmp)),
                         ("ingest", None), ("concurrent", lambda: bench_concurrent(tmp)),
                         ("ranges", lambda: bench_ranges(tmp)),
                         ("flood", lambda: bench_flood(tmp))):
            if only and name not in only.split(","):
                continue
            try:
                if name == "ingest":
                    devices, batches = make_batches(10, 4, 5000)
                    batches = interleave(batches, 4)
                    bench_ingest_sqlite(tmp, devices, batches)
                    bench_ingest_pg(tmp, devices, batches)
                else:
                    fn()
            except Exception as e:
                print("bench_sync: %s failed: %s: %s" % (name, type(e).__name__, e), flush=True)
                crashed = True
    finally:
        subprocess.run(["rm", "-rf", tmp])
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
