#!/usr/bin/env python3
"""test_cases.py - cases (issue 13 item 4, sync/PROTOCOL.md section 14) with the real
touchpoint-collector, against SQLite and a real PostgreSQL (tests/support/pgserver.py):

a case goes through ack, comment, assign, resolve, reopen and resolve again through
POST /v1/admin/cases (admin token) and the CLI; its timeline lists every action in order with its
actor and text; transitions the state refuses answer 409 naming the state and change nothing;
bad actions are 400 with the JSON path; every action writes an audit row. GET /v1/cases filters by
state, node and store; GET /v1/cases/<id> is 404 for an unknown id. GET /v1/cases/report's time to
acknowledge and time to resolution (median and p90 per store, region and month) equal the values
computed here from the stored timestamps (linear interpolation between closest ranks), and the
open cases per store list the active ones with their ages.

The lifecycle's case is opened by a real alert: a negative_share rule on the store and a device
batch of bad ratings. The report's cases are opened the way the alerts' transaction opens them (a
cases row in state open plus its "open" event) with opening times set hours apart, so that the
TTA/TTR figures differ per store; the actions then run through the real API at the real time, and
the expected figures come from the timestamps the collector stored.

Stdlib only. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import http.client
import json
import os
import pwd
import shutil
import sqlite3
import sys
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_json, fleet_token  # noqa: E402
from tap import check as tap, count as N, failed as FAILED  # noqa: E402

ME = "cli:" + pwd.getpwuid(os.geteuid()).pw_name
HOUR = 3600 * 1000


def request(c, method, path, body=None, token=None):
    st, _, js, _ = synclib.http_request(c.port, method, path, body, token)
    return st, js

def quantile(values, q):
    """Linear interpolation between closest ranks (numpy's default), as PROTOCOL.md 14.4."""
    v = sorted(values)
    if not v:
        return None
    h = q * (len(v) - 1)
    lo = int(h)
    if lo + 1 >= len(v):
        return float(v[-1])
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo])


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-6


def open_case(sql, node, store, opened_ms, title_vi="Điểm NPS giảm", title_en="NPS dropped"):
    """Opens a case as the alert's transaction does: the row in state open and its open event."""
    cid = str(uuid.uuid4())
    store_sql = "'%s'" % store if store else "NULL"
    sql("INSERT INTO cases(id, alert_id, node_path, store, title_vi, title_en, state, opened_ms,"
        " updated_ms) VALUES('%s', NULL, '%s', %s, '%s', '%s', 'open', %d, %d)"
        % (cid, node, store_sql, title_vi, title_en, opened_ms, opened_ms))
    sql("INSERT INTO case_events(case_id, at_ms, actor, action, text)"
        " VALUES('%s', %d, 'system', 'open', NULL)" % (cid, opened_ms))
    return cid


def act(c, token, action, cid, **kw):
    body = dict(action=action, id=cid, **kw)
    return request(c, "POST", "/v1/admin/cases", body, token)


