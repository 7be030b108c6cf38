#!/usr/bin/env python3
"""test_deliver.py - the outbox's delivery (issue 13, item 3) with real parts: the real
touchpoint-collector on a loopback port, a real SMTP server (python3-aiosmtpd,
tests/support/smtpsink.py) and a loopback webhook receiver that checks every Standard Webhooks
signature and timestamp (tests/support/webhooksink.py), on SQLite and on a real PostgreSQL.

  - endpoint add prints an HTTP endpoint's secret once ("whsec_" + base64 of 32 bytes); the
    list and the audit never show it;
  - e-mail arrives: the subject decodes to the exact Vietnamese (and English) text, its raw
    header is RFC 2047 words of at most 75 characters, plain text + HTML parts, Date and
    Message-ID (= the outbox id), every recipient;
  - a webhook rejected 3 times with HTTP 500 is retried and delivered, every attempt logged in
    delivery_attempts (status, latency, error), every request's signature valid;
  - Slack and Google Chat bodies have their templates' shape;
  - an endpoint failing longer than --endpoint-failing-after-ms is marked failing with the
    reason (CLI list and /v1/admin/endpoints), its pending message kept; one success sets it ok;
  - the collector is SIGKILLed while deliveries are pending (some in flight, their claims held)
    and restarted: every message is delivered, and the receiver's webhook-ids after dedup equal
    the outbox ids;
  - PostgreSQL: two collectors share one outbox (FOR UPDATE SKIP LOCKED): each message is
    delivered exactly once; SMTP AUTH; the failing state.
No timing assertions: waits have generous deadlines (the latency is measured in make bench).
"""
import base64
import email
import email.header
import email.policy
import email.utils
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
import http.client

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
import smtpsink  # noqa: E402
import synclib  # noqa: E402
import webhooksink  # noqa: E402
from synclib import fleet_cli  # noqa: E402
from tap import check as tap, count as N, failed as FAILED  # noqa: E402

WAIT_S = 90


def wait_for(fn, timeout=WAIT_S, step=0.2):
    """Polls fn() until it returns a true value; returns the last value."""
    deadline = time.monotonic() + timeout
    v = fn()
    while not v and time.monotonic() < deadline:
        time.sleep(step)
        v = fn()
    return v


def request(c, method, path, body=None, token=None):
    # Strict: a reply that is not JSON fails the test here rather than read as None.
    st, _, _, data = synclib.http_request(c.port, method, path, body, token)
    return st, json.loads(data) if data else None

class Db:
    """Reads the central store directly (SQLite file or PostgreSQL via psql)."""

    def __init__(self, sqlite_path=None, pg=None):
        self.path, self.pg = sqlite_path, pg

    def count(self, sql):
        return int(self.rows(sql)[0][0])

    def rows(self, sql):
        if self.path:
            con = sqlite3.connect(self.path, timeout=30)
            try:
                return [tuple(None if v is None else str(v) for v in r)
                        for r in con.execute(sql).fetchall()]
            finally:
                con.close()
        out = self.pg.psql(sql)
        return [tuple(line.split("|")) for line in out.splitlines() if line]


def bad_batch(dev_id, touchpoints, per=4, store="hcm-q1"):
    """One batch of `per` NPS 0 ratings at each touchpoint of store, now."""
    now = int(time.time() * 1000)
    boot = "0b0b0b0b-0000-4000-8000-000000000001"
    answers = []
    for tp in touchpoints:
        for _ in range(per):
            answers.append({"id": str(uuid.uuid4()), "seq": len(answers) + 1,
                            "session": str(uuid.uuid4()), "survey": "checkout-nps",
                            "survey_version": 1, "question": "recommend", "kind": "nps",
                            "value": 0, "choice": None, "lang": "vi", "store": store,
                            "touchpoint": tp, "wall_ms": now, "clock_trusted": True,
                            "mono_ms": 1000 + len(answers), "boot_id": boot, "flags": []})
    dev = {"id": dev_id, "epoch": str(uuid.uuid4()), "epoch_first_seq": 1,
           "app_version": "0.1.0", "pending": 0, "highest_seq": len(answers),
           "disk_free": 1 << 30, "clock_trusted": True, "sent_wall_ms": now,
           "sent_mono_ms": 100000, "boot_id": boot}
    return {"protocol": 1, "batch_id": str(uuid.uuid4()), "device": dev, "answers": answers}


