#!/usr/bin/env python3
"""test_collector.py - the real touchpoint-collector over HTTP, against SQLite and against a real
PostgreSQL (tests/support/pgserver.py): accepted / duplicate / rejected answers, every status code
of the protocol (400 401 403 413 415 429 503), gzip and gzip bombs, invalid UTF-8, SQL-looking
strings, the clock rule, report numbers computed by hand, device gaps, /metrics, /healthz, and a
headless-Chromium rendering of the dashboard that must show the numbers /v1/report returns.

Stdlib only. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import gzip
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
from tap import check as tap, count as N, failed as FAILED  # noqa: E402

BUILD = os.path.join(ROOT, os.environ.get("TP_BUILD", "build"))
EXE = os.path.join(BUILD, "touchpoint-collector")


# ---- the collector process ----------------------------------------------------------------------

class Collector:
    def __init__(self, store, devices, workdir, extra=()):
        self.log = open(os.path.join(workdir, "collector-%d.log" % time.monotonic_ns()), "w+")
        self.proc = subprocess.Popen([EXE, "--listen", "127.0.0.1:0", "--store", store,
                                      "--devices", devices, "--tz", "Asia/Ho_Chi_Minh"]
                                     + list(extra),
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "listening on port" not in line:
            self.stop()
            raise RuntimeError("collector did not start: %r %s" % (line, self.stderr()))
        self.port = int(line.split("port ")[1].split()[0])

    def stderr(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-3000:]

    def request(self, method, path, body=None, headers=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        finally:
            c.close()

    def get_json(self, path, headers=None):
        st, _, body = self.request("GET", path, headers=headers)
        return st, json.loads(body) if body[:1] in (b"{", b"[") else body

    def post(self, token, body, ctype="application/json", encoding=None):
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        h = {"Content-Type": ctype}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if encoding:
            h["Content-Encoding"] = encoding
        st, hdrs, out = self.request("POST", "/v1/batches", body, h)
        try:
            parsed = json.loads(out)
        except ValueError:
            parsed = None
        return st, hdrs, parsed

    def stop(self):
        """SIGTERM, then the exit status (0 means a clean stop)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode


