#!/usr/bin/env python3
"""test_analytics.py - the read side of issue 14 (sync/PROTOCOL.md section 13) with the real
touchpoint-collector, on SQLite and on a real PostgreSQL (tests/support/pgserver.py):

1. A small data set with every number computed by hand below: customers vs answers, reasons by
   band (a follow-up whose rating arrives in a later batch lands in its band), the journey map
   (stages from the touchpoint nodes' "stage" setting, trend against the previous period), the
   heat map in each store's local time (a store under a time zone node, one without: the
   collector's --tz), rankings (n < 30 flagged and never ranked; better / worse only when the
   interval excludes the chain average; change against the previous period), filters change the
   numbers, the CSV export equals the JSON view, devices' pending after the batch and clock.
2. The recount: random ingests, resends, late ratings, earlier answers arriving later and a
   retention run; after each phase every rollup table equals a recount of the raw answers.

Scope (403 outside a reader's node) is checked in tests/unit/test_canalytics.c, which calls the
handlers with a scope (read tokens bound to a node are the access engineer's).

Stdlib only. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import csv
import datetime
import io
import json
import math
import os
import random
import sqlite3
import sys
import time
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_token  # noqa: E402
from tap import check as tap, count as N, failed as FAILED  # noqa: E402

BOOT = "0193a5c2-7f1e-4b7a-9c1d-2f6e8a4b1c3f"
UTC = datetime.timezone.utc


def ms(y, mo, d, h, mi=0, s=0):
    return int(datetime.datetime(y, mo, d, h, mi, s, tzinfo=UTC).timestamp() * 1000)


class Device:
    def __init__(self, dev_id, token, store, tp):
        self.id, self.token, self.store, self.tp = dev_id, token, store, tp
        self.epoch = str(uuid.uuid4())
        self.seq = 0

    def answer(self, session, survey, version, question, kind, value, at, choice=None):
        self.seq += 1
        return {"id": str(uuid.uuid4()), "seq": self.seq, "session": session, "survey": survey,
                "survey_version": version, "question": question, "kind": kind,
                "value": None if kind == "choice" else value,
                "choice": choice if kind == "choice" else None, "lang": "vi",
                "store": self.store, "touchpoint": self.tp, "wall_ms": at,
                "clock_trusted": True, "mono_ms": 1000, "boot_id": BOOT, "flags": []}

    def batch(self, answers, pending=None):
        high = max([a["seq"] for a in answers] + [self.seq])
        return {"protocol": 1, "batch_id": str(uuid.uuid4()),
                "device": {"id": self.id, "epoch": self.epoch, "epoch_first_seq": 1,
                           "app_version": "test", "pending": len(answers) if pending is None
                           else pending, "highest_seq": high, "disk_free": 10 ** 9,
                           "clock_trusted": True, "sent_wall_ms": int(time.time() * 1000),
                           "sent_mono_ms": 2000, "boot_id": BOOT},
                "answers": answers}


def post(c, dev, body):
    req = urllib.request.Request(c.base + "/v1/batches", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + dev.token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def get(c, path):
    st, body = synclib.http_get(c.base + path, timeout=30)
    try:
        return st, json.loads(body)
    except ValueError:
        return st, body


def nps_ci(p, pa, d):
    """NPS and its adjusted-Wald interval, as PROTOCOL 13.1 (tp_nps_compute)."""
    n = p + pa + d
    n2 = n + 3
    pp, dd = (p + 0.75) / n2, (d + 0.75) / n2
    moe = 100 * 1.96 * math.sqrt((pp + dd - (pp - dd) ** 2) / n2)
    score = 100.0 * (p - d) / n
    return score, moe, max(-100, score - moe), min(100, score + moe)


# ---- 1. The hand-computed data set -------------------------------------------------------------

TREE = [("vn/hcm", {"timezone": "Asia/Ho_Chi_Minh"}),
        ("vn/hcm/hcm-q1/entrance", {"stage": "before"}),
        ("vn/hcm/hcm-q1/checkout", {"stage": "during"}),
        ("vn/hcm/hcm-q2/checkout", {"stage": "during"}),
        ("vn/hcm/hcm-q3/checkout", None),
        ("vn/hn/hn-1/checkout", {"stage": "during"})]
DEVICES = [("k-q1-entr", "vn/hcm/hcm-q1/entrance"), ("k-q1-chk", "vn/hcm/hcm-q1/checkout"),
           ("k-q2", "vn/hcm/hcm-q2/checkout"), ("k-q3", "vn/hcm/hcm-q3/checkout"),
           ("k-hn", "vn/hn/hn-1/checkout")]


def sessions(dev, n, survey, version, kind, value, at, reason=None, question="reason"):
    """n customers at time at (a second apart), each a rating and, when reason, a follow-up."""
    out = []
    for i in range(n):
        s = str(uuid.uuid4())
        t = at + i * 1000
        out.append(dev.answer(s, survey, version, "main", kind, value, t))
        if reason:
            out.append(dev.answer(s, survey, version, question, "choice", None, t + 500,
                                  reason(i)))
    return out


def load_hand_set(c, devs):
    q1e, q1c, q2, q3, hn = (devs[d] for d, _ in DEVICES)
    # hcm-q1/checkout, Monday 2026-11-02 02:30 UTC = 09:30 in Ho Chi Minh City: 22 promoters,
    # 8 passives (5 say "slow"), 10 detractors (6 "slow", 4 "rude"). 40 customers, 55 answers.
    a = sessions(q1c, 22, "s1", 1, "nps", 10, ms(2026, 11, 2, 2, 30))
    a += sessions(q1c, 8, "s1", 1, "nps", 8, ms(2026, 11, 2, 2, 40),
                  lambda i: "slow" if i < 5 else None)
    a = [x for x in a if not (x["kind"] == "choice" and x["choice"] is None)]
    a += sessions(q1c, 10, "s1", 1, "nps", 3, ms(2026, 11, 2, 2, 50),
                  lambda i: "slow" if i < 6 else "rude")
    post(c, q1c, q1c.batch(a, pending=len(a) + 4))  # 4 more wait on the device
    # hcm-q1/entrance, Tuesday 2026-11-03 12:00 UTC = 19:00: CSAT 5 x5, 3 x2 (each "dirty"),
    # 3 x2 ... : 5 fives, 3 twos, 2 threes. 10 customers, 13 answers, survey s2.
    a = sessions(q1e, 5, "s2", 1, "csat", 5, ms(2026, 11, 3, 12))
    a += sessions(q1e, 3, "s2", 1, "csat", 2, ms(2026, 11, 3, 12, 5), lambda i: "dirty",
                  question="why")
    a += sessions(q1e, 2, "s2", 1, "csat", 3, ms(2026, 11, 3, 12, 10))
    post(c, q1e, q1e.batch(a))
    # hcm-q2: Monday 03:00 UTC = 10:00, 35 promoters; and in October (the previous period) 35
    # passives on 2026-10-15.
    post(c, q2, q2.batch(sessions(q2, 35, "s1", 1, "nps", 9, ms(2026, 11, 2, 3))))
    post(c, q2, q2.batch(sessions(q2, 35, "s1", 1, "nps", 7, ms(2026, 10, 15, 3))))
    # hcm-q3: Thursday 2026-11-05 04:00 UTC = 11:00, 30 detractors, no follow-ups.
    post(c, q3, q3.batch(sessions(q3, 30, "s1", 1, "nps", 2, ms(2026, 11, 5, 4))))
    # hn-1 (no time zone node: the collector's --tz UTC): Wednesday 2026-11-04 02:00, 5
    # detractors each "slow", survey s1 version 2. The last customer's follow-up comes in one
    # batch and its rating in the next.
    a = sessions(hn, 5, "s1", 2, "nps", 0, ms(2026, 11, 4, 2), lambda i: "slow")
    late_rating = a[8]
    first = a[:8] + [a[9]]
    post(c, hn, hn.batch(first))
    return hn, late_rating


def check_hand_set(label, c, devs):
    hn, late_rating = load_hand_set(c, devs)
    nov = "from=2026-11-01&to=2026-11-30"
    # Reasons before the late rating: the waiting follow-up has no band yet.
    st, rs = get(c, "/v1/reasons?%s&survey=s1&version=2" % nov)
    q = rs["groups"][0]["questions"][0] if st == 200 and rs["groups"] else {}
    bands = {b["band"]: b["n"] for b in q.get("bands", [])}
    tap(bands == {"negative": 4, "neutral": 0, "positive": 0, "none": 1},
        "%s: reasons: a follow-up whose rating has not arrived is in band none (%s)"
        % (label, bands))
    post(c, hn, hn.batch([late_rating]))

    st, rep = get(c, "/v1/report?%s&by=store" % nov)
    tot = rep.get("total", {}) if st == 200 else {}
    tap(tot.get("customers") == 120 and tot.get("answers") == 143 and tot.get("n") == 143,
        "%s: customers 120 and answers 143 counted apart (%s / %s)"
        % (label, tot.get("customers"), tot.get("answers")))
    g = {x["key"]: (x["customers"], x["answers"]) for x in rep.get("groups", [])}
    tap(g == {"hcm-q1": (50, 68), "hcm-q2": (35, 35), "hcm-q3": (30, 30), "hn-1": (5, 10)},
        "%s: by store: customers and answers per store (%s)" % (label, g))
    score, moe, low, high = nps_ci(57, 8, 45)
    n = tot.get("nps", {})
    tap(n.get("score") == round(score, 2) and abs(n.get("moe", 0) - moe) < 0.01
        and abs(n.get("low", 0) - low) < 0.01 and abs(n.get("high", 0) - high) < 0.01,
        "%s: total NPS %.2f with its interval [%.2f, %.2f] (%s)" % (label, score, low, high, n))
    csat = {x["key"]: x["csat"] for x in rep.get("groups", [])}.get("hcm-q1", {})
    tap(csat.get("score") == 50 and csat.get("n") == 10,
        "%s: CSAT of hcm-q1 50%% of 10 with its interval (%s)" % (label, csat))

    st, rep = get(c, "/v1/report?%s&by=day" % nov)
    days = {x["key"]: x["customers"] for x in rep.get("groups", [])} if st == 200 else {}
    tap(days == {"2026-11-02": 75, "2026-11-03": 10, "2026-11-04": 5, "2026-11-05": 30},
        "%s: customers by store-local day (%s)" % (label, days))
    st, rep = get(c, "/v1/report?from=2026-10-01&to=2026-11-30&by=month")
    months = {x["key"]: x["customers"] for x in rep.get("groups", [])} if st == 200 else {}
    tap(months == {"2026-10": 35, "2026-11": 120}, "%s: by month from month rows (%s)"
        % (label, months))
    st, rep = get(c, "/v1/report?from=2026-10-10&to=2026-11-30&by=week")
    weeks = {x["key"]: x["customers"] for x in rep.get("groups", [])} if st == 200 else {}
    tap(weeks == {"2026-W42": 35, "2026-W45": 120}, "%s: by ISO week (%s)" % (label, weeks))
    st, rep = get(c, "/v1/report?%s&by=region" % nov)
    reg = {x["key"]: x["customers"] for x in rep.get("groups", [])} if st == 200 else {}
    tap(reg == {"vn/hcm": 115, "vn/hn": 5}, "%s: by region from the tree (%s)" % (label, reg))

    # Filters change the numbers.
    want = {"store=hcm-q1": 50, "node=vn/hcm": 115, "node=vn/hcm/hcm-q1/entrance": 10,
            "touchpoint=entrance": 10, "survey=s2": 10, "survey=s1&version=1": 105,
            "survey=s1&version=2": 5, "store=hcm-q2&from=2026-10-01&to=2026-10-31": 35,
            "node=vn/hn": 5}
    got = {}
    for f in want:
        path = "/v1/report?%s&by=store" % (f if "from=" in f else nov + "&" + f)
        st, rep = get(c, path)
        got[f] = rep["total"]["customers"] if st == 200 else st
    tap(got == want, "%s: filters change the customers (%s)" % (label, got))
    st, rep = get(c, "/v1/report?%s&node=vn/nowhere" % nov)
    tap(st == 404, "%s: node not in the tree -> 404" % label)
    st, rep = get(c, "/v1/report?%s&by=colour" % nov)
    tap(st == 400 and "by" in rep["error"]["message"], "%s: by=colour -> 400 naming by" % label)
    st, rep = get(c, "/v1/report?from=2026-11-31&to=2026-12-01")
    tap(st == 400 and "from" in rep["error"]["message"], "%s: from=2026-11-31 -> 400" % label)

    # Reasons by band.
    st, rs = get(c, "/v1/reasons?%s" % nov)
    qs = {(q["survey"], q["version"], q["question"]): q for q in rs["groups"][0]["questions"]} \
        if st == 200 else {}
    r1 = {b["band"]: [(o["choice"], o["n"], o["share"]) for o in b["options"]]
          for b in qs.get(("s1", 1, "reason"), {}).get("bands", [])}
    r2 = {b["band"]: [(o["choice"], o["n"]) for o in b["options"]]
          for b in qs.get(("s1", 2, "reason"), {}).get("bands", [])}
    tap(r1 == {"negative": [("slow", 6, 60), ("rude", 4, 40)],
               "neutral": [("slow", 5, 100)], "positive": [], "none": []}
        and r2 == {"negative": [("slow", 5)], "neutral": [], "positive": [], "none": []},
        "%s: reasons of the NPS follow-up by band per survey version, the late rating's "
        "follow-up with the detractors (%s %s)" % (label, r1, r2))
    q2 = qs.get(("s2", 1, "why"), {})
    tap(q2.get("rating_kind") == "csat" and q2["bands"][0]["band_name"] == "dissatisfied"
        and q2["bands"][0]["options"] == [{"choice": "dirty", "n": 3, "share": 100,
                                           "label": None}],
        "%s: CSAT follow-up in the dissatisfied band (%s)" % (label, q2.get("bands")))
    st, rs = get(c, "/v1/reasons?%s&store=hcm-q1&survey=s1" % nov)
    neg = rs["groups"][0]["questions"][0]["bands"][0]["options"] if st == 200 else []
    tap([(o["choice"], o["n"]) for o in neg] == [("slow", 6), ("rude", 4)],
        "%s: reasons filtered to one store (%s)" % (label, neg))
    st, rs = get(c, "/v1/reasons?%s&by=store&survey=s1" % nov)
    keys = [g["key"] for g in rs.get("groups", [])] if st == 200 else []
    tap(keys == ["hcm-q1", "hn-1"], "%s: reasons by store (%s)" % (label, keys))

    # Journey.
    st, jr = get(c, "/v1/journey?%s" % nov)
    stages = {s["stage"]: {(t["store"], t["touchpoint"]): t for t in s["touchpoints"]}
              for s in jr.get("stages", [])} if st == 200 else {}
    tap(list(stages) == ["before", "during", "after", "unassigned"]
        and set(stages["before"]) == {("hcm-q1", "entrance")}
        and set(stages["during"]) == {("hcm-q1", "checkout"), ("hcm-q2", "checkout"),
                                      ("hn-1", "checkout")}
        and set(stages["unassigned"]) == {("hcm-q3", "checkout")} and not stages["after"],
        "%s: journey stages from the nodes' stage setting (%s)"
        % (label, {k: list(v) for k, v in stages.items()}))
    e = stages.get("before", {}).get(("hcm-q1", "entrance"), {})
    tap(e.get("kind") == "csat" and e.get("customers") == 10 and e["score"]["score"] == 50
        and e["top_reason"]["choice"] == "dirty" and e["trend"] is None,
        "%s: journey card hcm-q1/entrance: CSAT 50, top reason dirty, no trend (%s)" % (label, e))
    k = stages.get("during", {}).get(("hcm-q1", "checkout"), {})
    tap(k.get("score", {}).get("score") == 30 and k["top_reason"]["choice"] == "slow"
        and k["top_reason"]["share"] == 60, "%s: journey card hcm-q1/checkout: NPS 30, top "
        "reason slow 60%% (%s)" % (label, k.get("top_reason")))
    q2c = stages.get("during", {}).get(("hcm-q2", "checkout"), {})
    tap(q2c.get("trend") == "up" and q2c.get("delta") == 100 and q2c["previous"]["score"] == 0,
        "%s: journey trend against the previous 30 days: up by 100 (%s)"
        % (label, {x: q2c.get(x) for x in ("trend", "delta")}))

    # Rankings.
    st, rk = get(c, "/v1/rankings?%s" % nov)
    rows = {x["key"]: x for x in rk.get("rows", [])} if st == 200 else {}
    avg = rk.get("average", {})
    tap(avg.get("score") == round(score, 2), "%s: rankings average = the chain's NPS %.2f"
        % (label, score))
    s_q1 = nps_ci(22, 8, 10)
    tap(s_q1[2] < score < s_q1[3] and rows.get("hcm-q1", {}).get("vs_average") == "same"
        and rows["hcm-q1"]["rank"] == 2,
        "%s: hcm-q1 NPS 30 [%.1f, %.1f] includes the average: same, rank 2" % (label, s_q1[2],
                                                                              s_q1[3]))
    tap(rows.get("hcm-q2", {}).get("vs_average") == "better" and rows["hcm-q2"]["rank"] == 1,
        "%s: hcm-q2 interval above the average: better, rank 1" % label)
    tap(rows.get("hcm-q3", {}).get("vs_average") == "worse" and rows["hcm-q3"]["rank"] == 3,
        "%s: hcm-q3 interval below the average: worse, rank 3" % label)
    h = rows.get("hn-1", {})
    tap(h.get("too_few") is True and h.get("rank") is None and h.get("vs_average") is None
        and [x["key"] for x in rk["rows"]][-1] == "hn-1",
        "%s: hn-1 with 5 customers: too_few, unranked, listed last (%s)" % (label, h))
    tap(rows.get("hcm-q2", {}).get("change") == 100
        and rows["hcm-q2"]["change_direction"] == "up"
        and rows.get("hcm-q1", {}).get("change_direction") is None,
        "%s: change vs the previous period: hcm-q2 up 100; hcm-q1 had none (null)" % label)
    st, rk = get(c, "/v1/rankings?%s&of=touchpoint&kind=csat" % nov)
    rows = {x["key"]: x for x in rk.get("rows", [])} if st == 200 else {}
    tap(rows.get("hcm-q1/entrance", {}).get("too_few") is True,
        "%s: touchpoint ranking of CSAT: entrance has 10 customers, too few" % label)

    # Heat map in store-local time.
    st, hm = get(c, "/v1/heatmap?%s" % nov)
    cells = {(x["weekday"], x["hour"]): (x["customers"], x["rated"], x["negative"],
                                         x["negative_share"]) for x in hm.get("cells", [])}
    want = {(0, 9): (40, 40, 10, 25), (0, 10): (35, 35, 0, 0), (1, 19): (10, 10, 3, 30),
            (3, 11): (30, 30, 30, 100), (2, 2): (5, 5, 5, 100)}
    tap(cells == want, "%s: heat map hour x weekday in each store's local time (%s)"
        % (label, cells))

    # CSV export equals the JSON view.
    for view, q in (("report", "&by=store"), ("reasons", ""), ("heatmap", ""),
                    ("rankings", ""), ("journey", "")):
        st, body = synclib.http_get(c.base + "/v1/export.csv?%s&view=%s%s" % (nov, view, q))
        text = body.decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        _, js = get(c, "/v1/%s?%s%s" % (view, nov, q))
        if view == "report":
            ok = [(r["key"], int(r["customers"]), int(r["answers"])) for r in rows] == \
                [(g["key"], g["customers"], g["answers"]) for g in js["groups"]]
        elif view == "reasons":
            ok = [(r["question"], r["band"], r["choice"], int(r["n"])) for r in rows] == \
                [(q["question"], b["band"], o["choice"], o["n"]) for g in js["groups"]
                 for q in g["questions"] for b in q["bands"] for o in b["options"]]
        elif view == "heatmap":
            ok = [(int(r["weekday"]), int(r["hour"]), int(r["customers"])) for r in rows] == \
                [(x["weekday"], x["hour"], x["customers"]) for x in js["cells"]]
        elif view == "rankings":
            ok = [(r["key"], r["rank"], r["vs_average"]) for r in rows] == \
                [(x["key"], "" if x["rank"] is None else str(x["rank"]), x["vs_average"] or "")
                 for x in js["rows"]]
        else:
            ok = [(r["stage"], r["store"], r["touchpoint"], int(r["customers"])) for r in rows] \
                == [(s["stage"], t["store"], t["touchpoint"], t["customers"])
                    for s in js["stages"] for t in s["touchpoints"]]
        tap(st == 200 and ok and len(rows) > 0,
            "%s: export.csv view=%s has the JSON view's %d rows" % (label, view, len(rows)))

    # Nodes for the filters.
    st, nd = get(c, "/v1/nodes")
    tap(st == 200 and "hcm-q2" in nd["stores"] and "hn-1/checkout" in nd["touchpoints"]
        and {x["path"]: x["timezone"] for x in nd["nodes"]}.get("vn/hcm/hcm-q1")
        == "Asia/Ho_Chi_Minh", "%s: /v1/nodes: the tree with resolved time zones" % label)

    # Devices: pending after the batch, the clock in words.
    st, dv = get(c, "/v1/devices")
    d = {x["id"]: x for x in dv.get("devices", [])}.get("k-q1-chk", {})
    tap(d.get("pending") == 4 and d.get("pending_reported") == 59
        and d.get("clock", {}).get("status") == "synchronised",
        "%s: device pending after its accepted batch 4 (it reported 59 with the batch's 55)"
        % label)


# ---- 1b. Labels: the words the customer read, from the survey versions on the collector --------

def label_survey(version, options):
    """A survey "lbl" version with the follow-up "why" whose options are (id, vi, en)."""
    return {"format": 1, "id": "lbl", "version": version, "languages": ["vi", "en"],
            "title": {"vi": "Khảo sát", "en": "Survey"},
            "questions": [
                {"id": "main", "kind": "nps", "prompt": {"vi": "Bạn có giới thiệu?",
                                                         "en": "Would you recommend us?"}},
                {"id": "why", "kind": "choice", "prompt": {"vi": "Vì sao chưa hài lòng?",
                                                           "en": "Why not happy?"},
                 "when": {"question": "main", "op": "<=", "value": 6},
                 "options": [{"id": i, "label": {"vi": v, "en": e}} for i, v, e in options]}],
            "thanks": {"vi": "Cảm ơn", "en": "Thanks"}}


def check_labels(label, c, store_url, devs, workdir):
    """lbl v1 and v2 published (v2 renames "slow"), v9 only on a device: December 2026."""
    for v, opts in ((1, [("slow", "Chờ lâu", "Slow"), ("price", "Giá cao", "High prices")]),
                    (2, [("slow", "Phục vụ chậm", "Slow service"),
                         ("queue", "Xếp hàng dài", "Long queue")])):
        path = os.path.join(workdir, "lbl-%s-%d.json" % (label, v))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(label_survey(v, opts), f, ensure_ascii=False)
        fleet_cli(store_url, "survey", "publish", path)
        time.sleep(0.01)  # v2 published after v1 (published_ms)
    d = devs["k-q1-chk"]
    at = ms(2026, 12, 7, 3)
    a = sessions(d, 3, "lbl", 1, "nps", 2, at, lambda i: "slow", question="why")
    a += sessions(d, 1, "lbl", 1, "nps", 2, at + 10000, lambda i: "price", question="why")
    a += sessions(d, 2, "lbl", 2, "nps", 2, at + 20000, lambda i: "slow", question="why")
    a += sessions(d, 1, "lbl", 2, "nps", 2, at + 30000, lambda i: "queue", question="why")
    a += sessions(d, 2, "lbl", 9, "nps", 2, at + 40000, lambda i: "slow", question="why")
    post(c, d, d.batch(a))
    dec = "from=2026-12-01&to=2026-12-31"
    st, rs = get(c, "/v1/reasons?%s" % dec)
    qs = {q["version"]: q for q in rs["groups"][0]["questions"]} if st == 200 else {}

    def opts(v):
        return [(o["choice"], o["n"], o["label"]) for o in qs[v]["bands"][0]["options"]]
    tap(sorted(qs) == [1, 2, 9] and opts(1) == [
            ("slow", 3, {"vi": "Chờ lâu", "en": "Slow"}),
            ("price", 1, {"vi": "Giá cao", "en": "High prices"})]
        and opts(2) == [("slow", 2, {"vi": "Phục vụ chậm", "en": "Slow service"}),
                        ("queue", 1, {"vi": "Xếp hàng dài", "en": "Long queue"})],
        "%s: labels: each option of /v1/reasons in vi and en from its own survey version (%s)"
        % (label, {v: opts(v) for v in qs}))
    tap(qs.get(1, {}).get("question_label") == {"vi": "Vì sao chưa hài lòng?",
                                                 "en": "Why not happy?"}
        and qs[1]["labelled"] is True,
        "%s: labels: the follow-up's prompt as question_label (%s)"
        % (label, qs.get(1, {}).get("question_label")))
    tap(st == 200 and qs.get(9, {}).get("labelled") is False
        and qs[9]["question_label"] is None and opts(9) == [("slow", 2, None)],
        "%s: labels: a survey version not on the collector: ids, label null, 200 (%s)"
        % (label, qs.get(9)))
    st, jr = get(c, "/v1/journey?%s&store=hcm-q1" % dec)
    tps = [t for s in jr.get("stages", []) for t in s["touchpoints"]] if st == 200 else []
    tr = tps[0]["top_reason"] if len(tps) == 1 else {}
    tap(tr.get("choice") == "slow" and tr.get("n") == 7
        and tr.get("label") == {"vi": "Phục vụ chậm", "en": "Slow service"}
        and tr.get("label_from") == {"survey": "lbl", "version": 2}
        and tr.get("question_label") == {"vi": "Vì sao chưa hài lòng?", "en": "Why not happy?"},
        "%s: labels: the journey's top reason counted by id over 3 versions (7), labelled by "
        "the newest published version (%s)" % (label, tr))
    st, jr = get(c, "/v1/journey?%s&survey=lbl&version=9" % dec)
    tps = [t for s in jr.get("stages", []) for t in s["touchpoints"]] if st == 200 else []
    tr = tps[0]["top_reason"] if len(tps) == 1 else {}
    tap(st == 200 and tr.get("choice") == "slow" and tr.get("label") is None
        and tr.get("label_from") is None,
        "%s: labels: the journey's top reason of an unknown version: id, label null (%s)"
        % (label, tr))
    st, rep = get(c, "/v1/report?%s&by=store" % dec)
    cl = rep.get("choice_labels") if st == 200 else None
    tap(cl == {"slow": {"vi": "Phục vụ chậm", "en": "Slow service"},
               "price": {"vi": "Giá cao", "en": "High prices"},
               "queue": {"vi": "Xếp hàng dài", "en": "Long queue"}}
        and rep["total"]["choice"]["counts"] == {"slow": 7, "price": 1, "queue": 1},
        "%s: labels: the report's choice counts by id with choice_labels (%s)" % (label, cl))
    st, rep = get(c, "/v1/report?%s&survey=lbl&version=9" % dec)
    tap(st == 200 and rep.get("choice_labels") == {"slow": None},
        "%s: labels: report of an unknown version: choice_labels null" % label)
    st, body = synclib.http_get(c.base + "/v1/export.csv?%s&view=reasons" % dec)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8").lstrip("\ufeff"))))
    got = [(r["version"], r["choice"], r["choice_vi"], r["choice_en"], r["question_en"])
           for r in rows if r["band"] == "negative"]
    tap(st == 200 and got == [("1", "slow", "Chờ lâu", "Slow", "Why not happy?"),
                              ("1", "price", "Giá cao", "High prices", "Why not happy?"),
                              ("2", "slow", "Phục vụ chậm", "Slow service", "Why not happy?"),
                              ("2", "queue", "Xếp hàng dài", "Long queue", "Why not happy?"),
                              ("9", "slow", "", "", "")],
        "%s: labels: export.csv view=reasons carries id and label columns (%s)" % (label, got))
    st, body = synclib.http_get(c.base + "/v1/export.csv?%s&view=journey" % dec)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8").lstrip("\ufeff"))))
    got = [(r["top_reason"], r["top_reason_vi"], r["top_reason_en"]) for r in rows]
    tap(st == 200 and got == [("slow", "Phục vụ chậm", "Slow service")],
        "%s: labels: export.csv view=journey carries the top reason's labels (%s)" % (label, got))


# ---- 2. The recount ----------------------------------------------------------------------------

OFF = 7 * 3600  # Asia/Ho_Chi_Minh has no daylight saving


def band(kind, v):
    if kind == "nps":
        return "negative" if v <= 6 else "neutral" if v <= 8 else "positive"
    if kind == "csat":
        return "negative" if v <= 2 else "neutral" if v == 3 else "positive"
    return ""


def local(at):
    t = datetime.datetime.fromtimestamp(at / 1000 + OFF, UTC)
    return int(t.strftime("%Y%m%d")), t.hour, t.weekday()


def recount(answers):
    """The rollups computed from the raw answers (id, session, device, store, touchpoint,
    survey, version, question, kind, value, choice, at_ms, time_source)."""
    first, sband = {}, {}
    for a in sorted(answers, key=lambda a: (a[11], a[0])):
        first.setdefault(a[1], a)
    for a in sorted(answers, key=lambda a: (a[11], a[0])):
        if a[8] != "choice" and a[1] not in sband:
            sband[a[1]] = (band(a[8], a[9]), a[8])
    out = {"ru_cust": {}, "ru_rating": {}, "ru_choice": {}, "ru_hour": {}}

    def bump(t, key, col, ncols):
        v = out[t].setdefault(key, [0] * ncols)
        v[col] += 1

    for s, a in first.items():
        day, hour, dow = local(a[11])
        for per in (day, day // 100):
            dims = (per, a[3], a[4], a[2], a[5], a[6])
            bump("ru_cust", dims, 0, 4)
            bump("ru_hour", dims + (dow, hour), 0, 4)
    for a in answers:
        day, hour, dow = local(a[11])
        for per in (day, day // 100):
            dims = (per, a[3], a[4], a[2], a[5], a[6])
            bump("ru_cust", dims, 1, 4)
            bump("ru_hour", dims + (dow, hour), 1, 4)
            if a[8] == "choice":
                b, k = sband.get(a[1], ("none", ""))
                bump("ru_choice", dims + (a[7], a[10], b, k), 0, 1)
            else:
                bump("ru_rating", dims + (a[7], a[8]), a[9], 11)
                bump("ru_hour", dims + (dow, hour), 2, 4)
                if band(a[8], a[9]) == "negative":
                    bump("ru_hour", dims + (dow, hour), 3, 4)
    return out


KEYS = {"ru_cust": (6, "period, store, touchpoint, device, survey, version",
                    "customers, answers"),
        "ru_rating": (8, "period, store, touchpoint, device, survey, version, question, kind",
                      "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10"),
        "ru_choice": (10, "period, store, touchpoint, device, survey, version, question, choice,"
                      " band, rating_kind", "n"),
        "ru_hour": (8, "period, store, touchpoint, device, survey, version, dow, hour",
                    "customers, answers, rated, negative")}
INTS = {0, 5}


def rollups(query):
    out = {}
    for t, (nk, keys, vals) in KEYS.items():
        rows = query("SELECT %s, %s FROM %s" % (keys, vals, t))
        d = {}
        for r in rows:
            key = tuple(int(x) if i in INTS or (t in ("ru_hour",) and i >= 6) else x
                        for i, x in enumerate(r[:nk]))
            v = [int(x) for x in r[nk:]]
            if any(v):
                d[key] = v
        out[t] = d
    return out


def compare(label, phase, query):
    raw = query("SELECT id, session, device, store, touchpoint, survey, survey_version, question,"
                " kind, value, choice, at_ms, time_source FROM answers")
    raw = [(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7], r[8],
            None if r[9] in (None, "") else int(r[9]), r[10], int(r[11]), r[12]) for r in raw]
    want = recount(raw)
    got = rollups(query)
    want["ru_cust"] = {k: v[:2] for k, v in want["ru_cust"].items()}
    diff = [t for t in want if want[t] != got[t]]
    detail = ""
    for t in diff:
        bad = [(k, got[t].get(k), want[t].get(k)) for k in set(got[t]) | set(want[t])
               if got[t].get(k) != want[t].get(k)][:3]
        detail += " %s: %s" % (t, bad)
    tap(not diff, "%s: recount %s: %d answers, every rollup row equals the raw recount%s"
        % (label, phase, len(raw), detail))
    return len(raw)


def recount_suite(label, store_url, query, execute, workdir):
    rnd = random.Random(14)
    devs = {}
    fleet_cli(store_url, "node", "set", "vn/hcm", "--settings",
              json.dumps({"timezone": "Asia/Ho_Chi_Minh"}))
    for i in range(3):
        node = "vn/hcm/r-%d/tp-%d" % (i % 2, i)
        fleet_cli(store_url, "node", "set", node)
        tok = fleet_token(store_url, "device", "add", "r-%d" % i, "--node", node)
        devs[i] = Device("r-%d" % i, tok, "r-%d" % (i % 2), "tp-%d" % i)
    c = synclib.Collector(store_url, None, workdir, extra=["--tz", "UTC"], name="recount").start()
    try:
        sent = []

        def make(dev, n):
            """n customers around the month change: a rating and 0-2 follow-ups, some
            follow-ups before their rating (seq), some answers earlier than the first one."""
            out = []
            for _ in range(n):
                s = str(uuid.uuid4())
                at = ms(2026, 10, 28, 0) + rnd.randrange(7 * 86400) * 1000
                kind = rnd.choice(["nps", "csat"])
                val = rnd.randint(0, 10) if kind == "nps" else rnd.randint(1, 5)
                r = dev.answer(s, "rs", 1 + rnd.randint(0, 1), "main", kind, val, at)
                f = [dev.answer(s, "rs", r["survey_version"], "why", "choice", None,
                                at + rnd.randint(-30000, 60000), rnd.choice(["a", "b", "c"]))
                     for _ in range(rnd.choice([0, 1, 1, 2]))]
                seq = [r] + f
                if f and rnd.random() < 0.3:
                    seq = f + [r]
                for a, n in zip(seq, sorted(x["seq"] for x in seq)):  # seqs in sending order
                    a["seq"] = n
                out += seq
            return out

        def send(dev, answers):
            i = 0
            while i < len(answers):
                k = rnd.randint(1, 7)
                b = dev.batch(answers[i:i + k])
                post(c, dev, b)
                sent.append((dev, b))
                if rnd.random() < 0.25:  # a resend: duplicates change nothing
                    old_dev, old = rnd.choice(sent)
                    post(c, old_dev, old)
                i += k

        for d in devs.values():
            send(d, make(d, 40))
        compare(label, "after random ingests and resends", query)
        rc, out, err = fleet_cli(store_url, "retention", "--before", "2026-10-31", check=False)
        res = json.loads(out) if rc == 0 else {}
        tap(rc == 0 and res.get("customers", 0) > 0,
            "%s: retention deleted %s customers (%s answers) before 2026-10-31"
            % (label, res.get("customers"), res.get("answers")))
        compare(label, "after retention", query)
        left = query("SELECT count(*) FROM ru_sessions WHERE day < 20261031")
        tap(int(left[0][0]) == 0, "%s: no customer before the cut-off left" % label)
        for d in devs.values():
            send(d, make(d, 25))
        compare(label, "after more ingests", query)
    finally:
        rc = c.stop()
    tap(rc == 0, "%s: recount collector stopped cleanly (no leak reported)" % label, rc)
    # A store of schema 2 (before the rollups) with these answers: opening it builds them.
    # (and of the later versions: 5, comments; 6, read access)
    for t in ("ru_sessions", "ru_cust", "ru_rating", "ru_choice", "ru_hour", "ru_orphans",
              "ru_device", "ru_state", "comments", "comment_keywords", "comment_retention",
              "read_tokens", "read_audit"):
        execute("DROP TABLE %s" % t)
    # (and 7 on PostgreSQL, the month partitions: the step is skipped on a partitioned table)
    execute("DELETE FROM schema_version WHERE version >= 4")
    fleet_cli(store_url, "node", "list")
    compare(label, "of a schema-2 store's answers after its migration (backfill)", query)
    if label == "sqlite":
        sqlite_answers_step7(label, store_url, query, execute)


def sqlite_answers_step7(label, store_url, query, execute):
    """SQLite schema step 7: a store whose answers are still the WITHOUT ROWID table of steps
    1 to 6 gets them as a rowid table, every answer kept, dedup keys intact."""
    before = query("SELECT id, device, epoch, seq, at_ms FROM answers ORDER BY id")
    cols = query("SELECT group_concat(name, ', ') FROM pragma_table_info('answers')")[0][0]
    ddl = query("SELECT sql FROM sqlite_schema WHERE name = 'answers'")[0][0]
    old = ddl.replace("id TEXT NOT NULL UNIQUE", "id TEXT PRIMARY KEY") + " WITHOUT ROWID"
    old = old.replace('"answers"', "answers", 1).replace("CREATE TABLE answers(",
                                                          "CREATE TABLE answers_v6(", 1)
    execute(old)
    execute("INSERT INTO answers_v6 SELECT %s FROM answers" % cols)
    execute("DROP TABLE answers")
    execute("ALTER TABLE answers_v6 RENAME TO answers")
    execute("CREATE INDEX answers_at ON answers(at_ms)")
    execute("DELETE FROM schema_version WHERE version >= 7")
    was = query("SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE name = 'answers'")
    fleet_cli(store_url, "node", "list")
    now = query("SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE name = 'answers'")
    after = query("SELECT id, device, epoch, seq, at_ms FROM answers ORDER BY id")
    idx = query("SELECT count(*) FROM sqlite_schema WHERE name = 'answers_at'")
    tap(was[0][0] == "1" and now[0][0] == "0" and after == before and idx[0][0] == "1",
        "%s: step 7 turned a WITHOUT ROWID answers table (%d answers) into a rowid table with"
        " every answer kept and answers_at rebuilt" % (label, len(before)),
        "was %s now %s, %d vs %d rows" % (was, now, len(after), len(before)))
    v = query("SELECT max(version) FROM schema_version")
    tap(v[0][0] == "7", "%s: schema version 7 after step 7" % label, v)
    compare(label, "after step 7", query)


# ---- Runs --------------------------------------------------------------------------------------

def hand_suite(label, store_url, workdir):
    for path, settings in TREE:
        args = ["node", "set", path]
        if settings:
            args += ["--settings", json.dumps(settings)]
        fleet_cli(store_url, *args)
    devs = {}
    for dev_id, node in DEVICES:
        tok = fleet_token(store_url, "device", "add", dev_id, "--node", node)
        parts = node.split("/")
        devs[dev_id] = Device(dev_id, tok, parts[2], parts[3])
    c = synclib.Collector(store_url, None, workdir, extra=["--tz", "UTC"], name="hand").start()
    try:
        check_hand_set(label, c, devs)
        check_labels(label, c, store_url, devs, workdir)
    finally:
        rc = c.stop()
    tap(rc == 0, "%s: collector stopped cleanly (no leak reported)" % label, rc)


def default_range_suite(label, store_url, workdir):
    """Without from/to a report ends on the latest local today of the chain: a collector on
    UTC-11 serving a store on UTC+14 (25 hours apart, so their dates always differ) counts an
    answer given now in that store."""
    fleet_cli(store_url, "node", "set", "pacific", "--settings",
              json.dumps({"timezone": "Pacific/Kiritimati"}))
    fleet_cli(store_url, "node", "set", "pacific/kir-1/tp")
    tok = fleet_token(store_url, "device", "add", "k-kir", "--node", "pacific/kir-1/tp")
    dev = Device("k-kir", tok, "kir-1", "tp")
    c = synclib.Collector(store_url, None, workdir, extra=["--tz", "Pacific/Pago_Pago"],
                          name="range").start()
    try:
        now = int(time.time() * 1000)
        post(c, dev, dev.batch([dev.answer(str(uuid.uuid4()), "s", 1, "main", "nps", 9, now)]))
        st, rep = get(c, "/v1/report?by=store")
        kir = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=14)))
        want = kir.strftime("%Y-%m-%d")
        n = rep["total"]["customers"] if st == 200 else None
        tap(st == 200 and rep.get("to") == want and n == 1,
            "%s: a report without from/to ends on the chain's latest local day (%s on UTC+14,"
            " the collector on UTC-11) and counts the answer given there now" % (label, want),
            (st, rep.get("to") if st == 200 else rep, n))
    finally:
        rc = c.stop()
    tap(rc == 0, "%s: range collector stopped cleanly" % label, rc)


# The collector's reads of whole months (canalytics.c an_report: a year by store), as it sends
# them, with the period range of every month row.
MONTH_READS = {
    "ru_cust": "SELECT store, SUM(customers), SUM(answers), SUM(corrected), SUM(uncorrected)"
               " FROM ru_cust WHERE (period BETWEEN 190001 AND 999912) GROUP BY 1 ORDER BY 1",
    "ru_rating": "SELECT store, kind, SUM(c0), SUM(c1), SUM(c2), SUM(c3), SUM(c4), SUM(c5),"
                 " SUM(c6), SUM(c7), SUM(c8), SUM(c9), SUM(c10) FROM ru_rating WHERE (period"
                 " BETWEEN 190001 AND 999912) GROUP BY 1, 2 ORDER BY 1, 2",
    "ru_choice": "SELECT store, choice, SUM(n) FROM ru_choice WHERE (period BETWEEN 190001 AND"
                 " 999912) GROUP BY 1, 2 ORDER BY 1, 2",
}


def pg_month_indexes(pg):
    """PostgreSQL step 9: the month rows of ru_cust / ru_rating / ru_choice have covering
    partial indexes, a read of whole months is answered by an index-only scan of them once
    VACUUM has marked the pages all-visible, with the same sums as the table's own rows."""
    got = pg.psql("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ru_%_months'"
                  " ORDER BY 1").split()
    tap(got == ["ru_choice_months", "ru_cust_months", "ru_rating_months"],
        "postgresql: the month rows of ru_cust, ru_rating and ru_choice have their own indexes",
        got)
    pg.psql("VACUUM ANALYZE ru_cust, ru_rating, ru_choice")
    # Tiny tables are read whole; the planner's choice among the indexes is what is checked.
    off = "SET enable_seqscan = off; SET enable_bitmapscan = off; "
    for t, sql in MONTH_READS.items():
        plan = pg.psql(off + "EXPLAIN (ANALYZE, COSTS OFF) " + sql)
        via = pg.psql(off + sql)
        heap = pg.psql("SET enable_indexonlyscan = off; SET enable_indexscan = off; " + sql)
        tap("Index Only Scan using %s_months" % t in plan and "Heap Fetches: 0" in plan
            and via == heap and via.strip() != "",
            "postgresql: a year of %s by store reads its month index only (no heap fetch), same "
            "sums as the table" % t, plan)


