#!/usr/bin/env python3
"""test_digest.py - digests (issue 13 item 5, sync/PROTOCOL.md 14.6) end to end: the real
touchpoint-collector with its outbox worker sending e-mail over SMTP to Debian's python3-aiosmtpd
(tests/support/smtpsink.py) on a free loopback port.

Two stores in one region (Asia/Ho_Chi_Minh, opening hours set on the region), answers posted as
device batches on a day two days ago and on the day before it (the previous period). Then:
`digest send-now` of a store's daily digest for that day delivers one e-mail whose subject decodes
to the Vietnamese text (RFC 2047 in the raw header), with a plain-text part, an HTML part without
external resources or scripts, and the day's answers as a CSV attachment that parses; the CSV
holds exactly the store's answers of that local day, and the NPS / CSAT / customers computed from
it, and the numbers the e-mail shows, equal GET /v1/report's for the same day and store. A second
send-now of that period is refused (sent once); the NPS change shown equals the difference of the
two days' reports, the open case (with its age) and the silent device are listed, and the
HTML fits a 390 px phone in the real chromium. A weekly English digest of the region covers both
stores and equals the report's total for the week. The scheduler thread sends each digest's
latest due period on its own, once: a restarted collector sends nothing again. The admin API
(/v1/admin/digests) runs the same operations, and the send-now runs on PostgreSQL as well, where
two collectors' schedulers send a due period once.

Stdlib + aiosmtpd. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import csv
import datetime
import io
import json
import os
import re
import shutil
import sqlite3
import sys
import time
import uuid
import http.client
from zoneinfo import ZoneInfo

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
import smtpsink  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_json, fleet_token  # noqa: E402
from tap import check as tap, count as N, failed as FAILED  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = {d: "07:00-22:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
BOOT = "0b0b0b0b-0000-4000-8000-000000000001"
ANSWER_IDS = []  # (answer id, store, local day, session) of every answer posted


def post_batch(c, token, dev_id, epoch, answers, seq0):
    d = {"id": dev_id, "epoch": epoch, "epoch_first_seq": 1, "app_version": "0.1.0",
         "pending": 0, "highest_seq": seq0 + len(answers) - 1, "disk_free": 1 << 30,
         "clock_trusted": True, "sent_wall_ms": int(time.time() * 1000),
         "sent_mono_ms": 100000, "boot_id": BOOT}
    body = {"protocol": 1, "batch_id": str(uuid.uuid4()), "device": d, "answers": []}
    for i, (at_ms, session, question, kind, value, choice, store, tp) in enumerate(answers):
        aid = str(uuid.uuid4())
        local_day = datetime.datetime.fromtimestamp(at_ms / 1000, TZ).date().isoformat()
        ANSWER_IDS.append((aid, store, local_day, session))
        body["answers"].append({
            "id": aid, "seq": seq0 + i, "session": session,
            "survey": "checkout-nps", "survey_version": 1, "question": question, "kind": kind,
            "value": value, "choice": choice, "lang": "vi", "store": store, "touchpoint": tp,
            "wall_ms": at_ms, "clock_trusted": True, "mono_ms": 1000, "boot_id": BOOT,
            "flags": []})
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
    try:
        conn.request("POST", "/v1/batches", body=json.dumps(body),
                     headers={"Authorization": "Bearer " + token,
                              "Content-Type": "application/json"})
        r = conn.getresponse()
        js = json.loads(r.read())
        if r.status != 200 or len(js.get("accepted", [])) != len(answers):
            raise RuntimeError("batch: %d %r" % (r.status, js))
    finally:
        conn.close()


def answers_of_day(day, store, seed, n_sessions):
    """Sessions spread over the local day: an NPS rating, a CSAT rating, sometimes a reason."""
    out = []
    start = datetime.datetime.combine(day, datetime.time(7, 30), TZ)
    for s in range(n_sessions):
        at = int((start + datetime.timedelta(minutes=37 * s)).timestamp() * 1000)
        sid = str(uuid.uuid4())
        nps = (seed * 7 + s * 5) % 11
        out.append((at, sid, "recommend", "nps", nps, None, store, "checkout"))
        out.append((at + 1000, sid, "satisfied", "csat", 1 + (seed + s) % 5, None, store,
                    "checkout"))
        if nps <= 6:
            out.append((at + 2000, sid, "reason", "choice", None,
                        ("wait", "staff", "price", "wait")[s % 4], store, "checkout"))
    return out


def stopped(c):
    rc = c.stop()
    tap(rc == 0, "the collector (%s) exits 0 on SIGTERM (no sanitizer report)" % c.name,
        "exit %s: %s" % (rc, c.proc.tail()))


def api(c, method, path, token, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
    try:
        h = {"Authorization": "Bearer " + token}
        if body is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=h)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


def by_subject(sink, subject, timeout=60, rcpt=None):
    """Waits for the message with that subject (to rcpt when given); returns (envelope, message)
    or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for env, m in sink.messages():
            if str(m["subject"]) == subject and (not rcpt or env["rcpt_tos"] == [rcpt]):
                return env, m
        time.sleep(0.1)
    return None


