#!/usr/bin/env python3
"""test_alerts.py - alert rules (issue 13) with a real touchpoint-collector and real batches over
HTTP, on SQLite and on a real PostgreSQL (tests/support/pgserver.py): each kind fires exactly when
it should and not below its thresholds (3 answers never trip low_score), a window's boundaries in
the store's time zone across midnight (Asia/Ho_Chi_Minh and Europe/Berlin, checked against
Python's zoneinfo), a flood of 10,000 bad ratings raises one alert per rule window, queue rows
survive a SIGKILL and are evaluated after the restart, two collectors on one PostgreSQL raise one
alert per window; each alert comes with its open case, its "open" event and one outbox row per
endpoint carrying the canonical payload. Prints TAP lines.
"""
import datetime
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import zoneinfo

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import synclib  # noqa: E402
from tap import check as tap, count as N, failed as FAILED  # noqa: E402

BOOT = "0b0b0b0b-0000-4000-8000-0000000000a1"
HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
FAST = ["--alert-interval-ms", "100", "--alert-health-ms", "200",
        "--public-url", "https://cx.example/tp/"]


def uid():
    return str(uuid.uuid4())


def local_ms(tz, days_ago, hh, mm, ss=0):
    """UTC ms of hh:mm:ss local time (tz) days_ago days before today."""
    today = datetime.datetime.now(tz).date() - datetime.timedelta(days=days_ago)
    return int(datetime.datetime(today.year, today.month, today.day, hh, mm, ss,
                                 tzinfo=tz).timestamp() * 1000)


