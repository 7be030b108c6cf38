#!/usr/bin/env python3
"""test_sync_e2e.py - end-to-end sync through a fault-injecting proxy, against both central stores.

Ten device databases with 10,000 answers each (tests/gen_answers; 1,500 each in an ASan build)
are registered with `touchpoint-collector add-device` and sync with `touchpoint --db DB sync
--config CONF --once`, run again and again (two devices run `sync --daemon` instead),
through tests/support/faultproxy.py (connections cut
mid-request and mid-reply, 500 and 503 with Retry-After, delays, truncated replies, batches
delivered twice, captive-portal pages) to a real collector on a free loopback port, until every
run ends acknowledged. Meanwhile the collector is SIGKILLed once mid-drain and restarted on the
same port, and the first sync runs of three devices are SIGKILLed mid-run. Then, for the SQLite
store and for a real PostgreSQL server
(tests/support/pgserver.py):
  - the central store holds every answer exactly once, each row equal field by field to the
    device's answer (id, seq, session, survey, question, kind, value, choice, lang, store,
    touchpoint, both clocks, boot, flags);
  - GET /v1/devices reports no gaps and every seq received;
  - every device database shows every answer synced, none rejected, and `touchpoint check` agrees;
  - the proxy really injected each kind of fault, and the collector really saw duplicates;
  - the clock rule held: trusted answers keep their time, untrusted ones from this boot were
    corrected to about when they were made, untrusted ones from older boots are "uncorrected".
Every process is stopped in finally blocks. Prints TAP lines.
"""

import concurrent.futures
import os
import sqlite3
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import faultproxy  # noqa: E402
import synclib  # noqa: E402
from tap import check as tap, failed as _failed  # noqa: E402

N_DEV = 10
ASAN = synclib.is_asan()
N_ANS = 1500 if ASAN else 10000
BATCH_MAX = 250 if ASAN else 500
TAIL = 100                # answers per device recorded "this boot, clock unset"
DRAIN_TIMEOUT = 240 if ASAN else 120
FAULT_RATE = 0.3
SEED = 20261123


def dev_id(i):
    return "e2e-%02d" % (i + 1)


def make_templates(tmp):
    """Generates the ten device databases once; each store run works on copies."""
    t0 = time.monotonic()
    gen_wall = time.time() * 1000
    paths = {}

    def one(i):
        db = os.path.join(tmp, "tpl-%s.db" % dev_id(i))
        synclib.gen_answers(db, dev_id(i), N_ANS, seed=100 + i, days=6, tail=TAIL)
        return i, db

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for i, db in ex.map(one, range(N_DEV)):
            paths[i] = db
    return paths, gen_wall, time.monotonic() - t0


# ---- central store readers -----------------------------------------------------------------

COLS = ("id", "device", "seq", "session", "survey", "survey_version", "question", "kind", "value",
        "choice", "lang", "store", "touchpoint", "wall_ms", "clock_trusted", "mono_ms", "boot_id",
        "flags", "at_ms", "time_source")


def norm_row(r):
    """A central row as strings comparable with the device dump."""
    d = dict(zip(COLS, ["" if v is None else str(v) for v in r]))
    ct = d["clock_trusted"].lower()
    d["clock_trusted"] = "1" if ct in ("1", "t", "true") else "0"
    return d