def stop_clean(c):
    """Stops collector c (SIGTERM) and checks its log has no sanitizer report."""
    st = c.stop()
    with open(c.proc.log_path, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    bad = [k for k in ("AddressSanitizer", "LeakSanitizer", "runtime error:") if k in log]
    tap(st == 0 and not bad, "%s stopped cleanly on SIGTERM (exit 0, no sanitizer report)"
        % c.name, "exit %r, %s" % (st, log[-1500:]))


def add_endpoint(store, name, kind, target, lang=None):
    args = ["endpoint", "add", name, "--kind", kind, "--target", target]
    if lang:
        args += ["--lang", lang]
    return fleet_cli(store, *args)[1].strip()


def queue_test(store, name):
    return json.loads(fleet_cli(store, "endpoint", "test", name)[1])["outbox_id"]


def endpoints(store):
    return {e["name"]: e for e in json.loads(fleet_cli(store, "endpoint", "list", "--json")[1])}


def raw_subject(path_eml):
    with open(path_eml, "rb") as f:
        m = email.message_from_bytes(f.read(), policy=email.policy.compat32)
    return str(m["Subject"])


def check_mail(smtp, want_rcpts, subject, text_has, outbox_id, domain, what):
    msgs = wait_for(lambda: [m for m in smtp.messages() if sorted(m[0]["rcpt_tos"]) ==
                             sorted(want_rcpts)])
    if not tap(len(msgs) >= 1, "%s: the e-mail reached the SMTP server for %s"
               % (what, ", ".join(want_rcpts)), "messages: %r" % [e for e, _ in smtp.messages()]):
        return
    env, m = msgs[0]
    tap(str(m["subject"]) == subject, "%s: the subject decodes to the exact text %r"
        % (what, subject), "got %r" % str(m["subject"]))
    files = sorted(f for f in os.listdir(smtp.folder) if f.endswith(".eml"))
    raws = [raw_subject(os.path.join(smtp.folder, f)) for f in files]
    raw = [r for r in raws if str(email.header.make_header(email.header.decode_header(r)))
           == subject]
    words = raw[0].split() if raw else []
    tap(raw and all(len(w) <= 75 and w.startswith("=?UTF-8?B?") and w.endswith("?=")
                    for w in words) if not subject.isascii() else bool(raw),
        "%s: the raw Subject is RFC 2047 encoded words of at most 75 characters" % what,
        "raw %r" % raws)
    types = [p.get_content_type() for p in m.walk()]
    plain, html = m.get_body(("plain",)), m.get_body(("html",))
    tap("multipart/alternative" in types and plain is not None and html is not None,
        "%s: multipart/alternative with a text/plain and a text/html part" % what, types)
    if plain is not None and html is not None:
        tap(all(t in plain.get_content() for t in text_has) and
            all(t in html.get_content() for t in text_has),
            "%s: both parts carry the text %r (UTF-8)" % (what, text_has),
            plain.get_content()[:300])
    tap(email.utils.parsedate_to_datetime(m["date"]) is not None and
        m["message-id"] == "<%s@%s>" % (outbox_id, domain),
        "%s: Date header and Message-ID <outbox id@sender domain>" % what,
        "%r %r" % (m["date"], m["message-id"]))
    tap(env["mail_from"] == "cx@" + domain, "%s: envelope sender is --mail-from" % what,
        env["mail_from"])


def sqlite_suite(work, smtp, wh):
    db_path = os.path.join(work, "central.db")
    store = "sqlite:" + db_path
    db = Db(sqlite_path=db_path)
    opts = ["--smtp", smtp.url, "--mail-from", "cx@touchpoint.test", "--deliver-backoff-ms",
            "200", "--deliver-timeout-ms", "3000", "--endpoint-failing-after-ms", "1500",
            "--public-url", "https://cx.example.vn"]
    c = synclib.Collector(store, None, work, extra=opts, name="deliver").start()
    try:
        # ---- endpoints and their secrets
        sec = add_endpoint(store, "hook", "webhook", wh.url("/hook/main"))
        ok = re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", sec) is not None
        tap(ok and len(base64.b64decode(sec[6:])) == 32,
            "endpoint add prints the webhook's secret once: whsec_ + base64 of 32 bytes", sec)
        wh.set_secret("/hook/main", sec)
        for name, kind, path, lang in (("slack", "slack", "/hook/slack", "en"),
                                       ("chat", "google_chat", "/hook/chat", "vi"),
                                       ("bad", "webhook", "/hook/bad", None),
                                       ("crash", "webhook", "/hook/crash", None)):
            wh.set_secret(path, add_endpoint(store, name, kind, wh.url(path), lang))
        out = add_endpoint(store, "mail-vi", "email", "quanly@cuahang.vn, ca.truong@cuahang.vn")
        tap("whsec_" not in out and json.loads(out)["kind"] == "email",
            "an e-mail endpoint has no secret", out)
        add_endpoint(store, "mail-en", "email", "manager@shop.example", "en")
        st, _, err = fleet_cli(store, "endpoint", "add", "x", "--kind", "email", "--target",
                               "a@b.vn,nobody", check=False)
        tap(st == 1 and "$.target: address 2" in err,
            "a bad address is refused naming the field and the address", err)

        # ---- e-mail
        id_vi = queue_test(store, "mail-vi")
        id_en = queue_test(store, "mail-en")
        check_mail(smtp, ["quanly@cuahang.vn", "ca.truong@cuahang.vn"],
                   "[Touchpoint] Thử nghiệm: Tin nhắn thử của kênh mail-vi",
                   ["Tin nhắn thử của kênh mail-vi", "Thử kênh thông báo"], id_vi,
                   "touchpoint.test", "vi e-mail")
        check_mail(smtp, ["manager@shop.example"],
                   "[Touchpoint] Test: Test message of endpoint mail-en",
                   ["Test message of endpoint mail-en", "Endpoint test"], id_en,
                   "touchpoint.test", "en e-mail")

        # ---- a digest's own e-mail (the "email" part of the payload) with a CSV attachment
        csv_text = "store,nps\r\nhcm-q1,42\r\n"
        did = str(uuid.uuid4())
        digest = {"type": "digest", "id": did, "created_at": "2026-12-06T15:00:00Z",
                  "case_id": None, "dashboard_url": None,
                  "email": {"subject": "Báo cáo ngày 06/12 · Cửa hàng Quận 1",
                            "text": "NPS 42 ± 9", "html": "<p>NPS <b>42</b> ± 9</p>",
                            "attachments": [{"filename": "tra-loi-2026-12-06.csv",
                                             "content_type": "text/csv",
                                             "content_base64":
                                             base64.b64encode(csv_text.encode()).decode()}]}}
        con = sqlite3.connect(db_path, timeout=30)
        now = int(time.time() * 1000)
        con.execute("INSERT INTO outbox(id, endpoint_id, kind, ref_id, payload_json, created_ms, "
                    "next_attempt_ms) VALUES(?, ?, 'digest', NULL, ?, ?, ?)",
                    (did, endpoints(store)["mail-en"]["id"], json.dumps(digest), now, now))
        con.commit()
        con.close()
        msgs = wait_for(lambda: [m for _, m in smtp.messages() if m["message-id"] ==
                                 "<%s@touchpoint.test>" % did])
        m = msgs[0] if msgs else None
        atts = list(m.iter_attachments()) if m else []
        tap(m is not None and str(m["subject"]) == digest["email"]["subject"] and
            m.get_content_type() == "multipart/mixed" and len(atts) == 1 and
            atts[0].get_filename() == "tra-loi-2026-12-06.csv" and
            atts[0].get_content_type() == "text/csv" and
            atts[0].get_payload(decode=True).decode() == csv_text and
            "NPS 42" in m.get_body(("plain",)).get_content() and
            "<b>42</b>" in m.get_body(("html",)).get_content(),
            "a digest's e-mail: its own subject, text + HTML, and the CSV attachment intact",
            m and [p.get_content_type() for p in m.walk()])

        # ---- webhook: 3 rejections, then delivered; every attempt logged
        wh.reject("/hook/main", 3)
        hid = queue_test(store, "hook")
        wait_for(lambda: hid in wh.delivered("/hook/main"))
        recs = wh.records("/hook/main")
        tap([r["status"] for r in recs] == [500, 500, 500, 204] and
            all(r["id"] == hid for r in recs),
            "webhook rejected 3 times with 500 is retried until delivered (same webhook-id)",
            [(r["id"], r["status"]) for r in recs])
        tap(not wh.errors, "every webhook request carried a valid signature and a fresh "
            "timestamp (receiver checks per the spec)", wh.errors)
        body = recs[-1]["body"] if recs else {}
        tap(body.get("type") == "alert.test" and body.get("id") == hid and
            "alert" in body and "dashboard_url" in body,
            "the webhook body is the canonical event (type, id = webhook-id, alert, link)", body)
        # The receiver answers before the collector records: wait for the record.
        wait_for(lambda: db.rows("SELECT state FROM outbox WHERE id = '%s'" % hid)[0][0] ==
                 "delivered")
        att = db.rows("SELECT status, latency_ms, error FROM delivery_attempts WHERE outbox_id "
                      "= '%s' ORDER BY id" % hid)
        tap(len(att) == 4 and [a[0] for a in att] == ["500", "500", "500", "204"] and
            all(a[2].startswith("HTTP 500") for a in att[:3]) and att[3][2] is None and
            all(int(a[1]) >= 0 for a in att),
            "delivery_attempts logs each attempt: status, latency, error", att)
        row = db.rows("SELECT state, attempts, delivered_ms, claimed_by FROM outbox WHERE id = "
                      "'%s'" % hid)
        tap(row and row[0][0] == "delivered" and row[0][1] == "4" and row[0][2] is not None and
            row[0][3] is None, "the outbox row is delivered after 4 attempts, claim released",
            row)

        # ---- Slack and Google Chat templates
        sid = queue_test(store, "slack")
        cid = queue_test(store, "chat")
        wait_for(lambda: sid in wh.delivered("/hook/slack") and cid in wh.delivered("/hook/chat"))
        sb = (wh.records("/hook/slack") or [{}])[-1].get("body", {})
        blocks = sb.get("blocks") or []
        tap(isinstance(sb.get("text"), str) and isinstance(blocks, list) and blocks and
            blocks[0].get("type") == "header" and
            blocks[0]["text"] == {"type": "plain_text",
                                  "text": "Test: Test message of endpoint slack"} and
            all(b.get("type") in ("header", "section", "actions", "context") for b in blocks) and
            "alert" not in sb,
            "Slack body: {text, blocks} with a header block, in the endpoint's language (en)", sb)
        cb = (wh.records("/hook/chat") or [{}])[-1].get("body", {})
        card = ((cb.get("cardsV2") or [{}])[0]).get("card", {})
        tap(cb.get("text", "").startswith("Thử nghiệm: Tin nhắn thử của kênh chat") and
            card.get("header", {}).get("title", "").startswith("Thử nghiệm") and
            isinstance(card.get("sections"), list),
            "Google Chat body: {text, cardsV2[card{header, sections}]} in Vietnamese", cb)

        # ---- failing endpoint, pending kept, back to ok
        wh.reject("/hook/bad", 10 ** 9)
        bid = queue_test(store, "bad")
        eps = wait_for(lambda: (lambda e: e if e["bad"]["state"] == "failing" else None)(
            endpoints(store)))
        bad = eps["bad"] if eps else endpoints(store)["bad"]
        tap(bad["state"] == "failing" and isinstance(bad["failing_since_ms"], (int, float)) and
            (bad["last_error"] or "").startswith("HTTP 500") and bad["pending"] == 1,
            "an endpoint failing longer than the threshold is marked failing with the reason; "
            "its pending message is kept", bad)
        table = fleet_cli(store, "endpoint", "list")[1]
        line = [ln for ln in table.splitlines() if ln.startswith("bad ")]
        tap(line and "failing" in line[0] and "HTTP 500" in line[0],
            "endpoint list shows state, failing since and the last error", table)
        admin = synclib.fleet_token(store, "admin-token", "add", "ops")
        st, lst = request(c, "GET", "/v1/admin/endpoints", token=admin)
        abad = [e for e in (lst or []) if e.get("name") == "bad"]
        tap(st == 200 and abad and abad[0]["state"] == "failing" and "secret" not in abad[0],
            "/v1/admin/endpoints shows the failing state (and no secret)", lst)
        st, none = request(c, "GET", "/v1/admin/endpoints")
        tap(st == 401, "/v1/admin/endpoints needs the admin token", st)
        wh.reject("/hook/bad", 0)
        eps = wait_for(lambda: (lambda e: e if e["bad"]["state"] == "ok" else None)(
            endpoints(store)))
        bad = (eps or endpoints(store))["bad"]
        tap(bad["state"] == "ok" and bad["pending"] == 0 and bad["failing_since_ms"] is None and
            bid in wh.delivered("/hook/bad"),
            "one success sets the endpoint back to ok and its kept message is delivered", bad)
        audit = json.loads(fleet_cli(store, "audit", "list")[1])
        acts = [a["action"] for a in audit]
        tap(all(a in acts for a in ("endpoint.add", "endpoint.test", "endpoint.failing",
                                    "endpoint.ok")) and "whsec_" not in json.dumps(audit),
            "endpoint add/test and the state changes are audited (no secret in the audit)",
            sorted(set(acts)))
        st, res = request(c, "POST", "/v1/admin/endpoints", {"action": "test", "name": "hook"},
                          token=admin)
        aid = (res or {}).get("outbox_id")
        tap(st == 200 and aid and wait_for(lambda: aid in wh.delivered("/hook/main")),
            "POST /v1/admin/endpoints {action: test} queues a test that is delivered", res)

        # ---- real alerts: a rule on the chain, bad ratings at 6 touchpoints of a store
        fleet_cli(store, "node", "set", "vn/hcm/hcm-q1/checkout")
        token = synclib.fleet_token(store, "device", "add", "k1", "--node",
                                    "vn/hcm/hcm-q1/checkout")
        rule = json.loads(fleet_cli(store, "alert", "add", "--node", "vn", "--kind",
                                    "negative_share", "--name-vi", "Nhiều đánh giá tiêu cực",
                                    "--name-en", "Many negative ratings", "--endpoint", "crash",
                                    "--endpoint", "mail-vi")[1])
        # alert test RULE: a sample through the rule's endpoints (here: its e-mail).
        before = len(smtp.messages())
        fleet_cli(store, "alert", "test", rule["id"])
        msgs = wait_for(lambda: smtp.messages()[before:] if len(smtp.messages()) > before
                        else None)
        tap(msgs and any(str(m["subject"]).startswith("[Touchpoint] Thử nghiệm: ")
                         for _, m in msgs),
            "alert test RULE: the sample reaches the rule's e-mail endpoint as a test",
            [str(m["subject"]) for _, m in msgs or []])

        # ---- SIGKILL while deliveries are pending (some in flight), then restart
        wh.reject("/hook/crash", 2)
        wh.delay("/hook/crash", 1.5)
        wait_for(lambda: db.count("SELECT COUNT(*) FROM outbox o JOIN endpoints e ON e.id = "
                                  "o.endpoint_id WHERE e.name = 'crash' AND o.state = "
                                  "'pending'") == 0, timeout=30)  # the alert test's message
        ids = []
        for _ in range(8):
            st, res = request(c, "POST", "/v1/admin/endpoints",
                              {"action": "test", "name": "crash"}, token=admin)
            ids.append((res or {}).get("outbox_id"))
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
        conn.request("POST", "/v1/batches",
                     json.dumps(bad_batch("k1", ["t%d" % i for i in range(1, 7)])),
                     {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        resp = conn.getresponse()
        reply = json.loads(resp.read() or b"{}")
        conn.close()
        tap(resp.status == 200 and len(reply.get("accepted", [])) == 24,
            "a batch of 24 bad ratings at 6 touchpoints is stored", reply)
        fired = wait_for(lambda: db.count("SELECT COUNT(*) FROM alerts") >= 6, timeout=60)
        tap(fired, "the rule fires one alert per touchpoint window (6 real alerts)",
            db.rows("SELECT id, node_path FROM alerts"))
        wait_for(lambda: len(wh.records("/hook/crash")) >= 2, timeout=20)
        c.proc.p.kill()
        c.proc.p.wait()
        c.proc.log.close()
        pend = db.rows("SELECT COUNT(*) FROM outbox o JOIN endpoints e ON e.id = o.endpoint_id "
                       "WHERE e.name = 'crash' AND o.state = 'pending'")
        held = db.rows("SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL")
        tap(int(pend[0][0]) > 0, "the collector was SIGKILLed with %s of its 15 deliveries pending "
            "(%s claims held)" % (pend[0][0], held[0][0]), pend)
        wh.delay("/hook/crash", 0)
        c.start(port=c.port)
        done = wait_for(lambda: db.count(
            "SELECT COUNT(*) FROM outbox o JOIN endpoints e ON e.id = o.endpoint_id WHERE "
            "e.name = 'crash' AND o.state <> 'delivered'") == 0, timeout=120)
        got = wh.delivered("/hook/crash")
        every = [r[0] for r in db.rows("SELECT o.id FROM outbox o JOIN endpoints e ON e.id = "
                                       "o.endpoint_id WHERE e.name = 'crash'")]
        tap(done and set(got) == set(every) and set(ids) <= set(every) and len(every) == 15,
            "after the restart every message is delivered; webhook-ids after dedup equal the "
            "outbox ids (%d requests answered 2xx for %d ids: 8 tests, 6 alerts, 1 alert test)"
            % (len(got), len(every)),
            "got %r want %r" % (sorted(set(got)), sorted(every)))
        alert_ids = set(r[0] for r in db.rows("SELECT id FROM alerts"))
        seen = set(r["body"]["alert"]["id"] for r in wh.records("/hook/crash")
                   if r["status"] < 300 and r["body"].get("type") == "alert.fired")
        tap(len(alert_ids) == 6 and seen == alert_ids,
            "every real alert reached the receiver (alert ids after dedup equal the alerts "
            "table)", "seen %r alerts %r" % (sorted(seen), sorted(alert_ids)))
        arow = db.rows("SELECT title_vi, node_path FROM alerts ORDER BY id LIMIT 1")[0]
        want = "[Touchpoint] Cảnh báo: %s · %s" % arow
        mails = wait_for(lambda: [m for _, m in smtp.messages() if str(m["subject"]) == want])
        tap(mails and arow[0] in mails[0].get_body(("plain",)).get_content(),
            "a real alert's e-mail: subject decodes to the alert's Vietnamese title and node",
            "want %r among %r" % (want, [str(m["subject"]) for _, m in smtp.messages()]))
        bodies = {}
        same = True
        for r in wh.records("/hook/crash"):
            same = same and bodies.setdefault(r["id"], r["raw"]) == r["raw"]
        tap(same and not wh.errors, "a message sent twice carries the same body and a valid "
            "signature each time", wh.errors)
        stop_clean(c)

        # ---- --smtp-starttls require: a server without STARTTLS gets nothing, the reason logged
        c = synclib.Collector(store, None, work, name="deliver-tls",
                              extra=opts + ["--smtp-starttls", "require",
                                            "--deliver-give-up-ms", "3000"]).start()
        tid = queue_test(store, "mail-vi")
        err = wait_for(lambda: (db.rows("SELECT error FROM delivery_attempts WHERE outbox_id = "
                                        "'%s'" % tid) or [(None,)])[0][0])
        tap(err and ("TLS" in err or "SSL" in err) and
            not [m for _, m in smtp.messages() if m["message-id"] == "<%s@touchpoint.test>" % tid],
            "--smtp-starttls require: no e-mail to a server without STARTTLS, the attempt says "
            "why", err)
        dead = wait_for(lambda: db.rows("SELECT state, attempts FROM outbox WHERE id = '%s'"
                                        % tid)[0][0] == "dead")
        row = db.rows("SELECT state, attempts FROM outbox WHERE id = '%s'" % tid)[0]
        tap(dead and int(row[1]) >= 1 and endpoints(store)["mail-vi"]["dead"] == 1,
            "a message still failing at the give-up age (--deliver-give-up-ms) is dead, kept and "
            "counted in endpoint list", row)
        exe = os.path.join(synclib.build_dir(), "touchpoint-collector")
        r = subprocess.run([exe, "--listen", "127.0.0.1:0", "--store", store, "--smtp",
                            "http://mail.example"], capture_output=True, text=True, timeout=30)
        tap(r.returncode != 0 and "--smtp 'http://mail.example'" in r.stderr,
            "a bad --smtp URL is refused at start naming the option", r.stderr)
    finally:
        stop_clean(c)


def pg_suite(work, wh):
    smtp_dir = os.path.join(work, "mail-auth")
    smtp = smtpsink.SmtpSink(smtp_dir, user="tp-mailer", password="mật-khẩu-42")
    pwfile = os.path.join(work, "smtp.pw")
    with open(pwfile, "w", encoding="utf-8") as f:
        f.write("mật-khẩu-42\n")
    cs = []
    with pgserver.PgServer() as pg:
        try:
            store = pg.url
            db = Db(pg=pg)
            opts = ["--smtp", smtp.url, "--smtp-user", "tp-mailer", "--smtp-password-file",
                    pwfile, "--mail-from", "cx@pg.test", "--deliver-backoff-ms", "200",
                    "--endpoint-failing-after-ms", "1000", "--deliver-workers", "3"]
            for i in range(2):
                cs.append(synclib.Collector(store, None, work, extra=opts,
                                            name="pg%d" % i).start())
            wh.set_secret("/pg/hook", add_endpoint(store, "hook", "webhook", wh.url("/pg/hook")))
            wh.set_secret("/pg/bad", add_endpoint(store, "bad", "webhook", wh.url("/pg/bad")))
            add_endpoint(store, "mail", "email", "cskh@cuahang.vn")
            admin = synclib.fleet_token(store, "admin-token", "add", "ops")
            ids = []
            for i in range(20):
                st, res = request(cs[i % 2], "POST", "/v1/admin/endpoints",
                                  {"action": "test", "name": "hook"}, token=admin)
                ids.append((res or {}).get("outbox_id"))
            wait_for(lambda: set(wh.delivered("/pg/hook")) == set(ids))
            got = wh.delivered("/pg/hook")
            wait_for(lambda: db.count("SELECT COUNT(*) FROM outbox o JOIN endpoints e ON e.id = "
                                      "o.endpoint_id WHERE e.name = 'hook' AND o.state <> "
                                      "'delivered'") == 0)
            att = db.rows("SELECT COUNT(*) FROM delivery_attempts a JOIN endpoints e ON e.id = "
                          "a.endpoint_id WHERE e.name = 'hook'")
            tap(sorted(got) == sorted(ids) and att[0][0] == "20",
                "PostgreSQL, two collectors on one outbox (SKIP LOCKED): 20 messages, each "
                "delivered exactly once", "got %d requests, %s attempts" % (len(got), att))
            mid = queue_test(store, "mail")
            check_mail(smtp, ["cskh@cuahang.vn"],
                       "[Touchpoint] Thử nghiệm: Tin nhắn thử của kênh mail",
                       ["Tin nhắn thử của kênh mail"], mid, "pg.test", "PostgreSQL, SMTP AUTH")
            wh.reject("/pg/bad", 10 ** 9)
            queue_test(store, "bad")
            eps = wait_for(lambda: (lambda e: e if e["bad"]["state"] == "failing" else None)(
                endpoints(store)))
            bad = (eps or endpoints(store))["bad"]
            tap(bad["state"] == "failing" and bad["pending"] == 1 and
                (bad["last_error"] or "").startswith("HTTP 500"),
                "PostgreSQL: the failing state with its reason, pending kept", bad)
            wh.reject("/pg/bad", 0)
            tap(not wh.errors, "PostgreSQL: every signature valid", wh.errors)
        finally:
            for c in cs:
                stop_clean(c)
            smtp.close()


def main():
    if not os.path.exists(os.path.join(synclib.build_dir(), "touchpoint-collector")):
        print("1..0 # SKIP no touchpoint-collector in %s" % synclib.build_dir())
        return 0
    work = synclib.scratch_dir("tp-deliver-")
    smtp = smtpsink.SmtpSink(os.path.join(work, "mail"))
    wh = webhooksink.WebhookSink()
    try:
        sqlite_suite(work, smtp, wh)
        if pgserver.available():
            pg_suite(work, wh)
        else:
            print("# PostgreSQL not available: its checks skipped")
    finally:
        smtp.close()
        wh.close()
        if FAILED:
            for f in sorted(os.listdir(work)):
                if f.endswith(".log"):
                    print("# --- %s" % f)
                    with open(os.path.join(work, f), "rb") as fh:
                        for ln in fh.read().decode("utf-8", "replace").splitlines()[-15:]:
                            print("#   " + ln)
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