class Store:
    """The central store under test: SQL through sqlite3 or psql, the CLI through synclib."""

    def __init__(self, url, pg=None):
        self.url, self.pg = url, pg

    def q(self, sql, *params):
        if self.pg:
            for p in params:  # psql -c has no parameters: the test's own literals only
                sql = sql.replace("?", "'%s'" % str(p).replace("'", "''"), 1)
            out = self.pg.psql(sql)
            return [tuple(line.split("|")) for line in out.splitlines() if line]
        with sqlite3.connect(self.url[len("sqlite:"):], timeout=30) as db:
            return [tuple("" if v is None else str(v) for v in row)
                    for row in db.execute(sql, params).fetchall()]

    def one(self, sql, *params):
        rows = self.q(sql, *params)
        return rows[0][0] if rows else None

    def cli(self, *args, check=True):
        return synclib.fleet_cli(self.url, *args, check=check)

    def add_rule(self, node, kind, *params, cooldown=0, endpoints=("ops",)):
        args = ["alert", "add", "--node", node, "--kind", kind, "--name-vi", "Cảnh báo " + kind,
                "--name-en", "Alert " + kind, "--cooldown", str(cooldown)]
        for p in params:
            args += ["--param", p]
        for e in endpoints:
            args += ["--endpoint", e]
        return json.loads(self.cli(*args)[1])["id"]

    def alerts(self, rule):
        return self.q("SELECT id, store, touchpoint, device, window_from_ms, window_to_ms,"
                      " numbers_json FROM alerts WHERE rule_id = ? ORDER BY window_from_ms", rule)

    def settle(self, timeout=60):
        """Waits until the evaluator has emptied the queue (its transaction committed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.one("SELECT count(*) FROM alert_queue") == "0":
                return True
            time.sleep(0.05)
        return False


class Device:
    def __init__(self, dev_id, token):
        self.id, self.token, self.epoch, self.seq = dev_id, token, uid(), 0

    def answer(self, at_ms, value, touchpoint, kind="nps", store="hcm-q1", seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        return {"id": uid(), "seq": seq, "session": uid(), "survey": "checkout-nps",
                "survey_version": 1, "question": "why" if kind == "choice" else "recommend",
                "kind": kind, "value": None if kind == "choice" else value,
                "choice": value if kind == "choice" else None, "lang": "vi", "store": store,
                "touchpoint": touchpoint, "wall_ms": at_ms, "clock_trusted": True,
                "mono_ms": 1000, "boot_id": BOOT, "flags": []}

    def batch(self, answers, **over):
        d = {"id": self.id, "epoch": self.epoch, "epoch_first_seq": 1, "app_version": "0.1.0",
             "pending": 0, "highest_seq": max([self.seq] + [a["seq"] for a in answers]),
             "disk_free": 5_000_000_000, "clock_trusted": True,
             "sent_wall_ms": int(time.time() * 1000), "sent_mono_ms": 100000, "boot_id": BOOT}
        d.update(over)
        return {"protocol": 1, "batch_id": uid(), "device": d, "answers": answers}


def post(c, dev, answers, **over):
    body = json.dumps(dev.batch(answers, **over)).encode()
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=120)
    try:
        conn.request("POST", "/v1/batches", body=body,
                     headers={"Content-Type": "application/json",
                              "Authorization": "Bearer " + dev.token})
        r = conn.getresponse()
        out = r.read()
        if r.status != 200:
            raise RuntimeError("batch: %d %r" % (r.status, out[:300]))
        return json.loads(out)
    finally:
        conn.close()


def rate(c, dev, tp, times_values, kind="nps", store="hcm-q1", **over):
    return post(c, dev, [dev.answer(t, v, tp, kind=kind, store=store) for t, v in times_values],
                **over)


# ---- the fleet and the collector ----------------------------------------------------------------

TOUCHPOINTS = ("ns", "ls", "lc", "rs", "pr", "mn", "fl", "kl", "two", "cd")


def setup_fleet(st):
    """Region vn/hcm with stores hcm-q1 (Asia/Ho_Chi_Minh) and de/be/ber-1 (Europe/Berlin); one
    device per store; the endpoint "ops" (a row of the deliver engineer's table)."""
    for tp in TOUCHPOINTS:
        st.cli("node", "set", "vn/hcm/hcm-q1/" + tp)
    st.cli("node", "set", "vn/hcm/hcm-q1", "--settings", json.dumps({"timezone": "Asia/Ho_Chi_Minh"}))
    st.cli("node", "set", "de/be/ber-1/mn")
    st.cli("node", "set", "de/be/ber-1", "--settings", json.dumps({"timezone": "Europe/Berlin"}))
    st.cli("node", "set", "vn/hcm/hcm-q2/door")
    st.cli("node", "set", "vn/hcm/hcm-q2", "--settings", json.dumps(
        {"timezone": "Asia/Ho_Chi_Minh",
         "opening_hours": {d: "closed" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}))
    tokens = {}
    for dev, node in (("d-q1", "vn/hcm/hcm-q1/ns"), ("d-ber", "de/be/ber-1/mn"),
                      ("d-q2", "vn/hcm/hcm-q2/door"), ("d-h1", "vn/hcm/hcm-q1/kl"),
                      ("d-h2", "vn/hcm/hcm-q1/kl"), ("d-h3", "vn/hcm/hcm-q1/kl")):
        tokens[dev] = synclib.fleet_token(st.url, "device", "add", dev, "--node", node)
    now = int(time.time() * 1000)
    st.q("INSERT INTO endpoints(id, name, kind, target, secret, lang, state, created_ms,"
         " updated_ms) VALUES (?, 'ops', 'webhook', 'http://127.0.0.1:9/hook',"
         " 'whsec_dGVzdA==', 'vi', 'ok', ?, ?)", uid(), now, now)
    return {k: Device(k, v) for k, v in tokens.items()}


def check_cli(st, label):
    rc, _, err = st.cli("alert", "add", "--node", "vn/hcm", "--kind", "negative_share",
                        "--name-vi", "x", "--name-en", "x", "--param", "min_share=150",
                        check=False)
    tap(rc != 0 and "$.params.min_share" in err and "1..100" in err,
        "%s: alert add refuses min_share=150 naming $.params.min_share and its range" % label,
        err)
    rc, _, err = st.cli("alert", "add", "--node", "vn/hcm", "--kind", "reason", "--name-vi", "x",
                        "--name-en", "x", check=False)
    tap(rc != 0 and "$.params.choice" in err, "%s: a reason rule without a choice is refused"
        % label, err)
    rc, _, err = st.cli("alert", "add", "--node", "vn/hcm", "--kind", "low_score", "--name-vi",
                        "x", "--name-en", "x", "--param", "metric=csat", "--param",
                        "threshold=3", "--param", "run=4", check=False)
    tap(rc != 0 and "$.params.run" in err and "low_score" in err,
        "%s: a parameter of another kind is refused naming it" % label, err)
    rc, _, err = st.cli("alert", "add", "--node", "vn/nowhere", "--kind", "praise", "--name-vi",
                        "x", "--name-en", "x", check=False)
    tap(rc != 0 and "vn/nowhere" in err, "%s: a rule on a node that does not exist is refused"
        % label, err)
    rc, _, err = st.cli("alert", "add", "--node", "vn", "--kind", "bogus", "--name-vi", "x",
                        "--name-en", "x", check=False)
    tap(rc != 0 and "$.kind" in err, "%s: an unknown kind is refused naming $.kind" % label, err)


def wait_alerts(st, rule, n, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = st.alerts(rule)
        if len(a) >= n:
            return a
        time.sleep(0.1)
    return st.alerts(rule)


def check_kinds(st, c, devs, label):
    d = devs["d-q1"]
    # negative_share on the region, inherited by the store's touchpoint "ns".
    ns = st.add_rule("vn/hcm", "negative_share")
    rows = json.loads(st.cli("alert", "list")[1])
    mine = [r for r in rows if r["id"] == ns]
    tap(len(mine) == 1 and mine[0]["params"] == {"min_share": 50, "window_minutes": 15,
                                                 "min_count": 4}
        and mine[0]["endpoints"] == ["ops"] and mine[0]["enabled"],
        "%s: alert list shows the rule with its defaults (50%%, 15 min, 4)" % label, mine)
    audit = st.one("SELECT count(*) FROM audit_log WHERE action = 'alert.add' AND target = ?", ns)
    tap(audit == "1", "%s: alert add is audited" % label, audit)
    # 3 negatives in a window: below the 4 ratings; 1 of 4 negative: below 50 %.
    w1 = local_ms(HCM, 2, 9, 0)
    rate(c, d, "ns", [(w1 + 60000 * i, 0) for i in range(3)])
    w2 = local_ms(HCM, 2, 9, 15)
    rate(c, d, "ns", [(w2 + 60000, 3), (w2 + 120000, 9), (w2 + 180000, 10), (w2 + 240000, 9)])
    st.settle()
    tap(st.alerts(ns) == [], "%s: negative_share: 3 bad ratings (< 4) and 1 of 4 (25 %%) raise "
        "nothing" % label, st.alerts(ns))
    w3 = local_ms(HCM, 2, 9, 30)
    rate(c, d, "ns", [(w3 + 1000, 6), (w3 + 2000, 1), (w3 + 3000, 9), (w3 + 4000, 10)])
    a = wait_alerts(st, ns, 1)
    ok = len(a) == 1 and int(a[0][4]) == w3 and int(a[0][5]) == w3 + 15 * 60000
    nums = json.loads(a[0][6]) if a else {}
    tap(ok and nums.get("ratings") == 4 and nums.get("negative") == 2
        and a[0][1] == "hcm-q1" and a[0][2] == "ns",
        "%s: negative_share: 2 of 4 (50 %%) fires once, window 09:30-09:45 local" % label, a)
    if a:
        case = st.q("SELECT id, state, node_path, store FROM cases WHERE alert_id = ?", a[0][0])
        ev = st.q("SELECT action, actor FROM case_events WHERE case_id = ?",
                  case[0][0] if case else "")
        ob = st.q("SELECT kind, ref_id, state, payload_json, id FROM outbox WHERE ref_id = ?",
                  a[0][0])
        p = json.loads(ob[0][3]) if ob else {}
        tap(case and case[0][1] == "open" and case[0][2] == "vn/hcm/hcm-q1" and ev == [("open", "system")],
            "%s: the alert opened a case (state open) with its open event" % label, (case, ev))
        tap(len(ob) == 1 and ob[0][0] == "alert" and ob[0][2] == "pending"
            and p.get("type") == "alert.fired" and p.get("id") == ob[0][4]
            and p["alert"]["id"] == a[0][0] and p["alert"]["rule_id"] == ns
            and p["alert"]["rule_name"] == {"vi": "Cảnh báo negative_share",
                                            "en": "Alert negative_share"}
            and p["alert"]["store"] == "hcm-q1" and p["alert"]["touchpoint"] == "ns"
            and p["alert"]["numbers"]["negative"] == 2 and p["case_id"] == case[0][0]
            and p["dashboard_url"] == "https://cx.example/tp/#case=" + case[0][0]
            and p["alert"]["window"]["from"].endswith("Z") and p["created_at"].endswith("Z"),
            "%s: one outbox row per endpoint with the canonical payload and dashboard link"
            % label, ob)
    # Resent batch (duplicates) and more bad ratings in the same window: still one alert.
    rate(c, d, "ns", [(w3 + 5000, 0), (w3 + 6000, 0)])
    st.settle()
    tap(len(st.alerts(ns)) == 1, "%s: more bad ratings in a fired window raise nothing more"
        % label, st.alerts(ns))

    # low_score NPS below 0: 3 zeros never trip it; 20 zeros do.
    ls = st.add_rule("vn/hcm/hcm-q1/ls", "low_score", "metric=nps", "threshold=0")
    h = local_ms(HCM, 2, 10, 0)
    rate(c, d, "ls", [(h + 60000 * i, 0) for i in range(3)])
    st.settle()
    tap(st.alerts(ls) == [], "%s: low_score nps < 0: three 0 ratings never trip it (the interval"
        " reaches above 0)" % label, st.alerts(ls))
    h2 = local_ms(HCM, 2, 11, 0)
    rate(c, d, "ls", [(h2 + 60000 * i, 0 if i % 5 else 8) for i in range(20)])
    a = wait_alerts(st, ls, 1)
    nums = json.loads(a[0][6]) if a else {}
    tap(len(a) == 1 and int(a[0][4]) == h2 and nums.get("ci_high", 1) < 0 and nums.get("n") == 20,
        "%s: low_score nps: 20 answers with NPS -80 fire (whole interval below 0)" % label, a)
    lc = st.add_rule("vn/hcm/hcm-q1/lc", "low_score", "metric=csat", "threshold=3")
    rate(c, d, "lc", [(h + 60000 * i, 1) for i in range(3)], kind="csat")
    rate(c, d, "lc", [(h2 + 60000 * i, 4 if i < 3 else 2) for i in range(8)], kind="csat")
    st.settle()
    tap(st.alerts(lc) == [], "%s: low_score csat < 3: three 1s, and 8 answers of mean 2.75 whose "
        "interval reaches 3, raise nothing" % label, st.alerts(lc))
    h3 = local_ms(HCM, 2, 12, 0)
    rate(c, d, "lc", [(h3 + 60000 * i, 1 if i % 4 else 2) for i in range(12)], kind="csat")
    a = wait_alerts(st, lc, 1)
    tap(len(a) == 1 and int(a[0][4]) == h3 and json.loads(a[0][6])["metric"] == "csat",
        "%s: low_score csat: 12 answers of mean 1.25 fire" % label, a)

    # reason: chosen at least 3 times within 60 minutes.
    rs = st.add_rule("vn/hcm/hcm-q1/rs", "reason", "choice=slow", "min_count=3")
    rate(c, d, "rs", [(h + 60000, "slow"), (h + 120000, "slow"), (h + 180000, "rude")],
         kind="choice")
    st.settle()
    tap(st.alerts(rs) == [], "%s: reason: 'slow' twice in the hour raises nothing" % label)
    rate(c, d, "rs", [(h + 240000, "slow")], kind="choice")
    a = wait_alerts(st, rs, 1)
    tap(len(a) == 1 and json.loads(a[0][6])["count"] == 3,
        "%s: reason: the third 'slow' in the hour fires" % label, a)

    # praise: 5 happy ratings in a row at the touchpoint.
    pr = st.add_rule("vn/hcm/hcm-q1/pr", "praise", "run=5")
    p0 = local_ms(HCM, 2, 14, 0)
    seq = [10, 9, 10, 9, 3, 10, 10, 9, 9]
    rate(c, d, "pr", [(p0 + 1000 * i, v) for i, v in enumerate(seq)])
    st.settle()
    tap(st.alerts(pr) == [], "%s: praise: runs of 4 happy ratings raise nothing" % label)
    rate(c, d, "pr", [(p0 + 10000, 10)])
    rate(c, d, "pr", [(p0 + 11000 + 1000 * i, 9) for i in range(6)])
    a = wait_alerts(st, pr, 1)
    st.settle()
    a = st.alerts(pr)
    tap(len(a) == 1 and int(a[0][4]) == p0 + 5000,
        "%s: praise: the fifth happy rating in a row fires once (the run growing to 11 does not"
        " fire again)" % label, a)

    # cooldown: 1 hour between windows of one rule at one touchpoint.
    cd = st.add_rule("vn/hcm/hcm-q1/cd", "negative_share", cooldown=3600)
    for hh, mm in ((8, 0), (8, 30), (10, 0)):
        w = local_ms(HCM, 2, hh, mm)
        rate(c, d, "cd", [(w + 1000 * i, 0) for i in range(4)])
        st.settle()
    a = st.alerts(cd)
    tap([int(x[4]) for x in a] == [local_ms(HCM, 2, 8, 0), local_ms(HCM, 2, 10, 0)],
        "%s: cooldown 3600 s: bad windows at 08:00, 08:30 and 10:00 fire at 08:00 and 10:00"
        % label, a)

    # disabled rules stay quiet.
    off = st.add_rule("vn/hcm/hcm-q1/ns", "negative_share")
    st.cli("alert", "disable", off)
    w4 = local_ms(HCM, 2, 16, 0)
    rate(c, d, "ns", [(w4 + 1000 * i, 0) for i in range(6)])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not [x for x in st.alerts(ns) if int(x[4]) == w4]:
        time.sleep(0.1)
    st.settle()
    a = [x for x in st.alerts(ns) if x[2] == "ns"]  # the region's rule covers ls, lc too
    tap(len(a) == 2 and int(a[1][4]) == w4 and st.alerts(off) == [],
        "%s: a disabled rule raises nothing while the enabled one fires" % label,
        (a, st.alerts(off)))


def check_midnight(st, c, devs, label):
    """25-minute windows restart at local midnight: [23:45, 24:00) then [00:00, 00:25)."""
    d = devs["d-q1"]
    mn = st.add_rule("vn/hcm/hcm-q1/mn", "negative_share", "window_minutes=25")
    before = local_ms(HCM, 3, 23, 50)
    after = local_ms(HCM, 2, 0, 2)
    rate(c, d, "mn", [(before, 0), (before + 300000, 1), (after, 0), (after + 180000, 2)])
    st.settle()
    tap(st.alerts(mn) == [], "%s: Asia/Ho_Chi_Minh: 4 bad ratings 23:50-00:05 split at local "
        "midnight raise nothing" % label, st.alerts(mn))
    rate(c, d, "mn", [(after + 360000, 0), (after + 420000, 0)])
    a = wait_alerts(st, mn, 1)
    midnight = local_ms(HCM, 2, 0, 0)
    tap(len(a) == 1 and int(a[0][4]) == midnight and int(a[0][5]) == midnight + 25 * 60000,
        "%s: Asia/Ho_Chi_Minh: the window from local midnight (17:00 UTC) fires" % label,
        (a, midnight))
    last = st.q("SELECT window_from_ms FROM alerts WHERE rule_id = ?", mn)
    # The day's last window ends at midnight (23:45-24:00, 15 minutes).
    rate(c, d, "mn", [(local_ms(HCM, 4, 23, 46 + i), 0) for i in range(4)])
    a = wait_alerts(st, mn, 2)
    m4 = local_ms(HCM, 3, 0, 0)
    tap(len(a) == 2 and int(a[0][4]) == m4 - 15 * 60000 and int(a[0][5]) == m4,
        "%s: the day's last window is 23:45-24:00 local, cut at midnight" % label, (a, last))
    # Europe/Berlin (UTC+1 in winter, +2 in summer): midnight as zoneinfo computes it.
    b = devs["d-ber"]
    ber = st.add_rule("de/be/ber-1", "negative_share", "window_minutes=60")
    bmid = local_ms(BERLIN, 2, 0, 0)
    rate(c, b, "mn", [(bmid - 120000, 0), (bmid - 60000, 0), (bmid + 60000, 0),
                      (bmid + 120000, 0)], store="ber-1")
    st.settle()
    tap(st.alerts(ber) == [], "%s: Europe/Berlin: 4 bad ratings around local midnight split"
        % label, st.alerts(ber))
    rate(c, b, "mn", [(bmid + 180000, 0), (bmid + 240000, 0)], store="ber-1")
    a = wait_alerts(st, ber, 1)
    tap(len(a) == 1 and int(a[0][4]) == bmid and a[0][1] == "ber-1",
        "%s: Europe/Berlin: the window starts at local midnight (%s UTC)"
        % (label, datetime.datetime.fromtimestamp(bmid / 1000, datetime.timezone.utc)
           .strftime("%H:%M")), (a, bmid))


def check_flood(st, c, devs, label):
    d = devs["d-q1"]
    fl = st.add_rule("vn/hcm/hcm-q1/fl", "negative_share")
    lo = st.add_rule("vn/hcm/hcm-q1/fl", "low_score", "metric=nps", "threshold=0",
                     "window_minutes=15")
    t0 = local_ms(HCM, 5, 8, 0)
    # 10,000 bad ratings over 45 minutes (three 15-minute windows), in 20 batches of 500.
    answers = [(t0 + i * 270, i % 7) for i in range(10000)]
    for k in range(0, 10000, 500):
        rate(c, d, "fl", answers[k:k + 500])
    st.settle(timeout=120)
    a, b = st.alerts(fl), st.alerts(lo)
    tap([int(x[4]) for x in a] == [t0, t0 + 900000, t0 + 1800000] and len(b) == 3,
        "%s: a flood of 10,000 bad ratings over 3 windows: one alert per rule and window (%d, %d)"
        % (label, len(a), len(b)), (a, b))
    n_out = st.one("SELECT count(*) FROM outbox WHERE ref_id IN (SELECT id FROM alerts WHERE"
                   " rule_id = ? OR rule_id = ?)", fl, lo)
    n_case = st.one("SELECT count(*) FROM cases WHERE alert_id IN (SELECT id FROM alerts WHERE"
                    " rule_id = ? OR rule_id = ?)", fl, lo)
    tap(n_out == "6" and n_case == "6", "%s: the flood made 6 cases and 6 outbox rows" % label,
        (n_out, n_case))


def check_health(st, c, devs, label):
    now = int(time.time() * 1000)
    h1, h2, h3, q2 = devs["d-h1"], devs["d-h2"], devs["d-h3"], devs["d-q2"]
    t = local_ms(HCM, 1, 9, 0)
    r = {k: st.add_rule("vn/hcm/hcm-q1/kl", k, *p) for k, p in (
        ("device_clock", ()), ("device_disk", ("min_free_mb=100",)),
        ("device_config_error", ()), ("device_seq_holes", ("min_missing=2",)),
        ("device_pending_age", ("minutes=30",)))}
    silent = st.add_rule("vn/hcm", "device_silent", "minutes=30")
    # h1: fine. h2: untrusted clock, 50 MB free, a config that failed, seqs 3 and 4 never sent.
    rate(c, h1, "kl", [(t, 9), (t + 1000, 9)])
    post(c, h2, [h2.answer(t, 9, "kl", seq=1), h2.answer(t + 1, 9, "kl", seq=2),
                 h2.answer(t + 2, 9, "kl", seq=5)], clock_trusted=False, disk_free=50_000_000,
         config_error="survey checkout-nps@9: unknown question type")
    # h3: one missing seq only (below min_missing 2), 5 answers pending.
    post(c, h3, [h3.answer(t, 9, "kl", seq=1), h3.answer(t + 1, 9, "kl", seq=3)], pending=5)
    st.settle()
    time.sleep(1.0)  # a few health passes
    got = {k: [x[3] for x in st.alerts(v)] for k, v in r.items()}
    tap(got["device_clock"] == ["d-h2"] and got["device_disk"] == ["d-h2"]
        and got["device_config_error"] == ["d-h2"] and got["device_seq_holes"] == ["d-h2"],
        "%s: device rules fire for the device with an untrusted clock, 50 MB free, a failed"
        " configuration and 2 missing seqs, not for the healthy one nor 1 missing seq" % label,
        got)
    tap(got["device_pending_age"] == [], "%s: pending answers reported just now are not old"
        % label, got)
    # Time passes for h3 and q2: their last batch 2 hours ago (the store's clock is the test's).
    rate(c, q2, "door", [(t, 9)], store="hcm-q2")
    st.settle()
    for dev in ("d-h3", "d-q2"):
        st.q("UPDATE devices SET last_seen_ms = ? WHERE id = ?", now - 2 * 3600 * 1000, dev)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not st.alerts(r["device_pending_age"]):
        time.sleep(0.1)
    time.sleep(0.6)
    pend = [x[3] for x in st.alerts(r["device_pending_age"])]
    sil = sorted(x[3] for x in st.alerts(silent))
    tap(pend == ["d-h3"], "%s: device_pending_age: 5 answers pending since a batch 2 h ago fire"
        % label, pend)
    tap("d-h3" in sil and "d-q2" not in sil and "d-h1" not in sil,
        "%s: device_silent: silent 2 h in an always-open store fires; the same in a store closed"
        " all week (hcm-q2) does not" % label, sil)
    n_before = len(st.alerts(silent))
    time.sleep(0.6)
    tap(len(st.alerts(silent)) == n_before, "%s: a silence fires once, not every health pass"
        % label)


def check_test_cmd(st, label):
    rid = st.add_rule("vn/hcm", "praise", endpoints=("ops",))
    rc, out, err = st.cli("alert", "test", rid)
    res = json.loads(out)
    ob = st.q("SELECT kind, payload_json FROM outbox WHERE id = ?", res["outbox"][0]) \
        if res.get("outbox") else []
    tap(rc == 0 and res["endpoints"] == 1 and ob and ob[0][0] == "test"
        and json.loads(ob[0][1])["type"] == "alert.test",
        "%s: alert test writes one outbox row of kind test per endpoint" % label, (out, ob))
    lone = st.add_rule("vn/hcm", "praise", endpoints=())
    rc, out, err = st.cli("alert", "test", lone)
    tap(rc == 0 and "no endpoint" in err and json.loads(out)["endpoints"] == 0,
        "%s: alert test of a rule without endpoints says so" % label, err)
    rc, _, err = st.cli("alert", "test", "nope", check=False)
    tap(rc != 0 and "no alert rule nope" in err, "%s: alert test of an unknown rule fails" % label,
        err)


def check_api(st, c, label):
    token = synclib.fleet_token(st.url, "admin-token", "add", "alerts-admin")

    def call(method, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
        try:
            conn.request(method, "/v1/admin/alert-rules",
                         body=json.dumps(body).encode() if body is not None else None,
                         headers={"Authorization": "Bearer " + token,
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()
    st_, res = call("POST", {"node": "vn/hcm", "kind": "low_score", "name_vi": "Điểm thấp",
                             "name_en": "Low score", "params": {"metric": "ces",
                                                                 "threshold": 4}})
    tap(st_ == 200 and res["kind"] == "low_score" and res["params"]["metric"] == "ces",
        "%s: POST /v1/admin/alert-rules adds a rule" % label, res)
    st2, bad = call("POST", {"node": "vn/hcm", "kind": "low_score", "name_vi": "x",
                             "name_en": "x", "params": {"metric": "ces", "threshold": 9}})
    tap(st2 == 400 and "$.params.threshold" in bad["error"]["message"],
        "%s: a bad parameter is 400 naming the field" % label, bad)
    st3, rows = call("GET")
    tap(st3 == 200 and any(r["id"] == res["id"] for r in rows),
        "%s: GET /v1/admin/alert-rules lists it" % label)
    st4, _ = call("POST", {"action": "remove", "id": res["id"]})
    actor = st.one("SELECT actor FROM audit_log WHERE action = 'alert.remove' AND target = ?",
                   res["id"])
    tap(st4 == 200 and actor == "admin:alerts-admin", "%s: remove through the API is audited"
        % label, actor)


def check_kill(st, workdir, devs, label):
    """Queue rows committed with a batch survive a SIGKILL before their evaluation."""
    d = devs["d-q1"]
    rid = st.add_rule("vn/hcm/hcm-q1/kl", "negative_share")
    c = synclib.Collector(st.url, None, workdir, extra=["--alert-interval-ms", "3600000"],
                          name="slow-eval").start()
    try:
        time.sleep(0.5)  # the first pass (at start) is over; the next is an hour away
        t = local_ms(HCM, 6, 9, 0)
        rate(c, d, "kl", [(t + 1000 * i, 0) for i in range(5)])
        queued = st.one("SELECT count(*) FROM alert_queue")
        rc = c.proc.p.kill() or c.proc.p.wait()
        tap(queued != "0" and st.alerts(rid) == [] and rc == -9,
            "%s: queued evaluation pending when the collector is SIGKILLed (%s rows)"
            % (label, queued), (queued, rc))
    finally:
        c.stop()
    c = synclib.Collector(st.url, None, workdir, extra=FAST, name="after-kill").start()
    try:
        a = wait_alerts(st, rid, 1)
        tap(len(a) == 1 and st.settle(), "%s: after the restart the queued rows are evaluated:"
            " the alert fires once and the queue is empty" % label, a)
    finally:
        c.stop()


def run_suite(label, st, workdir):
    devs = setup_fleet(st)
    check_cli(st, label)
    c = synclib.Collector(st.url, None, workdir, extra=FAST, name=label).start()
    try:
        check_kinds(st, c, devs, label)
        check_midnight(st, c, devs, label)
        check_flood(st, c, devs, label)
        check_health(st, c, devs, label)
        check_test_cmd(st, label)
        check_api(st, c, label)
    finally:
        rc = c.stop()
    log = c.proc.tail(5)
    tap(rc == 0 and "Sanitizer" not in log,
        "%s: the collector and its evaluator thread stop cleanly on SIGTERM (exit 0; under ASan: "
        "no leak)" % label, (rc, log))
    check_kill(st, workdir, devs, label)


def check_two_collectors(pg, workdir):
    """Two collectors on one PostgreSQL, batches of one window sent to both at once: one alert."""
    pg.psql("CREATE DATABASE two")
    url = pg.url.rsplit("/", 1)[0] + "/two"
    st = Store(url, pg=None)
    st.q = lambda sql, *params: _pg_q(pg, "two", sql, params)
    devs = setup_fleet(st)
    rid = st.add_rule("vn/hcm/hcm-q1/two", "negative_share", "window_minutes=60")
    cs = [synclib.Collector(url, None, workdir, extra=FAST, name="pg-two-%d" % i).start()
          for i in range(2)]
    try:
        t0 = local_ms(HCM, 2, 13, 0)
        errors = []

        def send(i):
            try:
                dev = devs["d-h%d" % (i + 1)]
                for k in range(20):
                    rate(cs[(i + k) % 2], dev, "two",
                         [(t0 + 60000 * ((k * 3 + j) % 60), 0) for j in range(50)])
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
        th = [threading.Thread(target=send, args=(i,)) for i in range(3)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        st.settle()
        time.sleep(0.5)
        a = st.alerts(rid)
        n_case = st.one("SELECT count(*) FROM cases WHERE alert_id IN (SELECT id FROM alerts"
                        " WHERE rule_id = ?)", rid)
        tap(not errors and len(a) == 1 and int(a[0][4]) == t0 and n_case == "1",
            "postgresql: two collectors, 3 devices x 20 batches into one window through both:"
            " one alert, one case", (errors, a, n_case))
    finally:
        for c in cs:
            c.stop()


def _pg_q(pg, db, sql, params):
    for p in params:
        sql = sql.replace("?", "'%s'" % str(p).replace("'", "''"), 1)
    out = pg.psql(sql, db=db)
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def main():
    workdir = synclib.scratch_dir("tp-alerts-")
    try:
        run_suite("sqlite", Store("sqlite:" + os.path.join(workdir, "central.db")), workdir)
        pgserver = synclib.load_pgserver()
        if pgserver and pgserver.available():
            with pgserver.PgServer() as pg:
                run_suite("postgresql", Store(pg.url, pg=pg), workdir)
                check_two_collectors(pg, workdir)
        else:
            tap(False, "postgresql: no PostgreSQL binaries found")
    finally:
        if not FAILED:
            import shutil
            shutil.rmtree(workdir, ignore_errors=True)
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