def read_sqlite(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        return [norm_row(r) for r in con.execute("SELECT %s FROM answers" % ", ".join(COLS))]
    finally:
        con.close()


def read_pg(url):
    sql = "SELECT %s FROM answers" % ", ".join(COLS)
    r = subprocess.run(["psql", url, "-X", "-q", "-A", "-t", "-F", "\t", "-v",
                        "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr.strip())
    return [norm_row(line.split("\t")) for line in r.stdout.splitlines() if line]


# ---- one store -----------------------------------------------------------------------------

KILLED_DEVICES = 3        # devices whose first sync runs are SIGKILLed mid-run
KILLS_EACH = 2
DAEMON_DEVICES = 2        # the last devices run `sync --daemon` instead of repeated --once


def pending_count(db):
    """Pending answers of a device database, or -1 when it cannot be read just now (busy)."""
    try:
        return sum(1 for a in synclib.dump_answers(db) if a["state"] == "pending")
    except RuntimeError:
        return -1


def drive_daemon(i, db, conf, deadline, results, workdir):
    """Runs `sync --daemon` until the device database has nothing pending, then SIGTERMs it: it
    must drain through the faults with its own backoff and Retry-After handling, and exit 0."""
    exe = os.path.join(synclib.build_dir(), "touchpoint")
    proc = synclib.Proc([exe, "--db", db, "sync", "--config", conf, "--daemon"],
                        os.path.join(workdir, dev_id(i) + "-daemon.log"))
    left = -1
    try:
        while time.monotonic() < deadline and proc.alive():
            time.sleep(1.0)
            left = pending_count(db)
            if left == 0:
                break
    finally:
        rc = proc.stop()
    ok = left == 0 and rc == 0
    results[i] = {"ok": ok, "runs": 1, "fails": 0, "kills": 0, "daemon_rc": rc,
                  "last": "daemon exit %s, %d pending; log: %s" % (rc, left, proc.tail(5))}


def drive_device(i, db, conf, deadline, results, proxy):
    """Runs `sync --once` until one run ends acknowledged (exit 0) or the deadline passes. The
    first KILLS_EACH runs of the first KILLED_DEVICES devices are SIGKILLed at the worst moment
    (a power cut mid-batch): the collector has stored a batch and the proxy holds its reply back,
    so the device never hears the acknowledgement and must resend it as a duplicate."""
    runs = fails = kills = 0
    last = ""
    if i < KILLED_DEVICES:
        for _ in range(KILLS_EACH):
            held = proxy.hold_next(dev_id(i))
            rc = synclib.sync_once_killed(db, conf, 60, held=held)
            runs += 1
            kills += rc == -9
    while time.monotonic() < deadline:
        rc, out = synclib.sync_once(db, conf, timeout=max(5, int(deadline - time.monotonic())))
        runs += 1
        if rc == 0:
            results[i] = {"ok": True, "runs": runs, "fails": fails, "last": out, "kills": kills}
            return
        fails += 1
        last = out
        if rc < 0 or "Sanitizer" in out:  # a crash or a sanitizer report: no point retrying
            break
        time.sleep(0.05)
    results[i] = {"ok": False, "runs": runs, "fails": fails, "last": last, "kills": kills}


def crash_collector(collector, proxy, done, out):
    """Once the collector has acknowledged a few batches, SIGKILLs it and restarts it on the same
    port (the proxy answers 502 meanwhile): what it acknowledged must have been committed."""
    def due():  # after the held batches, so a restart never races a kill
        st = proxy.stats()
        return st["batch_requests_ok"] >= 2 * N_DEV and st["held"] >= KILLED_DEVICES * KILLS_EACH
    while not done.is_set() and not due():
        time.sleep(0.05)
    if done.is_set():
        return
    try:
        out["killed"] = collector.crash_and_restart()
        out["at_ok_batches"] = proxy.stats()["batch_requests_ok"]
    except Exception as e:  # reported by the caller
        out["error"] = "%s: %s" % (type(e).__name__, e)


def gaps_of(dev):
    """Collects gap ranges from a /v1/devices entry, wherever the collector puts them (at the
    device or per epoch)."""
    gaps = list(dev.get("gaps") or [])
    for ep in dev.get("epochs") or []:
        gaps += list(ep.get("gaps") or [])
    return gaps


def max_received(dev):
    vals = []
    for k in ("max_received_seq", "received_max_seq", "max_seq_received"):
        if isinstance(dev.get(k), int):
            vals.append(dev[k])
    for ep in dev.get("epochs") or []:
        for k in ("received_max", "max_received_seq", "received_max_seq", "max_received"):
            if isinstance(ep.get(k), int):
                vals.append(ep[k])
        for r in ep.get("received") or ep.get("ranges") or []:
            if isinstance(r, list) and len(r) == 2:
                vals.append(r[1])
    return max(vals) if vals else None


def run_store(kind, tmp, templates, gen_wall, make_store):
    """One full run against one store kind. make_store(workdir) returns (url, reader, stopper)."""
    workdir = os.path.join(tmp, kind)
    os.makedirs(workdir)
    stop_store = None
    collector = None
    proxy = None
    try:
        store_url, reader, stop_store = make_store(workdir)
        devices_file = os.path.join(workdir, "devices.txt")
        tokens = {}
        for i in range(N_DEV):
            tokens[i] = synclib.add_device(devices_file, dev_id(i))
        collector = synclib.Collector(store_url, devices_file, workdir).start()
        proxy = faultproxy.FaultProxy(
            ("127.0.0.1", collector.port), seed=SEED, rate=FAULT_RATE, force_first=True,
            delay_ms=(100, 800),
            key_map={"Bearer " + tokens[i]: dev_id(i) for i in range(N_DEV)}).start()
        url = "http://127.0.0.1:%d" % proxy.port
        dbs, confs = {}, {}
        for i in range(N_DEV):
            dbs[i] = os.path.join(workdir, dev_id(i) + ".db")
            synclib.copy_db(templates[i], dbs[i])
            confs[i] = synclib.write_device_config(workdir, dev_id(i), url, tokens[i],
                                                   batch_max=BATCH_MAX, db=dbs[i])

        # 1. Drain every device through the proxy.
        t0 = time.monotonic()
        deadline = t0 + DRAIN_TIMEOUT
        results = {}
        crash = {}
        done = threading.Event()
        crasher = threading.Thread(target=crash_collector, args=(collector, proxy, done, crash))
        crasher.start()
        threads = [threading.Thread(target=drive_device, args=(i, dbs[i], confs[i], deadline,
                                                               results, proxy))
                   for i in range(N_DEV - DAEMON_DEVICES)]
        threads += [threading.Thread(target=drive_daemon, args=(i, dbs[i], confs[i], deadline,
                                                                results, workdir))
                    for i in range(N_DEV - DAEMON_DEVICES, N_DEV)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        crasher.join()
        took = time.monotonic() - t0
        sync_end_wall = time.time() * 1000
        runs = sum(r["runs"] for r in results.values())
        fails = sum(r["fails"] for r in results.values())
        stuck = [dev_id(i) for i in range(N_DEV) if not results.get(i, {}).get("ok")]
        detail = ""
        if stuck:
            i = int(stuck[0][-2:]) - 1
            detail = "; %s last said: %s" % (stuck[0], results[i]["last"].strip()[-300:])
        kills = sum(r.get("kills", 0) for r in results.values())
        tap(not stuck, "%s: %d devices x %d answers synced through the fault proxy in %.1f s "
            "(%d devices by `sync --once` run again and again: %d runs, %d ended in a failure, "
            "%d SIGKILLed mid-run; %d by `sync --daemon`, which exited 0 on SIGTERM)%s%s"
            % (kind, N_DEV, N_ANS, took, N_DEV - DAEMON_DEVICES,
               runs - DAEMON_DEVICES, fails, kills, DAEMON_DEVICES,
               " (scaled down from 10,000 for the ASan build)" if ASAN else "",
               "; not drained: %s%s" % (" ".join(stuck), detail) if stuck else ""))

        tap(crash.get("killed") == -9 and kills == KILLED_DEVICES * KILLS_EACH,
            "%s: collector SIGKILLed mid-drain after %s acknowledged batches and restarted on "
            "the same port; %d device sync runs SIGKILLed mid-run%s"
            % (kind, crash.get("at_ok_batches"), kills,
               "; " + crash["error"] if "error" in crash else
               "" if "killed" in crash else "; the crash never happened"))

        # 2. The proxy really did each kind of fault.
        st = proxy.stats()
        missing = [k for k in faultproxy.KINDS if st["faults"][k] < 1]
        tap(not missing, "%s: proxy injected every fault kind: %s (%d requests, %d passed)%s"
            % (kind, ", ".join("%s %d" % (k, st["faults"][k]) for k in faultproxy.KINDS),
               st["requests"], st["passed"], "; never: " + " ".join(missing) if missing else ""))

        # 3. GET /v1/devices: no gaps, every seq received.
        devs = collector.get_json("/v1/devices")
        devlist = devs.get("devices", devs) if isinstance(devs, dict) else devs
        by_id = {d.get("id") or d.get("device"): d for d in devlist}
        bad = []
        for i in range(N_DEV):
            d = by_id.get(dev_id(i))
            if d is None:
                bad.append("%s missing" % dev_id(i))
                continue
            g = gaps_of(d)
            mr = max_received(d)
            if g or d.get("has_gaps") or d.get("missing"):
                bad.append("%s gaps %s (missing %s)" % (dev_id(i), g[:3], d.get("missing")))
            if mr is not None and mr != N_ANS:
                bad.append("%s max received seq %s" % (dev_id(i), mr))
            if d.get("highest_seq") not in (None, N_ANS):
                bad.append("%s highest_seq %s" % (dev_id(i), d.get("highest_seq")))
        tap(not bad, "%s: GET /v1/devices lists all %d devices with no gaps and highest seq %d%s"
            % (kind, N_DEV, N_ANS, "; " + "; ".join(bad[:5]) if bad else ""))

        # 4. Duplicates were really exercised (lost replies, double deliveries).
        m = collector.metrics()
        dups = sum(v for k, v in m.items() if "duplicate" in k and not k.endswith("_created"))
        tap(dups > 0, "%s: collector counted %d duplicate answers (redeliveries were absorbed)"
            % (kind, dups))

        collector_rc = collector.stop()
        collector = None
        tap(collector_rc == 0, "%s: collector stopped cleanly on SIGTERM (exit %s)"
            % (kind, collector_rc))

        # 5. Exactly once, field by field.
        rows = reader()
        central = {}
        dup_ids = 0
        for r in rows:
            if r["id"] in central:
                dup_ids += 1
            central[r["id"]] = r
        mismatch = []
        not_synced = []
        n_dev_answers = 0
        dumps = {}
        for i in range(N_DEV):
            dump = synclib.dump_answers(dbs[i])
            dumps[i] = dump
            n_dev_answers += len(dump)
            for a in dump:
                if a["state"] != "synced":
                    not_synced.append("%s seq %s %s" % (dev_id(i), a["seq"], a["state"]))
                c = central.get(a["id"])
                if c is None:
                    mismatch.append("%s seq %s missing" % (dev_id(i), a["seq"]))
                    continue
                if c["device"] != dev_id(i):
                    mismatch.append("%s seq %s stored for device %s" % (dev_id(i), a["seq"],
                                                                         c["device"]))
                for f in ("seq", "session", "survey", "survey_version", "question", "kind",
                          "value", "choice", "lang", "store", "touchpoint", "wall_ms",
                          "clock_trusted", "mono_ms", "boot_id", "flags"):
                    if c[f] != a[f]:
                        mismatch.append("%s seq %s field %s: device %r central %r"
                                        % (dev_id(i), a["seq"], f, a[f], c[f]))
                        break
        extra = len(central) - sum(1 for i in range(N_DEV) for a in dumps[i] if a["id"] in central)
        tap(len(rows) == N_DEV * N_ANS and dup_ids == 0 and n_dev_answers == N_DEV * N_ANS and
            not mismatch and extra == 0,
            "%s: central store holds %d rows = %d answers, each exactly once and equal field by "
            "field to the device's (%d duplicate ids, %d not from a device)%s"
            % (kind, len(rows), N_DEV * N_ANS, dup_ids, extra,
               "; " + "; ".join(mismatch[:4]) if mismatch else ""))

        # 6. Every device database shows everything synced, and `touchpoint check` agrees.
        check_bad = []
        for i in range(N_DEV):
            r = subprocess.run([os.path.join(synclib.build_dir(), "touchpoint"), "--db", dbs[i],
                                "check"], capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                check_bad.append("%s: exit %d: %s" % (dev_id(i), r.returncode,
                                                     (r.stdout + r.stderr).strip()[-200:]))
        tap(not not_synced and not check_bad,
            "%s: every device database shows all %d answers synced (none pending or rejected) "
            "and `touchpoint check` passes%s"
            % (kind, N_ANS, "; " + "; ".join((not_synced + check_bad)[:4]) if not_synced or
               check_bad else ""))

        # 7. The clock rule on real data.
        wrong = []
        counts = {"device": 0, "corrected": 0, "uncorrected": 0}
        for i in range(N_DEV):
            tail_from = N_ANS - TAIL + 1
            for a in dumps[i]:
                c = central.get(a["id"])
                if c is None:
                    continue
                ts = c["time_source"]
                counts[ts] = counts.get(ts, 0) + 1
                seq = int(a["seq"])
                if a["clock_trusted"] == "1":
                    ok = ts == "device" and c["at_ms"] == a["wall_ms"]
                elif seq >= tail_from:
                    # Recorded during this boot with a clock stuck in 2000: corrected to about
                    # when gen_answers ran (a few minutes before it at most), never later than
                    # the sync.
                    at = int(c["at_ms"])
                    ok = (ts == "corrected" and gen_wall - 3600e3 <= at <= sync_end_wall + 5e3)
                else:
                    ok = ts == "uncorrected" and c["at_ms"] == a["wall_ms"]
                if not ok:
                    wrong.append("%s seq %s trusted=%s -> %s at %s (wall %s)"
                                 % (dev_id(i), a["seq"], a["clock_trusted"], ts, c["at_ms"],
                                    a["wall_ms"]))
        tap(not wrong and counts["corrected"] == N_DEV * TAIL and counts["uncorrected"] > 0,
            "%s: clock rule: %d answers kept device time, %d from this boot with an unset clock "
            "were corrected to the time they were made, %d from older untrusted boots stored "
            "uncorrected%s" % (kind, counts["device"], counts["corrected"],
                               counts["uncorrected"], "; " + "; ".join(wrong[:3]) if wrong
                               else ""))
    except Exception as e:  # a harness failure is a test failure, with its cause
        tap(False, "%s: end-to-end run failed: %s: %s" % (kind, type(e).__name__, e))
        traceback.print_exc(file=sys.stdout)
    finally:
        if proxy is not None:
            proxy.stop()
        if collector is not None:
            collector.stop()
        if stop_store is not None:
            stop_store()


def sqlite_store(workdir):
    path = os.path.join(workdir, "central.db")
    return "sqlite:" + path, lambda: read_sqlite(path), None


def pg_store_factory(pgserver):
    def make(workdir):
        srv = pgserver.PgServer()
        try:
            srv.init().start().create_db()
        except Exception:
            srv.close()
            raise
        url = srv.url
        return url, lambda: read_pg(url), srv.close
    return make


def main():
    tmp = synclib.scratch_dir("tp-e2e-")
    try:
        build = synclib.build_dir()
        need = [os.path.join(build, "touchpoint"), os.path.join(build, "touchpoint-collector"),
                os.path.join(build, "tests", "gen_answers")]
        absent = [p for p in need if not os.access(p, os.X_OK)]
        if absent:
            tap(False, "programs not built: %s" % " ".join(absent))
            return 1
        templates, gen_wall, took = make_templates(tmp)
        tap(True, "made %d device databases of %d answers each (%d from this boot with an unset "
            "clock) in %.1f s" % (N_DEV, N_ANS, TAIL, took))
        run_store("sqlite", tmp, templates, gen_wall, sqlite_store)
        pgserver = synclib.load_pgserver()
        if pgserver is None:
            tap(False, "postgresql: tests/support/pgserver.py is missing (the collector helper's "
                "PostgreSQL harness), so the PostgreSQL run could not start")
        else:
            run_store("postgresql", tmp, templates, gen_wall, pg_store_factory(pgserver))
    finally:
        subprocess.run(["rm", "-rf", tmp])
    return 1 if _failed else 0


if __name__ == "__main__":
    sys.exit(main())