def nps_of(values):
    p = sum(1 for v in values if v >= 9)
    d = sum(1 for v in values if v <= 6)
    return round(100.0 * (p - d) / len(values), 2)


def fmt(v):
    s = "%.2f" % v
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return "0" if s == "-0" else s


def phone_width(html, workdir):
    """Renders html in the real chromium (selenium, Debian's chromium-driver) as a 390 px wide
    phone; returns the page's scroll width (no horizontal scrolling: <= 390), or None when
    selenium or chromium is not there."""
    try:
        from selenium import webdriver
    except ImportError:  # a python3 that is not Debian's own
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            from selenium import webdriver
        except ImportError:
            return None
    from selenium.webdriver.chrome.service import Service
    if not os.path.exists("/usr/bin/chromedriver"):
        return None
    path = os.path.join(workdir, "digest.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        o.add_argument(a)
    o.add_experimental_option("mobileEmulation",
                              {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1}})
    o.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(options=o, service=Service(executable_path="/usr/bin/chromedriver"))
    try:
        d.get("file://" + path)
        return d.execute_script("return Math.max(document.documentElement.scrollWidth,"
                                " document.body.scrollWidth)")
    finally:
        d.quit()


def check_mail(label, msg, subject, csv_rows_expected, report_group, sessions_expected):
    raw = msg.as_bytes().decode("ascii", "replace")
    raw_subject = re.search(r"^Subject: (.*(?:\r?\n[ \t].*)*)", raw, re.M)
    tap(str(msg["subject"]) == subject and raw_subject and "=?" in raw_subject.group(1).lower()
        and "utf-8" in raw_subject.group(1).lower(),
        "%s: the subject decodes to the text, RFC 2047 in the raw header" % label,
        "%r / %r" % (str(msg["subject"]), raw_subject and raw_subject.group(1)))
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    text_s = text.get_content() if text else ""
    html_s = html.get_content() if html else ""
    tap(text is not None and html is not None and "<table" in html_s
        and not re.search(r"<script|<link|<img|src=|url\(|@import", html_s, re.I)
        and "max-width:600px" in html_s,
        "%s: plain-text and HTML parts; the HTML is tables with inline styles, no external "
        "resource" % label, html_s[:300])
    atts = [p for p in msg.iter_attachments()]
    rows = []
    if atts:
        data = atts[0].get_content()
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(data)))
    tap(len(atts) == 1 and atts[0].get_filename().endswith(".csv")
        and sorted(r["answer_id"] for r in rows) == sorted(csv_rows_expected),
        "%s: the CSV attachment parses and holds exactly the period's answers of the scope"
        % label, "%d attachments, %d rows, %d expected" % (len(atts), len(rows),
                                                          len(csv_rows_expected)))
    nps_vals = [int(r["value"]) for r in rows if r["kind"] == "nps"]
    csat_vals = [int(r["value"]) for r in rows if r["kind"] == "csat"]
    g = report_group
    ok = (g is not None and nps_vals and g["nps"]["n"] == len(nps_vals)
          and abs(g["nps"]["score"] - nps_of(nps_vals)) < 1e-9
          and g["csat"]["n"] == len(csat_vals)
          and abs(g["csat"]["mean"] - round(sum(csat_vals) / len(csat_vals), 2)) < 1e-9
          and len({r["session_id"] for r in rows}) == sessions_expected)
    tap(ok, "%s: NPS, CSAT and customers from the CSV equal GET /v1/report's" % label,
        "report %r, csv nps %r" % (g and {k: g.get(k) for k in ("nps", "csat")}, nps_vals))
    want = "%s ± %s (n=%d)" % (fmt(g["nps"]["score"]), fmt(g["nps"]["moe"]), g["nps"]["n"]) \
        if g else "?"
    tap(want in text_s and want.replace("±", "&#177;") in html_s.replace("±", "&#177;")
        and (" %s " % sessions_expected) in text_s,
        "%s: the e-mail shows the report's NPS ± margin and the customers" % label,
        "want %r in %r" % (want, text_s[:600]))
    return text_s