def add_device(devices, dev):
    r = subprocess.run([EXE, "add-device", dev, "--devices", devices], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("add-device failed: " + r.stderr)
    return r.stdout.strip()


# ---- batches --------------------------------------------------------------------------------------

BOOT = "0b0b0b0b-0000-4000-8000-000000000001"
OTHER_BOOT = "0b0b0b0b-0000-4000-8000-000000000002"


def uid():
    return str(uuid.uuid4())


def local_noon_ms(days_ago):
    """Noon (collector TZ Asia/Ho_Chi_Minh, UTC+7 all year) of today - days_ago, in UTC ms."""
    now = time.time() + 7 * 3600
    day0 = int(now // 86400) * 86400 - 7 * 3600  # local midnight in UTC seconds
    return (day0 - days_ago * 86400 + 12 * 3600) * 1000


def local_day(days_ago):
    return time.strftime("%Y-%m-%d", time.gmtime(local_noon_ms(days_ago) / 1000 + 7 * 3600))


class Device:
    def __init__(self, dev_id, token):
        self.id = dev_id
        self.token = token
        self.epoch = uid()
        self.seq = 0

    def answer(self, kind="nps", value=9, store="hcm-01", touchpoint="exit", days_ago=0,
               seq=None, **over):
        if seq is None:
            self.seq += 1
            seq = self.seq
        a = {"id": uid(), "seq": seq, "session": uid(), "survey": "checkout-nps",
             "survey_version": 2, "question": "recommend", "kind": kind,
             "value": None if kind == "choice" else value,
             "choice": value if kind == "choice" else None, "lang": "vi", "store": store,
             "touchpoint": touchpoint, "wall_ms": local_noon_ms(days_ago), "clock_trusted": True,
             "mono_ms": 1000, "boot_id": BOOT, "flags": []}
        a.update(over)
        return a

    def batch(self, answers, **dev_over):
        d = {"id": self.id, "epoch": self.epoch, "epoch_first_seq": 1, "app_version": "0.1.0",
             "pending": 0, "highest_seq": max([self.seq] + [a.get("seq", 0) for a in answers
                                                           if isinstance(a, dict)
                                                           and isinstance(a.get("seq"), int)]),
             "disk_free": 123456789, "clock_trusted": True,
             "sent_wall_ms": int(time.time() * 1000), "sent_mono_ms": 100000, "boot_id": BOOT}
        d.update(dev_over)
        return {"protocol": 1, "batch_id": uid(), "device": d, "answers": answers}


def rejected_codes(reply):
    return {r["id"]: r["code"] for r in reply.get("rejected", [])}


# ---- the checks -----------------------------------------------------------------------------------

def check_ingest(c, dev, other, label, pg=None):
    """Write side. Returns the answers stored (for the report check)."""
    stored = []

    # A good batch, then the same batch again (plain and gzip): all duplicates.
    answers = [dev.answer(value=v, store="hcm-01", touchpoint="exit", days_ago=1)
               for v in (10, 10, 9, 9, 9, 8, 7, 6, 3, 0)]
    b = dev.batch(answers)
    st, _, rep = c.post(dev.token, b)
    ids = [a["id"] for a in answers]
    tap(st == 200 and rep["ack"] == "touchpoint-collector" and rep["batch_id"] == b["batch_id"]
        and sorted(rep["accepted"]) == sorted(ids) and not rep["duplicates"]
        and not rep["rejected"], "%s: good batch of 10: 200, all accepted, ack and batch id" % label)
    stored += answers
    st, _, rep = c.post(dev.token, b)
    tap(st == 200 and sorted(rep["duplicates"]) == sorted(ids) and not rep["accepted"],
        "%s: the same batch resent: every answer a duplicate" % label)
    st, _, rep = c.post(dev.token, gzip.compress(json.dumps(b).encode()), encoding="gzip")
    tap(st == 200 and sorted(rep["duplicates"]) == sorted(ids),
        "%s: the same batch gzip-encoded: parsed, all duplicates" % label)
    changed = dict(answers[0], value=0, store="hcm-02")
    st, _, rep = c.post(dev.token, dev.batch([changed]))
    tap(st == 200 and rep["duplicates"] == [changed["id"]],
        "%s: a known id with other fields is still a duplicate (first version kept)" % label)

    # One bad answer among good ones is rejected alone.
    good1 = dev.answer(kind="csat", value=5, store="hcm-02", touchpoint="cashier", days_ago=1)
    bad = dev.answer(value=11)
    good2 = dev.answer(kind="csat", value=2, store="hcm-02", touchpoint="cashier", days_ago=0)
    st, _, rep = c.post(dev.token, dev.batch([good1, bad, good2]))
    tap(st == 200 and sorted(rep["accepted"]) == sorted([good1["id"], good2["id"]])
        and rejected_codes(rep) == {bad["id"]: "value_out_of_range"}
        and "11" in rep["rejected"][0]["message"] and rep["rejected"][0]["index"] == 1,
        "%s: one out-of-range answer rejected alone (value_out_of_range, index 1), the rest stored"
        % label)
    stored += [good1, good2]

    # Every rejection code.
    cases = []

    def case(code, what, **over):
        a = dev.answer()
        for k, v in over.items():
            if v is DROP:
                a.pop(k, None)
            else:
                a[k] = v
        cases.append((code, what, a))

    case("missing_field", "no kind", kind=DROP)
    case("missing_field", "no store", store=DROP)
    case("invalid_type", "value as a string", value="9")
    case("invalid_type", "seq as a float", seq=3.5)
    case("invalid_type", "clock_trusted as 1", clock_trusted=1)
    case("invalid_type", "flags not an array", flags="button")
    case("invalid_id", "store with a space", store="hcm 01")
    case("invalid_id", "session not a UUID", session="not-a-uuid")
    case("invalid_id", "SQL in the store id", store="x'; DROP TABLE answers;--")
    case("invalid_id", "SQL in the question id", question="q\"); DELETE FROM devices; --")
    case("invalid_kind", "kind stars", kind="stars")
    case("value_out_of_range", "csat 0", kind="csat", value=0)
    case("value_out_of_range", "ces 8", kind="ces", value=8)
    case("value_out_of_range", "smiley4 5", kind="smiley4", value=5)
    case("value_out_of_range", "survey_version 0", survey_version=0)
    case("value_out_of_range", "negative wall_ms", wall_ms=-5)
    case("too_long", "65-byte survey id", survey="s" * 65)
    case("invalid_field", "unknown flag", flags=["bogus"])
    case("invalid_field", "bad language tag", lang="v")
    case("invalid_field", "a choice id on an nps answer", choice="yes")
    ch = dev.answer(kind="choice", value="yes")
    ch["value"] = 3
    cases.append(("value_out_of_range", "a value on a choice answer", ch))
    case("invalid_field", "a repeated flag", flags=["button", "button"])
    batch = dev.batch([a for _, _, a in cases])
    st, _, rep = c.post(dev.token, batch)
    got = rejected_codes(rep) if st == 200 else {}
    for code, what, a in cases:
        tap(got.get(a["id"]) == code, "%s: %s -> rejected %s (got %s)"
            % (label, what, code, got.get(a["id"])))
    tap(st == 200 and not rep["accepted"], "%s: nothing of the bad answers stored" % label)
    tap(st == 200 and [r["index"] for r in rep["rejected"]] == list(range(len(cases))),
        "%s: rejections listed in request order with their index" % label)

    # Invalid UTF-8 inside a string of one answer: that answer is rejected, the other stored.
    ok_a = dev.answer(kind="smiley4", value=4, store="hcm-01", touchpoint="exit", days_ago=0)
    bad_a = dev.answer(store="PLACEHOLDER")
    raw = json.dumps(dev.batch([ok_a, bad_a])).encode().replace(b"PLACEHOLDER", b"hcm\xff\xfe")
    st, _, rep = c.post(dev.token, raw)
    tap(st == 200 and rep["accepted"] == [ok_a["id"]]
        and rejected_codes(rep) == {bad_a["id"]: "invalid_utf8"},
        "%s: invalid UTF-8 in one answer's store: invalid_utf8, the other answer stored" % label)
    stored.append(ok_a)

    # An id that looks like SQL but is a valid id is stored literally.
    lit = dev.answer(kind="choice", value="DROP.TABLE-answers", store="hcm-01", days_ago=0)
    st, _, rep = c.post(dev.token, dev.batch([lit]))
    tap(st == 200 and rep["accepted"] == [lit["id"]],
        "%s: choice id 'DROP.TABLE-answers' accepted (valid id charset)" % label)
    stored.append(lit)

    # seq_conflict: a new id on a seq that is already stored.
    dup_seq = dev.answer(seq=answers[3]["seq"])
    st, _, rep = c.post(dev.token, dev.batch([dup_seq]))
    tap(st == 200 and rejected_codes(rep) == {dup_seq["id"]: "seq_conflict"},
        "%s: same device+epoch+seq with another id -> seq_conflict" % label)

    # Clock rule: untrusted same boot -> corrected from mono; another boot -> uncorrected.
    corr = dev.answer(kind="ces", value=6, store="hcm-02", touchpoint="exit",
                      clock_trusted=False, wall_ms=978307200000, mono_ms=10000000 - 60000)
    unc = dev.answer(kind="ces", value=2, store="hcm-02", touchpoint="exit", days_ago=2,
                     clock_trusted=False, boot_id=OTHER_BOOT)
    st, _, rep = c.post(dev.token, dev.batch([corr, unc], clock_trusted=False,
                                             sent_mono_ms=10000000))
    tap(st == 200 and sorted(rep["accepted"]) == sorted([corr["id"], unc["id"]]),
        "%s: untrusted-clock answers accepted" % label)
    CORR_AT[label] = rep["received_at_ms"] - 60000 if st == 200 else 0
    stored += [corr, unc]

    # Envelope errors and status codes.
    st, _, rep = c.post(dev.token, b'{"protocol": 1, "batch_id": ')
    tap(st == 400 and rep["error"]["code"] == "malformed", "%s: truncated JSON -> 400 malformed"
        % label)
    bb = dev.batch([dev.answer()])
    bb["protocol"] = "1"
    st, _, rep = c.post(dev.token, bb)
    tap(st == 400 and rep["error"]["code"] == "malformed", "%s: protocol as a string -> 400" % label)
    bb = dev.batch([])
    bb["answers"] = {"0": 1}
    st, _, rep = c.post(dev.token, bb)
    tap(st == 400, "%s: answers not an array -> 400" % label)
    bb = dev.batch([])
    bb["device"]["highest_seq"] = -1
    st, _, rep = c.post(dev.token, bb)
    tap(st == 400, "%s: negative device.highest_seq -> 400" % label)
    st, _, rep = c.post(dev.token, b"\xff\xfe{}")
    tap(st == 400, "%s: binary garbage -> 400" % label)
    st, _, rep = c.post(dev.token + "x", dev.batch([dev.answer()]))
    tap(st == 401 and rep["error"]["code"] == "unauthenticated", "%s: wrong token -> 401" % label)
    st, _, rep = c.post(None, dev.batch([dev.answer()]))
    tap(st == 401, "%s: no Authorization header -> 401" % label)
    st, _, rep = c.post(other.token, dev.batch([dev.answer()]))
    tap(st == 403 and rep["error"]["code"] == "wrong_device",
        "%s: kiosk-02's token with kiosk-01's batch -> 403 wrong_device" % label)
    st, _, rep = c.post(dev.token, dev.batch([dev.answer()]), ctype="text/plain")
    tap(st == 415 and rep["error"]["code"] == "unsupported_media_type",
        "%s: text/plain -> 415" % label)
    st, _, rep = c.post(dev.token, dev.batch([dev.answer()]), encoding="br")
    tap(st == 415, "%s: Content-Encoding br -> 415" % label)
    big = b'{"protocol": 1, "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    st, _, rep = c.post(dev.token, big)
    tap(st == 413 and rep["error"]["code"] == "too_large", "%s: 10 MB body -> 413" % label)
    bomb = gzip.compress(b'{"protocol": 1, "pad": "' + b" " * (40 * 1024 * 1024) + b'"}', 9)
    st, _, rep = c.post(dev.token, bomb, encoding="gzip")
    tap(st == 413 and len(bomb) < 200000,
        "%s: gzip bomb (%d bytes -> 40 MiB) -> 413" % (label, len(bomb)))
    st, _, rep = c.post(dev.token, b"not gzip at all", encoding="gzip")
    tap(st == 400, "%s: broken gzip -> 400" % label)
    many = dev.batch([dev.answer(seq=i + 1000) for i in range(5001)])
    st, _, rep = c.post(dev.token, many)
    tap(st == 413, "%s: 5001 answers -> 413" % label)

    st, rep = c.get_json("/healthz")
    tap(st == 200 and rep["status"] == "ok", "%s: /healthz 200 with the store up" % label)
    return stored


def hand_report(label, c):
    """Report numbers computed by hand from the answers check_ingest stored."""
    day1, day0, day2 = local_day(1), local_day(0), local_day(2)
    st, rep = c.get_json("/v1/report?from=%s&to=%s&by=store" % (day2, day0))
    groups = {g["key"]: g for g in rep["groups"]} if st == 200 else {}
    h1 = groups.get("hcm-01", {})
    # hcm-01 NPS: 10,10,9,9,9,8,7,6,3,0 -> P=5 D=3 n=10 -> NPS 20.0;
    # adjusted Wald: n'=13, p'=5.75/13, d'=3.75/13, var=(p'+d'-(p'-d')^2)/13 = 0.0543924
    # -> MoE = 196 * sqrt(0.0543924) = 45.71 points.
    nps = h1.get("nps", {})
    tap(st == 200 and nps.get("n") == 10 and nps.get("promoters") == 5
        and nps.get("detractors") == 3 and nps.get("score") == 20.0
        and abs(nps.get("moe", 0) - 45.71) < 0.01
        and nps.get("distribution") == [1, 0, 0, 1, 0, 0, 1, 1, 1, 3, 2],
        "%s: report hcm-01 NPS 20.0 +- 45.71 (adjusted Wald), distribution by hand (%s)"
        % (label, nps))
    # hcm-01 also has 1 smiley4 (4) and 1 choice: n = 12.
    tap(h1.get("n") == 12 and h1["smiley4"]["pct_3_4"] == 100.0
        and h1["choice"]["counts"] == {"DROP.TABLE-answers": 1},
        "%s: hcm-01 n=12 with the smiley and the literally stored SQL-looking choice id" % label)
    h2 = groups.get("hcm-02", {})
    # hcm-02: CSAT 5 and 2 -> 50 % of 4-5, mean 3.5; CES 6 (corrected) and 2 (uncorrected):
    # mean 4.0, 50 % of 5-7; one answer uncorrected.
    tap(h2.get("csat", {}).get("pct_4_5") == 50.0 and h2["csat"]["mean"] == 3.5
        and h2["ces"]["mean"] == 4.0 and h2["ces"]["pct_5_7"] == 50.0
        and h2["ces"]["distribution"] == [0, 1, 0, 0, 0, 1, 0] and h2["uncorrected"] == 1,
        "%s: hcm-02 CSAT 50.0%% mean 3.5, CES mean 4.0 and 50%% 5-7, 1 uncorrected (%s)"
        % (label, {k: h2.get(k) for k in ("csat", "ces", "uncorrected")}))
    st, rep = c.get_json("/v1/report?from=%s&to=%s&by=day" % (day2, day0))
    days = {g["key"]: g for g in rep["groups"]} if st == 200 else {}
    # The corrected answer (the device's wall clock said 2001) is filed 1 min before receipt.
    corr_day = time.strftime("%Y-%m-%d", time.gmtime(CORR_AT.get(label, 0) / 1000 + 7 * 3600))
    want = {day0: 3, day1: 11, day2: 1}
    want[corr_day] = want.get(corr_day, 0) + 1
    tap({k: v["n"] for k, v in days.items()} == want
        and days.get(corr_day, {}).get("ces", {}).get("distribution", [0] * 7)[5] == 1
        and days.get(day2, {}).get("uncorrected") == 1,
        "%s: by=day %s (the corrected answer on %s, none in 2001; 1 uncorrected on %s)"
        % (label, {k: v["n"] for k, v in days.items()}, corr_day, day2))
    st, rep = c.get_json("/v1/report?from=%s&to=%s&by=touchpoint&survey=nothing" % (day2, day0))
    tap(st == 200 and rep["groups"] == [] and rep["total"]["n"] == 0,
        "%s: survey filter with an unknown survey: no groups" % label)
    st, rep = c.get_json("/v1/report?from=2026-13-01&to=%s" % day0)
    tap(st == 400, "%s: report with a bad date -> 400" % label)
    st, rep = c.get_json("/v1/report?by=color")
    tap(st == 400, "%s: report by=color -> 400" % label)


def check_gaps(label, c, dev2):
    """kiosk-02 sends seqs 1-3 and 6-7 of 9 (2 still pending): holes 4-5, tail 8-9."""
    ans = [dev2.answer(kind="nps", value=8, store="dn-01", seq=s) for s in (1, 2, 3, 6, 7)]
    # pending counts the batch's own 5 answers (PROTOCOL 3.2): 2 remain on the device after it
    st, _, rep = c.post(dev2.token, dev2.batch(ans, highest_seq=9, pending=7))
    tap(st == 200 and len(rep["accepted"]) == 5, "%s: kiosk-02 batch with a hole stored" % label)
    st, devs = c.get_json("/v1/devices")
    d = {x["id"]: x for x in devs["devices"]}.get("kiosk-02", {}) if st == 200 else {}
    ep = d.get("epochs", [{}])[0]
    tap(ep.get("gaps") == [[4, 5], [8, 9]] and ep.get("missing") == 4
        and ep.get("missing_tail") == 2 and d.get("holes") == 2 and d.get("has_gaps") is True
        and d.get("pending") == 2 and d.get("highest_seq") == 9,
        "%s: /v1/devices kiosk-02: gaps [4-5] [8-9], 2 skipped, tail 2 = pending (%s)"
        % (label, {k: d.get(k) for k in ("missing", "holes", "has_gaps")}))
    ans = [dev2.answer(kind="nps", value=9, store="dn-01", seq=s) for s in (4, 5, 8, 9)]
    st, _, rep = c.post(dev2.token, dev2.batch(ans, highest_seq=9, pending=0))
    st, devs = c.get_json("/v1/devices")
    d = {x["id"]: x for x in devs["devices"]}.get("kiosk-02", {})
    tap(d.get("missing") == 0 and d.get("has_gaps") is False and d["epochs"][0]["gaps"] == []
        and d.get("answers") == 9 and d.get("silent") is False and d.get("app_version") == "0.1.0",
        "%s: after the missing seqs arrive: no gaps, 9 answers, not silent" % label)
    k1 = {x["id"]: x for x in devs["devices"]}.get("kiosk-01", {})
    # Its last stored batch was the untrusted-clock one.
    tap(k1.get("clock_trusted") is False and k1.get("disk_free") == 123456789
        and k1.get("batches", 0) >= 5, "%s: kiosk-01 status (clock, disk, batches) reported"
        % label)


def check_metrics(label, c):
    st, _, body = c.request("GET", "/metrics")
    m = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            m[k] = float(v)
    tap(st == 200 and m.get("touchpoint_answers_accepted_total") == 25
        and m.get("touchpoint_answers_duplicate_total") == 21
        and m.get('touchpoint_answers_rejected_total{code="value_out_of_range"}') == 7
        and m.get('touchpoint_answers_rejected_total{code="seq_conflict"}') == 1
        and m.get('touchpoint_answers_rejected_total{code="invalid_utf8"}') == 1
        and m.get('touchpoint_batches_total{status="413"}') == 3
        and m.get('touchpoint_batches_total{status="401"}') == 2
        and m.get('touchpoint_http_responses_total{status="403"}') == 1
        and m.get('touchpoint_batch_duration_seconds_bucket{le="+Inf"}')
        == m.get("touchpoint_batch_duration_seconds_count") > 20,
        "%s: /metrics counts accepted 25, duplicates 21, rejections by code, statuses, histogram"
        % label)


def check_second_collector(label, store, devices, workdir, dev):
    """Rate limit, read token, devices added while running, SIGINT."""
    tokfile = os.path.join(workdir, "read-token")
    with open(tokfile, "w") as f:
        f.write("s3cret-read\n")
    c = Collector(store, devices, workdir, ["--rate", "0.01", "--burst", "2",
                                            "--read-token-file", tokfile, "--silent-after", "1"])
    try:
        st, _ = c.get_json("/v1/report")
        st2, _ = c.get_json("/v1/devices", headers={"Authorization": "Bearer wrong"})
        st3, rep = c.get_json("/v1/devices", headers={"Authorization": "Bearer s3cret-read"})
        st4, _ = c.get_json("/healthz")
        st5, _, page = c.request("GET", "/")
        tap(st == 401 and st2 == 401 and st3 == 200 and st4 == 200 and st5 == 200
            and b"<svg" not in page[:100] and b"Touchpoint" in page,
            "%s: --read-token-file: /v1/* 401 without or with a wrong token, 200 with it; "
            "/healthz and / open" % label)
        time.sleep(1.2)
        st, rep = c.get_json("/v1/devices", headers={"Authorization": "Bearer s3cret-read"})
        tap(st == 200 and all(d["silent"] for d in rep["devices"]),
            "%s: --silent-after 1: every device silent a second later" % label)
        newdev = Device("kiosk-03", add_device(devices, "kiosk-03"))
        time.sleep(1.2)  # the devices file is checked for changes at most once a second
        st, _, rep = c.post(newdev.token, newdev.batch([]))
        tap(st == 200, "%s: a device added while the collector runs is accepted (%d)" % (label, st))

        codes = [c.post(dev.token, dev.batch([]))[0] for _ in range(3)]
        st, hdrs, rep = c.post(dev.token, dev.batch([]))
        tap(codes == [200, 200, 429] and st == 429 and rep["error"]["code"] == "rate_limited"
            and int(hdrs.get("retry-after", "0")) >= 1,
            "%s: burst 2 then 429 rate_limited with Retry-After %s" % (label, hdrs.get("retry-after")))
    finally:
        if c.proc.poll() is None:
            c.proc.send_signal(2)
            try:
                c.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        tap(c.stop() == 0, "%s: second collector stopped cleanly on SIGINT" % label)


def vi_num(x, fmt):
    """x formatted as the dashboard writes it in its default language, Vietnamese (1.234,5)."""
    return (fmt % x if "%" in fmt else format(x, fmt)).replace(",", "\0").replace(
        ".", ",").replace("\0", ".")


def text_of(dom, elem_id):
    m = re.search(r'id="%s"[^>]*>([^<]*)<' % re.escape(elem_id), dom)
    return m.group(1) if m else None


def check_dashboard(c, workdir):
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chrome:
        tap(False, "dashboard: chromium not installed")
        return
    url = "http://127.0.0.1:%d/" % c.port
    prof = tempfile.mkdtemp(prefix="tp-chrome-")
    shot = os.path.join(workdir, "dashboard.png")
    args = [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + prof,
            "--virtual-time-budget=8000", "--window-size=1280,2200"]
    # The dashboard's presets count the browser's days: a manager's browser in Vietnam, as the
    # expected range (local_day) assumes, whatever zone this test runs in.
    env = dict(os.environ, TZ="Asia/Ho_Chi_Minh")
    try:
        r1 = subprocess.run(args + ["--screenshot=" + shot, url], capture_output=True, timeout=120,
                            env=env)
        r2 = subprocess.run(args + ["--dump-dom", url], capture_output=True, timeout=120, env=env)
    finally:
        shutil.rmtree(prof, ignore_errors=True)
    dom = r2.stdout.decode("utf-8", "replace")
    ok_png = os.path.exists(shot) and os.path.getsize(shot) > 20000
    tap(r1.returncode == 0 and ok_png, "dashboard: headless Chromium screenshot written (%d bytes)"
        % (os.path.getsize(shot) if os.path.exists(shot) else 0))
    if os.environ.get("TP_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["TP_KEEP_SCREENSHOT"])
    tap('data-loaded="1"' in dom, "dashboard: the page loaded its data (no error banner)")

    to, frm = local_day(0), local_day(29)
    _, day = c.get_json("/v1/report?by=day&from=%s&to=%s" % (frm, to))
    _, by_store = c.get_json("/v1/report?by=store&from=%s&to=%s" % (frm, to))
    t = day["total"]
    want_nps = vi_num(t["nps"]["score"], "%.1f")
    tap(text_of(dom, "kpi-nps") == want_nps,
        "dashboard: NPS card shows %s as /v1/report's total (%r)" % (want_nps, text_of(dom, "kpi-nps")))
    tap(vi_num(t["nps"]["moe"], "%.1f") in text_of(dom, "kpi-nps-note"),
        "dashboard: NPS card's note shows the margin of error %.1f" % t["nps"]["moe"])
    tap(text_of(dom, "kpi-n") == vi_num(t["n"], ","),
        "dashboard: responses card shows n = %d" % t["n"])
    tap(text_of(dom, "kpi-csat") == vi_num(t["csat"]["pct_4_5"], "%.1f") + "%",
        "dashboard: CSAT card shows %.1f%%" % t["csat"]["pct_4_5"])
    tap(text_of(dom, "kpi-ces") == vi_num(t["ces"]["mean"], "%.2f"),
        "dashboard: CES card shows %.2f" % t["ces"]["mean"])
    for g in by_store["groups"]:
        row_start = dom.find('data-key="%s"' % g["key"])
        row = dom[row_start:dom.find("</tr>", row_start)] if row_start >= 0 else ""
        want = vi_num(g["nps"]["score"], "%.1f") if g["nps"]["score"] is not None else "-"
        tap(('data-metric="nps">%s<' % want) in row and ('data-metric="n">%s<' % g["n"]) in row,
            "dashboard: store %s row shows n %d and NPS %s" % (g["key"], g["n"], want), row[:600])
    tap('data-device="kiosk-01"' in dom and 'data-device="kiosk-02"' in dom,
        "dashboard: device table lists kiosk-01 and kiosk-02")


def run_suite(label, store_url, workdir, pg=None):
    devices = os.path.join(workdir, "devices-%s.txt" % label)
    dev = Device("kiosk-01", add_device(devices, "kiosk-01"))
    other = Device("kiosk-02", add_device(devices, "kiosk-02"))
    r = subprocess.run([EXE, "add-device", "kiosk-01", "--devices", devices], capture_output=True,
                       text=True)
    tap(r.returncode != 0 and "already" in r.stderr, "%s: add-device refuses a known id" % label)
    lines = [l for l in open(devices) if l.strip()]
    tap(len(lines) == 2 and all(len(l.split()[1]) == 64 for l in lines)
        and dev.token not in open(devices).read(),
        "%s: devices file holds 2 SHA-256 hashes, not the tokens" % label)
    c = Collector(store_url, devices, workdir, ["--rate", "1000", "--burst", "1000",
                                                "--threads", "3"])
    try:
        check_ingest(c, dev, other, label, pg)
        hand_report(label, c)
        check_gaps(label, c, other)
        check_metrics(label, c)
        if label == "sqlite":
            check_dashboard(c, workdir)
        # Store unavailable -> 503 with Retry-After, /healthz 503; back -> 200.
        if pg is not None:
            pg.stop("fast")
            st, hdrs, rep = c.post(dev.token, dev.batch([dev.answer()]))
            tap(st == 503 and rep["error"]["code"] == "store_unavailable"
                and int(hdrs.get("retry-after", "0")) >= 1,
                "%s: PostgreSQL stopped: batch -> 503 store_unavailable with Retry-After" % label)
            st, _ = c.get_json("/healthz")
            tap(st == 503, "%s: PostgreSQL stopped: /healthz 503" % label)
            st, _ = c.get_json("/v1/report")
            tap(st == 503, "%s: PostgreSQL stopped: /v1/report 503" % label)
            pg.start()
            a = dev.answer()
            st, _, rep = c.post(dev.token, dev.batch([a]))
            tap(st == 200 and rep["accepted"] == [a["id"]],
                "%s: PostgreSQL back: the collector reconnects and stores" % label)
            n = pg.psql("SELECT count(*) FROM answers WHERE store LIKE '%DROP%' OR question "
                        "LIKE '%DELETE%'")
            tap(n == "0", "%s: no SQL-looking store/question value reached the table" % label)
        else:
            path = store_url[len("sqlite:"):]
            lock = sqlite3.connect(path, timeout=1, isolation_level=None)
            try:
                lock.execute("BEGIN EXCLUSIVE")
                st, hdrs, rep = c.post(dev.token, dev.batch([dev.answer()]))
                tap(st == 503 and rep["error"]["code"] == "store_unavailable"
                    and int(hdrs.get("retry-after", "0")) >= 1,
                    "%s: database locked by another process past the busy timeout -> 503" % label)
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            db = sqlite3.connect(path)
            try:
                tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
                n = db.execute("SELECT count(*) FROM answers").fetchone()[0]
                mode = db.execute("PRAGMA journal_mode").fetchone()[0]
            finally:
                db.close()
            tap({"answers", "devices", "epochs", "seq_ranges"} <= tables and n == 25
                and mode == "wal",
                "%s: tables intact, 25 answers stored exactly once, WAL mode" % label)
    finally:
        rc = c.stop()
        tap(rc == 0, "%s: collector stopped cleanly on SIGTERM (exit %s)" % (label, rc))
        if rc != 0:
            print("# collector log:\n# " + c.stderr().replace("\n", "\n# "))
    check_second_collector(label, store_url, devices, workdir, dev)


DROP = object()
CORR_AT = {}


def guarded(fn, *args):
    """Runs one suite; an exception is one failed check (with its traceback), not a crash."""
    import traceback
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - reported as a TAP failure
        tap(False, "%s%r raised %s: %s" % (fn.__name__, args[:1], type(e).__name__, e))
        print("# " + traceback.format_exc().replace("\n", "\n# "))


def main():
    if not os.path.exists(EXE):
        tap(False, "no %s (build it first)" % EXE)
        return 1
    workdir = tempfile.mkdtemp(prefix="tp-collector-test-")
    try:
        guarded(run_suite, "sqlite", "sqlite:" + os.path.join(workdir, "central.db"), workdir)
        if not pgserver.available():
            tap(False, "postgresql: server binaries not found under /usr/lib/postgresql")
        else:
            with pgserver.PgServer() as pg:
                guarded(run_suite, "postgresql", pg.url, workdir, pg)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