def post_bad_ratings(c, dev_token, n):
    """n NPS ratings of 1 from the store's kiosk, now: the negative_share rule's window fires."""
    now = int(time.time() * 1000)
    boot = "0b0b0b0b-0000-4000-8000-000000000001"
    dev = {"id": "kiosk-q1", "epoch": str(uuid.uuid4()), "epoch_first_seq": 1,
           "app_version": "0.1.0", "pending": 0, "highest_seq": n, "disk_free": 1 << 30,
           "clock_trusted": True, "sent_wall_ms": now, "sent_mono_ms": 100000, "boot_id": boot}
    answers = [{"id": str(uuid.uuid4()), "seq": i + 1, "session": str(uuid.uuid4()),
                "survey": "checkout-nps", "survey_version": 1, "question": "recommend",
                "kind": "nps", "value": 1, "choice": None, "lang": "vi", "store": "hcm-q1",
                "touchpoint": "checkout", "wall_ms": now, "clock_trusted": True, "mono_ms": 1000,
                "boot_id": boot, "flags": []} for i in range(n)]
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
    try:
        conn.request("POST", "/v1/batches", body=json.dumps(
            {"protocol": 1, "batch_id": str(uuid.uuid4()), "device": dev, "answers": answers}),
            headers={"Authorization": "Bearer " + dev_token, "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def alert_case(c, dev_token, label):
    """The case the alert of the store's negative_share rule opens after a batch of bad
    ratings (the evaluator runs every second)."""
    st = post_bad_ratings(c, dev_token, 5)
    cases = []
    end = time.monotonic() + 60
    while time.monotonic() < end and not cases:
        _, js = request(c, "GET", "/v1/cases")
        cases = js["cases"] if js else []
        if not cases:
            time.sleep(0.2)
    _, one = request(c, "GET", "/v1/cases/" + cases[0]["id"]) if cases else (0, {})
    alert = (one or {}).get("case", {}).get("alert") or {}
    tap(st == 200 and len(cases) == 1 and cases[0]["state"] == "open"
        and cases[0]["store"] == "hcm-q1" and alert.get("kind") == "negative_share"
        and alert.get("rule_name", {}).get("vi") == "Nhiều khách không hài lòng"
        and one["timeline"][0]["action"] == "open",
        "%s: a batch of bad ratings fires the rule; its alert opens an open case with its "
        "alert and open event" % label, json.dumps(one, ensure_ascii=False)[:600])
    return cases[0]["id"] if cases else str(uuid.uuid4())


def check_lifecycle(store, c, token, dev_token, sql, label):
    cid = alert_case(c, dev_token, label)
    st, js = act(c, token, "ack", cid)
    tap(st == 200 and js["case"]["state"] == "acknowledged" and js["event"]["action"] == "ack"
        and js["event"]["actor"] == "admin:ops", "%s: ack moves an open case to acknowledged" % label,
        "%s %r" % (st, js))
    first_ack = js["case"]["acknowledged_ms"] if st == 200 else None
    st, js = act(c, token, "ack", cid)
    tap(st == 409 and js["error"]["code"] == "conflict" and "is acknowledged" in js["error"]["message"],
        "%s: a second ack is 409 naming the state" % label, "%s %r" % (st, js))
    st, js = act(c, token, "comment", cid, text="Quản lý ca đang kiểm tra quầy 2")
    tap(st == 200 and js["event"]["text"] == "Quản lý ca đang kiểm tra quầy 2"
        and js["case"]["state"] == "acknowledged", "%s: comment keeps the state" % label,
        "%s %r" % (st, js))
    st, js = act(c, token, "comment", cid)
    tap(st == 400 and "$.text" in js["error"]["message"], "%s: comment without text is 400 $.text"
        % label, "%s %r" % (st, js))
    st, js = act(c, token, "assign", cid, assignee="lan@shop.vn")
    tap(st == 200 and js["case"]["assignee"] == "lan@shop.vn", "%s: assign sets the assignee"
        % label, "%s %r" % (st, js))
    st, js = act(c, token, "reopen", cid)
    tap(st == 409 and "is acknowledged" in js["error"]["message"]
        and "only a resolved case can be reopened" in js["error"]["message"],
        "%s: reopen of an unresolved case is 409" % label, "%s %r" % (st, js))
    st, js = act(c, token, "resolve", cid, text="Đã thay máy in hoá đơn")
    tap(st == 200 and js["case"]["state"] == "resolved" and js["case"]["resolved_ms"] is not None,
        "%s: resolve" % label, "%s %r" % (st, js))
    for action, kw in (("ack", {}), ("assign", {"assignee": "minh"}), ("resolve", {})):
        st, js = act(c, token, action, cid, **kw)
        tap(st == 409 and "is resolved: reopen it first" in js["error"]["message"],
            "%s: %s of a resolved case is 409 'reopen it first'" % (label, action),
            "%s %r" % (st, js))
    st, js = act(c, token, "reopen", cid, text="Khách lại phàn nàn")
    tap(st == 200 and js["case"]["state"] == "open" and js["case"]["resolved_ms"] is None
        and js["case"]["acknowledged_ms"] == first_ack,
        "%s: reopen clears the resolution and keeps the first acknowledgement" % label,
        "%s %r" % (st, js))
    # the CLI runs the same operation as cli:USER
    rc, out, err = fleet_cli(store, "case", "resolve", cid, "--text", "ok", check=False)
    tap(rc == 0 and json.loads(out)["case"]["state"] == "resolved", "%s: case resolve via the CLI"
        % label, err)
    rc, out, err = fleet_cli(store, "case", "resolve", cid, check=False)
    tap(rc == 1 and "is resolved" in err, "%s: the CLI refuses a second resolve (exit 1)" % label,
        "%d %s" % (rc, err))
    st, js = request(c, "GET", "/v1/cases/" + cid)
    tl = js["timeline"] if st == 200 else []
    tap([e["action"] for e in tl] == ["open", "ack", "comment", "assign", "resolve", "reopen",
                                       "resolve"]
        and [e["actor"] for e in tl] == ["system"] + ["admin:ops"] * 5 + [ME]
        and tl[2]["text"] == "Quản lý ca đang kiểm tra quầy 2" and tl[3]["text"] == "lan@shop.vn"
        and tl[4]["text"] == "Đã thay máy in hoá đơn" and tl[5]["text"] == "Khách lại phàn nàn"
        and all(tl[i]["at_ms"] <= tl[i + 1]["at_ms"] for i in range(len(tl) - 1))
        and js["case"]["state"] == "resolved" and js["case"]["alert"] is not None,
        "%s: the timeline lists every action in order with actor and text" % label,
        json.dumps(tl, ensure_ascii=False)[:800])
    audit = fleet_json(store, "audit", "list")
    acts = [a["action"] for a in audit if a["target"] == cid]
    tap(acts == ["case.ack", "case.comment", "case.assign", "case.resolve", "case.reopen",
                 "case.resolve"], "%s: every action has its audit row, refusals none" % label,
        repr(acts))
    st, js = act(c, token, "close", cid)
    tap(st == 400 and "$.action" in js["error"]["message"], "%s: unknown action is 400 $.action"
        % label, "%s %r" % (st, js))
    st, js = act(c, token, "ack", str(uuid.uuid4()))
    tap(st == 404 and js["error"]["code"] == "not_found", "%s: ack of an unknown case is 404"
        % label, "%s %r" % (st, js))
    st, js = act(c, "not-a-token", "ack", cid)
    tap(st == 401, "%s: the admin action needs an admin token" % label, "%s %r" % (st, js))
    st, js = request(c, "GET", "/v1/cases/" + str(uuid.uuid4()))
    st2, _ = request(c, "GET", "/v1/cases/nope")
    tap(st == 404 and st2 == 400, "%s: GET of an unknown case 404, a bad id 400" % label,
        "%s %s" % (st, st2))
    return cid


def check_report(store, c, token, sql, label):
    """Cases in three stores of two regions with known gaps; TTA/TTR from the stored times."""
    now = int(time.time() * 1000)
    plan = [  # node, store, hours ago opened, actions
        ("vn/hcm/hcm-q1/checkout", "hcm-q1", 30, ["ack", "resolve"]),
        ("vn/hcm/hcm-q1/checkout", "hcm-q1", 20, ["ack"]),
        ("vn/hcm/hcm-q1", None, 10, ["resolve"]),
        ("vn/hcm/hcm-q3/checkout", "hcm-q3", 12, ["ack", "resolve"]),
        ("vn/hcm/hcm-q3/checkout", "hcm-q3", 3, []),
        ("vn/hn/hn-bd/checkout", "hn-bd", 7, ["ack", "resolve"]),
        ("vn/hn/hn-bd/checkout", "hn-bd", 2, ["ack"]),
    ]
    for node, st_, ago, actions in plan:
        cid = open_case(sql, node, st_, now - ago * HOUR)
        for a in actions:
            act(c, token, a, cid)
    st, listing = request(c, "GET", "/v1/cases?limit=1000")
    cases = listing["cases"]
    tap(st == 200 and len(cases) == 8 and listing["counts"] == {"open": 1, "acknowledged": 2,
                                                                "resolved": 5},
        "%s: GET /v1/cases lists every case with counts per state" % label,
        "%s %r" % (st, listing and listing.get("counts")))
    tap([x["opened_ms"] for x in cases] == sorted([x["opened_ms"] for x in cases], reverse=True),
        "%s: newest first" % label)
    st, js = request(c, "GET", "/v1/cases?state=active&node=vn/hn")
    tap(st == 200 and [x["store"] for x in js["cases"]] == ["hn-bd"]
        and js["cases"][0]["state"] == "acknowledged",
        "%s: state=active&node=vn/hn keeps the region's active cases" % label, repr(js)[:400])
    st, js = request(c, "GET", "/v1/cases?store=hcm-q1&state=resolved")
    tap(st == 200 and len(js["cases"]) == 3 and all(x["store"] == "hcm-q1" for x in js["cases"]),
        "%s: store= keeps the store's cases, also one opened on the store node" % label,
        repr(js)[:400])
    st, js = request(c, "GET", "/v1/cases?state=closed")
    tap(st == 400 and "state" in js["error"]["message"], "%s: a bad state is 400" % label)

    def expected(key_of):
        groups = {}
        for x in cases:
            g = groups.setdefault(key_of(x), {"tta": [], "ttr": [], "opened": 0, "active": 0,
                                              "resolved": 0, "acknowledged": 0})
            g["opened"] += 1
            if x["acknowledged_ms"] is not None:
                g["acknowledged"] += 1
                g["tta"].append((x["acknowledged_ms"] - x["opened_ms"]) / 1000.0)
            if x["state"] == "resolved":
                g["resolved"] += 1
                g["ttr"].append((x["resolved_ms"] - x["opened_ms"]) / 1000.0)
            else:
                g["active"] += 1
        return groups

    def month(x):
        return time.strftime("%Y-%m", time.localtime(x["opened_ms"] / 1000))

    for by, key_of in (("store", lambda x: x["store"] or ""),
                       ("region", lambda x: x["region"] or ""), ("month", month)):
        st, rep = request(c, "GET", "/v1/cases/report?by=" + by)
        exp = expected(key_of)
        ok = st == 200 and [g["key"] for g in rep["groups"]] == sorted(exp)
        bad = []
        for g in rep["groups"] if ok else []:
            e = exp[g["key"]]
            for name in ("opened", "acknowledged", "resolved", "active"):
                if g[name] != e[name]:
                    bad.append((g["key"], name, g[name], e[name]))
            for m in ("tta", "ttr"):
                s = g[m + "_s"]
                if s["n"] != len(e[m]) or not close(s["median"], quantile(e[m], 0.5)) \
                        or not close(s["p90"], quantile(e[m], 0.9)):
                    bad.append((g["key"], m, s, sorted(e[m])))
        tap(ok and not bad, "%s: report by=%s: counts, TTA and TTR median/p90 equal the values "
            "computed from the stored times" % (label, by), "%s %r" % (st, bad or rep)[:1200])
    st, rep = request(c, "GET", "/v1/cases/report?by=store")
    all_ttr = [(x["resolved_ms"] - x["opened_ms"]) / 1000.0 for x in cases
               if x["state"] == "resolved"]
    tap(st == 200 and rep["total"]["opened"] == 8 and close(rep["total"]["ttr_s"]["p90"],
                                                            quantile(all_ttr, 0.9)),
        "%s: the total's TTR p90 over every store" % label, repr(rep.get("total"))[:400])
    obs = rep.get("open_by_store", [])
    active = sorted([x for x in cases if x["state"] != "resolved"], key=lambda x: x["opened_ms"])
    per = {}
    for x in active:
        per.setdefault(x["store"], []).append(x["id"])
    tap([o["store"] for o in obs] == list(dict.fromkeys(x["store"] for x in active))
        and all([k["id"] for k in o["cases"]] == per[o["store"]] and o["active"] == len(per[o["store"]])
                for o in obs)
        and all(o["oldest_age_s"] >= o["cases"][-1]["age_s"] for o in obs),
        "%s: open_by_store lists the active cases per store, oldest first, with ages" % label,
        repr(obs)[:600])
    st, rep = request(c, "GET", "/v1/cases/report?by=region&node=vn/hn")
    tap(st == 200 and [g["key"] for g in rep["groups"]] == ["vn/hn"] and rep["total"]["opened"] == 2,
        "%s: report node= narrows to the subtree" % label, repr(rep)[:400])
    st, rep = request(c, "GET", "/v1/cases/report?by=week")
    st2, rep2 = request(c, "GET", "/v1/cases/report?from=2026-13-01")
    tap(st == 400 and st2 == 400, "%s: bad by / from are 400" % label, "%s %s" % (st, st2))
    rc, out, err = fleet_cli(store, "case", "list", "--state", "active", check=False)
    tap(rc == 0 and len(json.loads(out)["cases"]) == 3, "%s: case list --state active (CLI)"
        % label, err)


def run_backend(store, workdir, label, sql):
    synclib.fleet_cli(store, "node", "set", "vn/hcm/hcm-q1/checkout")
    synclib.fleet_cli(store, "node", "set", "vn/hcm/hcm-q3/checkout")
    synclib.fleet_cli(store, "node", "set", "vn/hn/hn-bd/checkout")
    token = fleet_token(store, "admin-token", "add", "ops")
    dev_token = fleet_token(store, "device", "add", "kiosk-q1", "--node", "vn/hcm/hcm-q1/checkout")
    fleet_cli(store, "alert", "add", "--node", "vn/hcm/hcm-q1", "--kind", "negative_share",
              "--name-vi", "Nhiều khách không hài lòng", "--name-en", "Many unhappy customers")
    c = synclib.Collector(store, None, workdir, name="cases-" + label).start()
    try:
        check_lifecycle(store, c, token, dev_token, sql, label)
        check_report(store, c, token, sql, label)
    finally:
        rc = c.stop()
        tap(rc == 0, "%s: the collector exits 0 on SIGTERM (no sanitizer report)" % label,
            "exit %s: %s" % (rc, c.proc.tail()))


def main():
    workdir = synclib.scratch_dir("tp-cases-")
    try:
        db = os.path.join(workdir, "central.db")

        def sqlite_sql(q):
            con = sqlite3.connect(db)
            try:
                con.execute(q)
                con.commit()
            finally:
                con.close()
        run_backend("sqlite:" + db, workdir, "sqlite", sqlite_sql)
        if not pgserver.available():
            print("ok %d - # SKIP no PostgreSQL server binaries" % (N.value + 1))
            N.value += 1
        else:
            with pgserver.PgServer() as pg:
                run_backend(pg.url, workdir, "postgresql", pg.psql)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("1..%d" % N.value)
    return 1 if FAILED.value else 0


if __name__ == "__main__":
    sys.exit(main())