def check_postgresql(workdir, sink):
    """The same send-now on a real PostgreSQL: the e-mail arrives with the store's answers of the
    day and numbers equal to the report's; the period is sent once."""
    if not pgserver.available():
        print("ok %d - # SKIP no PostgreSQL server binaries" % (N.value + 1))
        N.value += 1
        return
    with pgserver.PgServer() as pg:
        store = pg.url
        fleet_cli(store, "node", "set", "vn/hcm/hcm-q1/checkout")
        fleet_cli(store, "node", "set", "vn/hcm", "--settings",
                  json.dumps({"timezone": "Asia/Ho_Chi_Minh", "opening_hours": WEEK}))
        tok = fleet_token(store, "device", "add", "kiosk-pg", "--node", "vn/hcm/hcm-q1/checkout")
        fleet_cli(store, "endpoint", "add", "pg-mail", "--kind", "email", "--target",
                  "pg@shop.vn")
        c = synclib.Collector(store, None, workdir, name="digest-pg",
                              extra=["--smtp", sink.url, "--tz", "Asia/Ho_Chi_Minh"]).start()
        try:
            day = datetime.datetime.now(TZ).date() - datetime.timedelta(days=3)
            answers = answers_of_day(day, "hcm-q1", 3, 7)
            del ANSWER_IDS[:]
            post_batch(c, tok, "kiosk-pg", str(uuid.uuid4()), answers, 1)
            dg = fleet_json(store, "digest", "add", "--node", "vn/hcm/hcm-q1", "--period",
                            "daily", "--endpoint", "pg-mail")
            rc, _, err = fleet_cli(store, "digest", "send-now", dg["id"], "--period",
                                   day.isoformat(), check=False)
            subject = "Touchpoint – Báo cáo ngày %s – vn/hcm/hcm-q1" % day.isoformat()
            got = by_subject(sink, subject, rcpt="pg@shop.vn")
            rep = c.get_json("/v1/report?from=%s&to=%s&by=store" % (day, day))
            group = next((g for g in rep["groups"] if g["key"] == "hcm-q1"), None)
            tap(rc == 0 and got is not None, "postgresql: send-now delivers the e-mail", err)
            if got:
                check_mail("postgresql", got[1], subject, [r[0] for r in ANSWER_IDS], group,
                           len({a[1] for a in answers}))
            rc, _, err = fleet_cli(store, "digest", "send-now", dg["id"], "--period",
                                   day.isoformat(), check=False)
            tap(rc == 1 and "was sent at" in err, "postgresql: the period is sent once", err)
        finally:
            stopped(c)
        # two collectors on one PostgreSQL, both schedulers due for the same period of a digest
        # added while no collector runs: one e-mail
        fleet_cli(store, "digest", "add", "--node", "vn/hcm/hcm-q1", "--period", "weekly",
                  "--endpoint", "pg-mail", "--lang", "en")
        now = datetime.datetime.now(TZ)
        this_monday = now.date() - datetime.timedelta(days=now.weekday())
        last_week = this_monday - datetime.timedelta(days=7 if now.time() >= datetime.time(8)
                                                      else 14)
        subject = "Touchpoint – Weekly report %d-W%02d – vn/hcm/hcm-q1" % \
            last_week.isocalendar()[:2]
        two = [synclib.Collector(store, None, workdir, name="digest-pg-%d" % i,
                                 extra=["--smtp", sink.url]) for i in (1, 2)]
        try:
            for x in two:
                x.start()
            end = time.monotonic() + 60
            mine = []
            while time.monotonic() < end and not mine:
                mine = [m for e, m in sink.messages()
                        if e["rcpt_tos"] == ["pg@shop.vn"] and str(m["subject"]) == subject]
                time.sleep(0.1)
            got = mine or None
            time.sleep(4)  # both schedulers' first passes (2 s after each start) are over
            n = sum(1 for e, m in sink.messages()
                    if e["rcpt_tos"] == ["pg@shop.vn"] and str(m["subject"]) == subject)
            tap(got is not None and n == 1, "postgresql: two collectors' schedulers send the due "
                "period once (%d e-mail)" % n,
                pg.psql("SELECT digest_id, period_key, outbox_id FROM digest_runs") + "\n" +
                pg.psql("SELECT id, kind, ref_id, state, attempts, claimed_by FROM outbox") +
                "\n" + pg.psql("SELECT outbox_id, at_ms, status, error FROM delivery_attempts")
                + "\n" + repr([(m["message-id"], str(m["subject"])) for _, m in
                                sink.messages()]))
        finally:
            for x in two:
                if x.proc:
                    stopped(x)


