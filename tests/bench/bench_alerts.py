#!/usr/bin/env python3
"""bench_alerts.py - issue 13's ingest figure: batch ingest throughput of a real collector with 20
alert rules active (every answer kind's rules covering the touchpoint, bad ratings that make them
fire, cooldown 0) against the same collector setup with no rules, in the same run. Target: at
least 0.8 x the throughput without rules. Each store is a fresh SQLite file with the same fleet;
4 devices post 500-answer batches concurrently; the two setups alternate for 3 rounds and the
median of each is compared. Also prints how long the evaluator took to drain the queue after the
last batch (not a target). Prints "figure:" lines for tests/bench/run.sh; exit 1 when missed.
"""
import json
import os
import shutil
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import synclib  # noqa: E402
import test_alerts as ta  # noqa: E402  (Store, Device, post, local_ms)

DEVICES, BATCHES, PER_BATCH, ROUNDS = 4, 10, 500, 3

RULES = (
    [("negative_share", ("window_minutes=%d" % w,)) for w in (5, 10, 15, 30, 60)]
    + [("low_score", ("metric=%s" % m, "threshold=%s" % t, "window_minutes=%d" % w))
       for m, t, w in (("nps", "0", 15), ("nps", "20", 60), ("csat", "3", 30), ("ces", "4", 60),
                       ("csat", "4", 15))]
    + [("reason", ("choice=slow", "window_minutes=%d" % w)) for w in (15, 30, 60, 120)]
    + [("praise", ("run=%d" % r,)) for r in (5, 10, 20)]
    + [("device_clock", ()), ("device_disk", ()), ("device_seq_holes", ())])


def setup(work, name, with_rules):
    st = ta.Store("sqlite:" + os.path.join(work, name + ".db"))
    st.cli("node", "set", "vn/hcm/hcm-q1/exit")
    st.cli("node", "set", "vn/hcm/hcm-q1", "--settings",
           json.dumps({"timezone": "Asia/Ho_Chi_Minh"}))
    devs = [ta.Device("b%d" % i, synclib.fleet_token(st.url, "device", "add", "b%d" % i,
                                                      "--node", "vn/hcm/hcm-q1/exit"))
            for i in range(DEVICES)]
    if with_rules:
        for k, (kind, params) in enumerate(RULES):
            st.add_rule("vn/hcm" if k % 2 else "vn/hcm/hcm-q1/exit", kind, *params,
                        endpoints=())
    assert len(RULES) == 20
    c = synclib.Collector(st.url, None, work, name=name).start()
    return st, c, devs


def round_(st, c, devs, day):
    """Posts DEVICES x BATCHES batches concurrently; returns answers per second."""
    t0 = ta.local_ms(ta.HCM, day, 8, 0)
    errors = []

    def send(d):
        try:
            for b in range(BATCHES):
                base = t0 + b * PER_BATCH * 700
                ans = []
                for i in range(PER_BATCH):
                    at = base + i * 700
                    if i % 10 == 9:
                        ans.append(d.answer(at, "slow", "exit", kind="choice"))
                    elif i % 10 == 8:
                        ans.append(d.answer(at, 1 + i % 5, "exit", kind="csat"))
                    elif i % 10 == 7:
                        ans.append(d.answer(at, 1 + i % 7, "exit", kind="ces"))
                    else:
                        ans.append(d.answer(at, (i * 7) % 11, "exit"))
                ta.post(c, d, ans)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            errors.append(repr(e))
    th = [threading.Thread(target=send, args=(d,)) for d in devs]
    start = time.monotonic()
    for t in th:
        t.start()
    for t in th:
        t.join()
    took = time.monotonic() - start
    if errors:
        raise RuntimeError(errors[0])
    q0 = time.monotonic()
    st.settle(timeout=600)
    return DEVICES * BATCHES * PER_BATCH / took, time.monotonic() - q0


def main():
    work = synclib.scratch_dir("tp_bench_alerts_")
    runs = {}
    try:
        for name, rules in (("none", False), ("rules", True)):
            runs[name] = setup(work, name, rules)
        rates = {"none": [], "rules": []}
        drain = []
        for r in range(ROUNDS):
            for name in ("none", "rules"):
                st, c, devs = runs[name]
                rate, d = round_(st, c, devs, 2 + r)
                rates[name].append(rate)
                if name == "rules":
                    drain.append(d)
                print("  round %d %-5s %8.0f answers/s" % (r + 1, name, rate), flush=True)
        n_alerts = runs["rules"][0].one("SELECT count(*) FROM alerts")
        none, rules = statistics.median(rates["none"]), statistics.median(rates["rules"])
        ratio = rules / none
        print("  alerts fired with rules: %s; evaluator drained the queue %.2f s after the last"
              " batch (median)" % (n_alerts, statistics.median(drain)), flush=True)
        print("figure: %.0f answers/s ingest with 20 alert rules (target: >= 0.8 x %.0f without;"
              " ratio/limit: %.2f) %s" % (rules, none, ratio, "met" if ratio >= 0.8 else "MISSED"),
              flush=True)
        return 0 if ratio >= 0.8 else 1
    finally:
        for st, c, _ in runs.values():
            c.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
