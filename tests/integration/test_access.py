#!/usr/bin/env python3
"""test_access.py - scoped read access and the read audit (issue 14, item 9) with the real
touchpoint-collector, against SQLite and against a real PostgreSQL (tests/support/pgserver.py),
the same checks for both:

a chain vn with two regions, three stores and a device in each, one answer per store. While no read
token exists the read side stays open (and is audited as "open"). Then read tokens bound to a store
and to a region (CLI and admin API): a store token sees only its store in /v1/report, its device in
/v1/devices and its store in the analytics endpoints and the CSV export, 403 for node= / store=
outside its scope, 200 inside; a region token sees its two stores; an admin token reads everything;
no token, an unknown and a revoked token get 401; the dashboard page stays served without a token.
The read audit (CLI `audit reads` and GET /v1/admin/read-audit) has the token's name, the time, the
scope, the path and the query and the status of every read. A second collector on the same store
with a small per-reader budget answers 429 with Retry-After to one token while another token still
reads, and an address that keeps failing authentication gets 429 before its tokens are looked at.
Admin tokens are listed and revoked through the admin API.

Stdlib only. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import json
import os
import shutil
import sys
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_json, fleet_token  # noqa: E402
from tap import check as tap, count as N, failed as FAILED  # noqa: E402

SURVEY = os.path.join(ROOT, "assets", "surveys", "checkout-nps.json")
# device id -> (its node, its store id)
DEVICES = {"d-q1": ("vn/hcm/q1/checkout", "q1"), "d-q7": ("vn/hcm/q7/checkout", "q7"),
           "d-hk": ("vn/hn/hk/checkout", "hk")}


def request(c, method, path, body=None, token=None):
    return synclib.http_request(c.port, method, path, body, token)

def get(c, path, token=None):
    st, hdr, js, _ = request(c, "GET", path, token=token)
    return st, js, hdr


def batch(dev_id, store):
    boot = "0b0b0b0b-0000-4000-8000-000000000001"
    now = int(time.time() * 1000)
    d = {"id": dev_id, "epoch": str(uuid.uuid4()), "epoch_first_seq": 1, "app_version": "0.1.0",
         "pending": 0, "highest_seq": 1, "disk_free": 1 << 30, "clock_trusted": True,
         "sent_wall_ms": now, "sent_mono_ms": 100000, "boot_id": boot}
    a = {"id": str(uuid.uuid4()), "seq": 1, "session": str(uuid.uuid4()),
         "survey": "checkout-nps", "survey_version": 1, "question": "recommend", "kind": "nps",
         "value": 9, "choice": None, "lang": "vi", "store": store, "touchpoint": "checkout",
         "wall_ms": now, "clock_trusted": True, "mono_ms": 1000, "boot_id": boot, "flags": []}
    return {"protocol": 1, "batch_id": str(uuid.uuid4()), "device": d, "answers": [a]}


def stores_of(rep):
    return sorted(g["key"] for g in rep["groups"]) if rep and "groups" in rep else None


def devices_of(rep):
    if not rep or "devices" not in rep:
        return None
    return sorted(d["id"] for d in rep["devices"]), sorted(rep.get("fleet", {}))


def setup(store):
    """The tree, the survey and a device per store; returns {device id: token}."""
    for node, _ in DEVICES.values():
        fleet_cli(store, "node", "set", node)
    with open(SURVEY, encoding="utf-8") as f:
        doc = json.load(f)
    fleet_cli(store, "survey", "publish", SURVEY)
    fleet_cli(store, "survey", "assign", "%s@%d" % (doc["id"], doc["version"]), "--node", "vn")
    return {d: fleet_token(store, "device", "add", d, "--node", node)
            for d, (node, _) in DEVICES.items()}


def run_backend(store, workdir, label):
    tokens = setup(store)
    c = synclib.Collector(store, None, workdir, name="access-" + label).start()
    c2 = None
    try:
        for dev, (_, st_id) in DEVICES.items():
            st, _, js, _ = request(c, "POST", "/v1/batches", batch(dev, st_id), tokens[dev])
            if st != 200:
                raise RuntimeError("batch of %s: %d %r" % (dev, st, js))

        # ---- open while no read token exists --------------------------------------------------
        st, rep, _ = get(c, "/v1/report?by=store")
        st2, _, _ = get(c, "/v1/devices", token="anything")
        tap(st == 200 and stores_of(rep) == ["hk", "q1", "q7"] and st2 == 200,
            "%s: no read token configured: the read side is open, unscoped, as before" % label,
            (st, rep, st2))

        # ---- tokens ---------------------------------------------------------------------------
        q1 = fleet_token(store, "read-token", "add", "q1-manager", "--node", "vn/hcm/q1")
        hcm = fleet_token(store, "read-token", "add", "hcm-lead", "--node", "vn/hcm")
        admin = fleet_token(store, "admin-token", "add", "ops")
        rc, _, err = fleet_cli(store, "read-token", "add", "x", "--node", "vn/none", check=False)
        rc2, _, err2 = fleet_cli(store, "read-token", "add", "q1-manager", "--node", "vn",
                                 check=False)
        tap(rc == 1 and "vn/none" in err and rc2 == 1 and "exists" in err2,
            "%s: read-token add: an unknown node and a taken name refused (exit 1, named)"
            % label, (rc, err, rc2, err2))
        st, _, js, _ = request(c, "POST", "/v1/admin/read-tokens",
                               {"action": "add", "name": "hn-lead", "node": "vn/hn"}, admin)
        hn = (js or {}).get("token", "")
        st2, _, _, _ = request(c, "POST", "/v1/admin/read-tokens",
                               {"action": "add", "name": "sneaky", "node": "vn"}, q1)
        tap(st == 200 and len(hn) >= 32 and js.get("node") == "vn/hn" and st2 == 401,
            "%s: admin API adds a read token (shown once); a read token cannot" % label,
            (st, js, st2))
        listed = {t["name"]: t for t in fleet_json(store, "read-token", "list")}
        tap(sorted(listed) == ["hcm-lead", "hn-lead", "q1-manager"]
            and listed["q1-manager"]["node"] == "vn/hcm/q1"
            and listed["hn-lead"]["created_by"] == "admin:ops"
            and all("token" not in t and "token_sha256" not in t for t in listed.values()),
            "%s: read-token list: names, nodes, who made them; no token or hash" % label, listed)

        # ---- who may read ---------------------------------------------------------------------
        st, _, _ = get(c, "/v1/report")
        st2, _, _ = get(c, "/v1/devices", token="not-a-token")
        st3, hdr3, _, page = request(c, "GET", "/")
        tap(st == 401 and st2 == 401 and st3 == 200
            and hdr3.get("content-type", "").startswith("text/html") and len(page) > 1000,
            "%s: once a read token exists: 401 without a token or with an unknown one; the "
            "dashboard page is still served without a token" % label, (st, st2, st3))

        # ---- a store token --------------------------------------------------------------------
        st, rep, _ = get(c, "/v1/report?by=store", q1)
        st2, rep2, _ = get(c, "/v1/report", q1)
        tot = rep2.get("total", {}) if rep2 else {}
        tap(st == 200 and stores_of(rep) == ["q1"] and st2 == 200
            and tot.get("n") == 1 and sum(g["n"] for g in rep2["groups"]) == 1,
            "%s: a store token sees only its store in /v1/report (by store and by day)" % label,
            (rep, tot))
        st, dv, _ = get(c, "/v1/devices", q1)
        tap(st == 200 and devices_of(dv) == (["d-q1"], ["d-q1"]),
            "%s: a store token sees only its store's device in /v1/devices" % label,
            devices_of(dv))
        outside = [get(c, p, q1)[0:2] for p in ("/v1/report?store=q7", "/v1/report?node=vn/hcm",
                                                "/v1/devices?node=vn/hn/hk",
                                                "/v1/report?store=hk&by=store",
                                                "/v1/report?node=vn/hcm/q1x")]
        tap(all(s == 403 and r["error"]["code"] == "forbidden" for s, r in outside),
            "%s: a store token: 403 forbidden for node= / store= outside its scope (also "
            "vn/hcm/q1x next to vn/hcm/q1)" % label, outside)
        inside = [get(c, p, q1)[0] for p in ("/v1/report?store=q1", "/v1/report?node=vn/hcm/q1",
                                             "/v1/devices?node=vn/hcm/q1/checkout")]
        st, bad, _ = get(c, "/v1/report?node=a//b", q1)
        tap(inside == [200, 200, 200] and st == 400 and "node" in bad["error"]["message"],
            "%s: inside its scope 200; a malformed node path 400 naming the field" % label,
            (inside, st, bad))

        # ---- the analytics endpoints with a store token ----------------------------------------
        views = {p: get(c, p, q1) for p in ("/v1/reasons", "/v1/journey", "/v1/heatmap",
                                            "/v1/rankings?of=store", "/v1/nodes")}
        rk = views["/v1/rankings?of=store"][1] or {}
        nd = views["/v1/nodes"][1] or {}
        hm = views["/v1/heatmap"][1] or {}
        tap(all(st == 200 and js.get("scope") == "vn/hcm/q1" for st, js, _ in views.values())
            and [r["key"] for r in rk.get("rows", [])] == ["q1"]
            and sum(x["customers"] for x in hm.get("cells", [])) == 1
            and nd.get("stores") == ["q1"]
            and all(n["path"].startswith("vn/hcm/q1") for n in nd.get("nodes", [])
                    if n.get("in_scope")),
            "%s: a store token in reasons, journey, heatmap, rankings and nodes: its scope, its "
            "store only" % label, {k: v[1] for k, v in views.items()})
        st, hdr, _, csv = request(c, "GET", "/v1/export.csv?view=rankings&of=store", token=q1)
        text = csv.decode("utf-8-sig", "replace")
        keys = [line.split(",")[0] for line in text.splitlines()[1:] if line]
        tap(st == 200 and hdr.get("content-type", "").startswith("text/csv")
            and "attachment" in hdr.get("content-disposition", "") and keys == ["q1"],
            "%s: a store token's CSV export holds its store only (a download)" % label,
            (st, hdr.get("content-type"), keys))
        denied = [get(c, p + "store=q7", q1)[0]
                  for p in ("/v1/reasons?", "/v1/journey?", "/v1/heatmap?", "/v1/rankings?",
                            "/v1/nodes?", "/v1/export.csv?view=report&")]
        tap(denied == [403] * 6,
            "%s: a store token: 403 for store= outside its scope on every analytics endpoint "
            "and the export" % label, denied)

        # ---- a region token -------------------------------------------------------------------
        st, rep, _ = get(c, "/v1/report?by=store", hcm)
        st2, dv, _ = get(c, "/v1/devices", hcm)
        st3, _, _ = get(c, "/v1/report?store=hk", hcm)
        st4, _, _ = get(c, "/v1/report?node=vn/hn", hcm)
        st5, rep5, _ = get(c, "/v1/report?by=store&store=q7", hcm)
        tap(st == 200 and stores_of(rep) == ["q1", "q7"] and st2 == 200
            and devices_of(dv) == (["d-q1", "d-q7"], ["d-q1", "d-q7"])
            and st3 == 403 and st4 == 403 and st5 == 200 and stores_of(rep5) == ["q7"],
            "%s: a region token sees its stores (report, devices), store= narrows, 403 outside"
            % label, (st, rep, devices_of(dv), st3, st4, st5, rep5))
        st, rep, _ = get(c, "/v1/report?by=store", hn)
        tap(st == 200 and stores_of(rep) == ["hk"],
            "%s: the other region's token sees only its store" % label, rep)

        # ---- admin and unscoped readers --------------------------------------------------------
        st, rep, _ = get(c, "/v1/report?by=store", admin)
        st0, rep0, _ = get(c, "/v1/report", admin)
        st2, dv, _ = get(c, "/v1/devices", admin)
        tap(st == 200 and stores_of(rep) == ["hk", "q1", "q7"] and rep0["total"]["n"] == 3
            and devices_of(dv)[0] == ["d-hk", "d-q1", "d-q7"],
            "%s: an admin token reads unscoped" % label, (rep, devices_of(dv)))

        # ---- revoked --------------------------------------------------------------------------
        fleet_cli(store, "read-token", "revoke", "q1-manager")
        st, _, _ = get(c, "/v1/report", q1)
        st2, _, _, _ = request(c, "POST", "/v1/admin/read-tokens",
                               {"action": "revoke", "name": "hn-lead"}, admin)
        st3, _, _ = get(c, "/v1/report", hn)
        st4, _, _ = get(c, "/v1/report", hcm)
        listed = {t["name"]: t for t in fleet_json(store, "read-token", "list")}
        tap(st == 401 and st2 == 200 and st3 == 401 and st4 == 200
            and listed["q1-manager"]["revoked_ms"] and not listed["hcm-lead"]["revoked_ms"],
            "%s: a revoked token gets 401 at once (CLI and admin API revoke); the others read"
            % label, (st, st2, st3, st4))

        # ---- the audit ------------------------------------------------------------------------
        t_end = int(time.time() * 1000) + 1000
        rows = fleet_json(store, "audit", "reads", "--token", "q1-manager")
        paths = [(r["path"], r["query"], r["status"]) for r in rows]
        want = [("/v1/report", "by=store", 200), ("/v1/report", "", 200),
                ("/v1/devices", "", 200), ("/v1/report", "store=q7", 403),
                ("/v1/report", "node=vn/hcm", 403), ("/v1/devices", "node=vn/hn/hk", 403),
                ("/v1/report", "store=hk&by=store", 403), ("/v1/report", "store=q1", 200),
                ("/v1/report", "node=a//b", 400),
                ("/v1/export.csv", "view=rankings&of=store", 200),
                ("/v1/export.csv", "view=report&store=q7", 403), ("/v1/nodes", "", 200)]
        tap(all(w in paths for w in want)
            and all(r["token"] == "q1-manager" and r["scope"] == "vn/hcm/q1"
                    and r["method"] == "GET" and r["addr"] == "127.0.0.1"
                    and t_end - 600000 < r["at_ms"] <= t_end for r in rows)
            and not any(r["status"] == 401 for r in rows),
            "%s: audit reads --token: every read of the store token with its name, time, "
            "scope, path, query and status (403s included; its 401 after revocation is not a "
            "read)" % label, paths)
        every = fleet_json(store, "audit", "reads")
        names = set(r["token"] for r in every)
        tap({"open", "q1-manager", "hcm-lead", "hn-lead", "admin:ops"} <= names
            and any(r["token"] == "hcm-lead" and r["scope"] == "vn/hcm" for r in every)
            and any(r["token"] == "admin:ops" and r["scope"] == "" for r in every),
            "%s: audit reads: open reads, every token's reads, admin reads unscoped" % label,
            names)
        st, _, js, _ = request(c, "GET", "/v1/admin/read-audit?token=hcm-lead", token=admin)
        st2, _, _, _ = request(c, "GET", "/v1/admin/read-audit", token=hcm)
        tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
        st3, _, js3, _ = request(c, "GET", "/v1/admin/read-audit?since=" + tomorrow, token=admin)
        st4, _, js4, _ = request(c, "GET", "/v1/admin/read-audit?since=soon", token=admin)
        tap(st == 200 and js and all(r["token"] == "hcm-lead" for r in js) and len(js) >= 5
            and st2 == 401 and st3 == 200 and js3 == [] and st4 == 400
            and "$.since" in js4["error"]["message"],
            "%s: GET /v1/admin/read-audit (admin token only) with token= and since= filters; a "
            "bad date 400 naming the field" % label, (st, js and len(js), st2, st3, js3, st4))
        rc, _, err = fleet_cli(store, "audit", "reads", "--since", "2026-13-01", check=False)
        tap(rc == 1 and "$.since" in err, "%s: audit reads --since: a bad date refused" % label,
            (rc, err))

        # ---- admin tokens (issue 12's leftover) ------------------------------------------------
        st, _, js, _ = request(c, "POST", "/v1/admin/admin-tokens",
                               {"action": "add", "name": "temp"}, admin)
        temp = (js or {}).get("token", "")
        st2, _, lst, _ = request(c, "GET", "/v1/admin/admin-tokens", token=temp)
        st3, _, _, _ = request(c, "POST", "/v1/admin/admin-tokens",
                               {"action": "revoke", "name": "temp"}, admin)
        st4, _, _, _ = request(c, "GET", "/v1/admin/admin-tokens", token=temp)
        cli = {t["name"]: t for t in fleet_json(store, "admin-token", "list")}
        tap(st == 200 and len(temp) >= 32 and st2 == 200
            and sorted(t["name"] for t in lst) == ["ops", "temp"] and st3 == 200 and st4 == 401
            and cli["temp"]["revoked_ms"] and not cli["ops"]["revoked_ms"],
            "%s: /v1/admin/admin-tokens adds, lists and revokes admin tokens (revoked: 401)"
            % label, (st, st2, lst, st3, st4))

        # ---- what one token or one address may cost the others ---------------------------------
        c2 = synclib.Collector(store, None, workdir, name="access2-" + label,
                               extra=["--read-rate", "0.01", "--read-burst", "3"]).start()
        first = [get(c2, "/v1/report", hcm)[0] for _ in range(3)]
        st, body, hdr = get(c2, "/v1/report", hcm)
        st2, _, _ = get(c2, "/v1/report", admin)
        st3, _, _ = get(c2, "/v1/devices", admin)
        tap(first == [200, 200, 200] and st == 429 and int(hdr.get("retry-after", "0")) >= 1
            and body["error"]["code"] == "rate_limited" and st2 == 200 and st3 == 200,
            "%s: per-token rate limit: the 4th read of a burst of 3 gets 429 with Retry-After; "
            "another token still reads" % label, (first, st, hdr.get("retry-after"), st2, st3))
        fails = [get(c2, "/v1/report", "wrong-%d" % i)[0] for i in range(20)]
        st, body, hdr = get(c2, "/v1/report", "wrong-again")
        tap(fails == [401] * 20 and st == 429 and int(hdr.get("retry-after", "0")) >= 1,
            "%s: an address failing authentication 20 times gets 429 before its next token is "
            "looked up" % label, (fails, st))
        st, _, _ = get(c, "/v1/report", hcm)
        tap(st == 200, "%s: the first collector's limits are its own (the token reads there)"
            % label, st)
        tap(c2.stop() == 0 and c.stop() == 0,
            "%s: both collectors stop cleanly (exit 0: no sanitizer report)" % label)
        c2 = c = None
    finally:
        if c2:
            c2.stop()
        if c:
            c.stop()


def main():
    workdir = synclib.scratch_dir("tp-access-")
    try:
        run_backend("sqlite:" + os.path.join(workdir, "central.db"), workdir, "sqlite")
        if not pgserver.available():
            print("ok %d - # SKIP no PostgreSQL server binaries" % (N.value + 1))
            N.value += 1
        else:
            with pgserver.PgServer() as pg:
                run_backend(pg.url, workdir, "postgresql")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("1..%d" % N.value)
    return 1 if FAILED.value else 0


if __name__ == "__main__":
    sys.exit(main())