def main():
    workdir = synclib.scratch_dir("tp-digest-")
    sink = c = None
    try:
        store = "sqlite:" + os.path.join(workdir, "central.db")
        fleet_cli(store, "node", "set", "vn/hcm/hcm-q1/checkout")
        fleet_cli(store, "node", "set", "vn/hcm/hcm-q3/checkout")
        fleet_cli(store, "node", "set", "vn/hcm", "--settings",
                  json.dumps({"timezone": "Asia/Ho_Chi_Minh", "opening_hours": WEEK}))
        tok1 = fleet_token(store, "device", "add", "kiosk-q1", "--node", "vn/hcm/hcm-q1/checkout")
        tok3 = fleet_token(store, "device", "add", "kiosk-q3", "--node", "vn/hcm/hcm-q3/checkout")
        fleet_cli(store, "endpoint", "add", "ops-mail", "--kind", "email", "--target",
                  "quanly@shop.vn", "--lang", "vi")
        fleet_cli(store, "endpoint", "add", "hq-mail", "--kind", "email", "--target",
                  "hq@shop.vn", "--lang", "en")
        sink = smtpsink.SmtpSink(os.path.join(workdir, "mail"))
        extra = ["--smtp", sink.url, "--mail-from", "touchpoint@shop.vn", "--tz",
                 "Asia/Ho_Chi_Minh"]
        c = synclib.Collector(store, None, workdir, extra=extra, name="digest").start()

        today = datetime.datetime.now(TZ).date()
        day = today - datetime.timedelta(days=2)
        prev = day - datetime.timedelta(days=1)
        a1 = answers_of_day(day, "hcm-q1", 1, 9)
        a1p = answers_of_day(prev, "hcm-q1", 4, 5)
        a3 = answers_of_day(day, "hcm-q3", 2, 6)
        ep1, ep3 = str(uuid.uuid4()), str(uuid.uuid4())
        post_batch(c, tok1, "kiosk-q1", ep1, a1p + a1, 1)
        post_batch(c, tok3, "kiosk-q3", ep3, a3, 1)
        ids = {}
        d_key = day.isoformat()
        # a device that never sent (silent) and an open case at the store, for the e-mail
        fleet_token(store, "device", "add", "kiosk-idle", "--node", "vn/hcm/hcm-q1/checkout")
        con = sqlite3.connect(os.path.join(workdir, "central.db"))
        opened = int(time.time() * 1000) - (3 * 3600 + 20 * 60) * 1000
        con.execute("INSERT INTO cases(id, node_path, store, title_vi, title_en, state,"
                    " opened_ms, updated_ms) VALUES(?, ?, ?, ?, ?, 'open', ?, ?)",
                    (str(uuid.uuid4()), "vn/hcm/hcm-q1/checkout", "hcm-q1",
                     "Máy in hoá đơn hỏng", "Receipt printer broken", opened, opened))
        con.commit()
        con.close()
        dg = fleet_json(store, "digest", "add", "--node", "vn/hcm/hcm-q1", "--period", "daily",
                        "--endpoint", "ops-mail")
        ids["daily"] = dg["id"]
        rc, out, err = fleet_cli(store, "digest", "send-now", dg["id"], "--period", d_key,
                                 check=False)
        tap(rc == 0 and json.loads(out)["period_key"] == d_key, "send-now of a daily digest",
            err)
        subject = "Touchpoint – Báo cáo ngày %s – vn/hcm/hcm-q1" % d_key
        daily = by_subject(sink, subject)
        tap(daily is not None and daily[0]["rcpt_tos"] == ["quanly@shop.vn"],
            "the e-mail arrives at the endpoint's address", repr([m[0] for m in sink.messages()]))
        rep = c.get_json("/v1/report?from=%s&to=%s&by=store" % (d_key, d_key))
        group = next((g for g in rep["groups"] if g["key"] == "hcm-q1"), None)
        if daily:
            day_ids = [r for r in ANSWER_IDS if r[1] == "hcm-q1" and r[2] == d_key]
            text = check_mail("daily vi", daily[1], subject, [r[0] for r in day_ids], group,
                              len({x[1] for x in a1}))
            width = phone_width(daily[1].get_body(preferencelist=("html",)).get_content(),
                                workdir)
            if width is None:
                print("ok %d - # SKIP no selenium / chromium-driver" % (N.value + 1))
                N.value += 1
            else:
                tap(width <= 390, "daily vi: the HTML fits a 390 px phone in chromium (no "
                    "horizontal scrolling)", "scroll width %s" % width)
            tap("hcm-q1: Máy in hoá đơn hỏng  3 giờ 20 phút" in text
                and "kiosk-idle (vn/hcm/hcm-q1/checkout)  chưa từng gửi" in text
                and "kiosk-q1" not in text,
                "daily vi: the open case with its age and the silent device are listed",
                text[-700:])
            prep = c.get_json("/v1/report?from=%s&to=%s&by=store" % (prev, prev))
            pg = next((g for g in prep["groups"] if g["key"] == "hcm-q1"), None)
            d = round(group["nps"]["score"] - pg["nps"]["score"], 2) if group and pg else None
            nps_line = next((x for x in text.splitlines() if x.startswith("NPS")), "")
            tap(d is not None and nps_line.split()[-1] == ("+" if d > 0 else "") + fmt(d),
                "daily vi: the NPS change against the previous day equals the reports' difference",
                "%r, want %r" % (nps_line, d))
        rc, out, err = fleet_cli(store, "digest", "send-now", dg["id"], "--period", d_key,
                                 check=False)
        tap(rc == 1 and "was sent at" in err, "a second send-now of the period is refused (sent "
            "once)", "%d %s" % (rc, err))
        # weekly, English, the region: both stores
        monday = day - datetime.timedelta(days=day.weekday())
        w_key = "%d-W%02d" % day.isocalendar()[:2]
        dw = fleet_json(store, "digest", "add", "--node", "vn/hcm", "--period", "weekly",
                        "--endpoint", "hq-mail", "--lang", "en")
        ids["weekly"] = dw["id"]
        rc, out, err = fleet_cli(store, "digest", "send-now", dw["id"], "--period", w_key,
                                 check=False)
        tap(rc == 0, "send-now of a weekly digest", err)
        w_subject = "Touchpoint – Weekly report %s – vn/hcm" % w_key
        weekly = by_subject(sink, w_subject)
        sunday = monday + datetime.timedelta(days=6)
        rep = c.get_json("/v1/report?from=%s&to=%s&by=store" % (monday, sunday))
        week_days = {(monday + datetime.timedelta(days=i)).isoformat() for i in range(7)}
        week_ids = [r for r in ANSWER_IDS if r[2] in week_days]
        week_sessions = {r[3] for r in week_ids}
        if weekly:
            check_mail("weekly en", weekly[1], w_subject,
                       [r[0] for r in week_ids], rep["total"], len(week_sessions))
        # the scheduler: a restart makes its first pass at once; each digest's latest due period
        # goes out once.
        stopped(c)
        c = synclib.Collector(store, None, workdir, extra=extra, name="digest2").start()
        now = datetime.datetime.now(TZ)
        due_today = now.time() >= datetime.time(22, 15)
        latest = (now.date() if due_today else now.date() - datetime.timedelta(days=1))
        this_monday = now.date() - datetime.timedelta(days=now.weekday())
        last_week = this_monday - datetime.timedelta(days=7 if now.time() >= datetime.time(8)
                                                      else 14)
        lw_key = "%d-W%02d" % last_week.isocalendar()[:2]
        want = sorted(["Touchpoint – Báo cáo ngày %s – vn/hcm/hcm-q1" % latest.isoformat(),
                       "Touchpoint – Weekly report %s – vn/hcm" % lw_key])
        for w in want:
            by_subject(sink, w)
        # every period once: the hand-sent ones and the latest due ones (the same week when the
        # week sent by hand is the latest due), no other and none twice
        subjects = sorted(str(m["subject"]) for _, m in sink.messages())
        tap(subjects == sorted(set(want) | {subject, w_subject}),
            "the scheduler sends each digest's latest due period, each period once",
            "%r vs %r" % (subjects, want))
        listed = {d["id"]: d for d in fleet_json(store, "digest", "list")}
        tap(listed[ids["daily"]]["last_period_key"] == latest.isoformat(),
            "digest list shows the last period sent", repr(listed))
        stopped(c)
        n_before = len(sink.messages())
        c = synclib.Collector(store, None, workdir, extra=extra, name="digest3").start()
        time.sleep(4)  # the scheduler's first pass is 2 s after start
        tap(len(sink.messages()) == n_before, "a restarted collector sends no period again",
            "%d -> %d" % (n_before, len(sink.messages())))
        rc, _, err = fleet_cli(store, "digest", "add", "--node", "vn/hcm", "--period", "monthly",
                               "--endpoint", "hq-mail", check=False)
        rc2, _, err2 = fleet_cli(store, "digest", "send-now", ids["daily"], "--period",
                                 "2026-W01", check=False)
        tap(rc == 1 and "$.period" in err and rc2 == 1 and "$.period" in err2,
            "a bad period is refused naming the field", err + err2)
        # the admin API runs the same operations
        admin = fleet_token(store, "admin-token", "add", "ops")
        st, js = api(c, "GET", "/v1/admin/digests", admin)
        st2, js2 = api(c, "POST", "/v1/admin/digests", admin,
                       {"action": "send-now", "id": ids["daily"], "period": d_key})
        st3, js3 = api(c, "POST", "/v1/admin/digests", admin,
                       {"action": "add", "node": "vn/hcm", "period": "daily",
                        "endpoint": "no-such"})
        st4, js4 = api(c, "POST", "/v1/admin/digests", admin,
                       {"action": "remove", "id": ids["weekly"]})
        st5, js5 = api(c, "GET", "/v1/admin/digests", admin)
        tap(st == 200 and {d["id"] for d in js} == set(ids.values())
            and st2 == 409 and "was sent at" in js2["error"]["message"]
            and st3 == 404 and "no-such" in js3["error"]["message"]
            and st4 == 200 and [d["id"] for d in js5] == [ids["daily"]],
            "/v1/admin/digests: list, send-now of a sent period 409, unknown endpoint 404, remove",
            repr((st, st2, js2, st3, js3, st4, js5))[:600])
        stopped(c)
        c = None
        check_postgresql(workdir, sink)
    finally:
        if c:
            c.stop()
        if sink:
            sink.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print("1..%d" % N.value)
    return 1 if FAILED.value else 0


if __name__ == "__main__":
    sys.exit(main())