def sqlite_query(path):
    def q(sql):
        db = sqlite3.connect(path, timeout=30)
        try:
            return [tuple("" if x is None else str(x) for x in r) for r in db.execute(sql)]
        finally:
            db.close()
    return q


def sqlite_exec(path):
    def x(sql):
        db = sqlite3.connect(path, timeout=30)
        try:
            db.execute(sql)
            db.commit()
        finally:
            db.close()
    return x


def pg_query(pg):
    def q(sql):
        out = pg.psql(sql)
        return [tuple(line.split("|")) for line in out.splitlines() if line]
    return q


def main():
    work = synclib.scratch_dir("tp-analytics-")
    try:
        db = os.path.join(work, "hand.db")
        hand_suite("sqlite", "sqlite:" + db, work)
        default_range_suite("sqlite", "sqlite:" + os.path.join(work, "range.db"), work)
        rdb = os.path.join(work, "recount.db")
        recount_suite("sqlite", "sqlite:" + rdb, sqlite_query(rdb), sqlite_exec(rdb), work)
        if pgserver.available():
            with pgserver.PgServer() as pg:
                hand_suite("postgresql", pg.url, work)
                pg_month_indexes(pg)
                pg.create_db("recount")
                pg2 = pg.url.rsplit("/", 1)[0] + "/recount"

                def q(sql):
                    out = pg.psql(sql, db="recount")
                    return [tuple(line.split("|")) for line in out.splitlines() if line]
                recount_suite("postgresql", pg2, q, lambda sql: pg.psql(sql, db="recount"),
                              work)
        else:
            print("# postgresql not available here: its half skipped")
    finally:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
