#!/usr/bin/env python3
"""test_comments.py - the collector side of issue 15 with real parts: a real touchpoint-collector
on a SQLite store, links built here in Python from the contract (an independent cross-check of
sync/clink.c: HMAC-SHA256 over "tp-comment-v1\\n" + device + "\\n" + session + "\\n" + x + "\\n",
first 16 bytes, base64url), and Debian's headless Chromium through chromedriver (selenium).

Checks: the page at 360 px (light and dark, screenshots kept in the work folder), filled in
Vietnamese with the consent ticked and sent; the comment in /v1/comments joined to its session's
answers sent before and, in another case, after; expired, forged (bad mac, unknown device,
revoked device) and replayed links refused with the friendly page in the link's language; the
1,000-character limit counted as seen (combining Vietnamese); contact details without consent
refused and not stored; tags (praise, urgent, staff names, a chain's own list with an exact
entry); reads logged in the audit; the retention job clears contact details of old comments and
keeps the counts; privacy export and erase (gone from the CSV export too), both audited.

Every server started here is stopped in a finally block. Prints TAP lines.
"""

import base64
import csv
import hashlib
import hmac
import http.client
import io
import json
import os
import shutil
import sqlite3
import sys
import time
import unicodedata
import urllib.parse
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_json, fleet_token  # noqa: E402
from tap import check, count as N, failed as FAILED  # noqa: E402

NODE = "vn/hcm/hcm-q1/checkout"
LABEL = [""]  # the backend under test, prefixed to every check


def tap(ok, what, why=""):
    return check(ok, "%s: %s" % (LABEL[0], what) if LABEL[0] else what, why)
CONSENT_VI = "Cửa hàng Phở Ngon lưu tên và số điện thoại của bạn 90 ngày để gọi lại."
CONSENT_EN = "Pho Ngon keeps your name and phone for 90 days to call you back."


class SqliteDb:
    """Direct reads of the store for the checks: rows(sql) -> [tuple of text]."""

    def __init__(self, path):
        self.path = path

    def rows(self, sql):
        con = sqlite3.connect(self.path)
        try:
            out = [tuple(None if v is None else str(v) for v in r) for r in con.execute(sql)]
            con.commit()
            return out
        finally:
            con.close()


class PgDb:
    def __init__(self, pg):
        self.pg = pg

    def rows(self, sql):
        out = self.pg.psql(sql)
        return [tuple(line.split("|")) for line in out.splitlines()] if out else []


def one(db, sql):
    r = db.rows(sql)
    return r[0][0] if r else None


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mac(key, dev, session, x):
    k = base64.urlsafe_b64decode(key + "=")
    msg = ("tp-comment-v1\n%s\n%s\n%s\n" % (dev, session, x)).encode()
    return b64u(hmac.new(k, msg, hashlib.sha256).digest()[:16])


def link_query(key, dev, session, x, lang="vi", m=None):
    return "d=%s&s=%s&x=%d&l=%s&m=%s" % (dev, session, x, lang,
                                          m if m is not None else mac(key, dev, session, x))


def request(c, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


def post_form(c, fields):
    body = urllib.parse.urlencode(fields).encode()
    return request(c, "POST", "/c", body,
                   {"Content-Type": "application/x-www-form-urlencoded"})


def state_of(html):
    """The page's state (form, thanks, received, expired, forged, busy) from <main data-state>."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    i = text.find('data-state="')
    return text[i + 12:text.find('"', i + 12)] if i >= 0 else None


def batch(dev, epoch, seq, session, value=9, question="recommend"):
    now = int(time.time() * 1000)
    d = {"id": dev, "epoch": epoch, "epoch_first_seq": 1, "app_version": "0.1.0",
         "pending": 0, "highest_seq": seq, "disk_free": 1 << 30, "clock_trusted": True,
         "sent_wall_ms": now, "sent_mono_ms": 100000,
         "boot_id": "0b0b0b0b-0000-4000-8000-000000000001"}
    a = {"id": str(uuid.uuid4()), "seq": seq, "session": session, "survey": "checkout-nps",
         "survey_version": 1, "question": question, "kind": "nps", "value": value,
         "choice": None, "lang": "vi", "store": "hcm-q1", "touchpoint": "checkout",
         "wall_ms": now, "clock_trusted": True, "mono_ms": 1000,
         "boot_id": "0b0b0b0b-0000-4000-8000-000000000001", "flags": []}
    return {"protocol": 1, "batch_id": str(uuid.uuid4()), "device": d, "answers": [a]}


def send_answers(c, token, body):
    st, _, data = request(c, "POST", "/v1/batches", json.dumps(body),
                          {"Content-Type": "application/json",
                           "Authorization": "Bearer " + token})
    return len(json.loads(data).get("accepted", [])) if st == 200 else 0


def comments(c, query=""):
    return c.get_json("/v1/comments" + ("?" + query if query else ""))


def find(js, session):
    return next((x for x in js["comments"] if x["session"] == session), None)


def browser(workdir):
    try:
        import selenium  # noqa: F401
    except ImportError:  # a python3 other than Debian's (pyenv): use Debian's python3-selenium
        sys.path.append("/usr/lib/python3/dist-packages")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    opts = Options()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=360,800",
              "--user-data-dir=" + os.path.join(workdir, "chromium-profile"),
              "--lang=vi-VN", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    svc = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver",
                  log_path=os.path.join(workdir, "chromedriver.log"))
    return webdriver.Chrome(service=svc, options=opts)


def check_browser(c, key, workdir, dev, token, epoch):
    """The customer's phone: open, type Vietnamese, tick consent, send; light and dark."""
    d = browser(workdir)
    from selenium.webdriver.common.by import By
    session = str(uuid.uuid4())
    # Answers sent before the comment.
    tap(send_answers(c, token, batch(dev, epoch, 1, session, value=3)) == 1,
        "the session's answers arrive before the comment")
    x = int(time.time()) + 1800
    url = c.base + "/c?" + link_query(key, dev, session, x)
    try:
        d.set_window_size(360, 800)
        d.get(url)
        width = d.execute_script("return document.documentElement.clientWidth")
        scroll = d.execute_script("return document.documentElement.scrollWidth")
        tap(width <= 360 and scroll <= width, "360 px: the page fits without sideways scrolling",
            "client %s scroll %s" % (width, scroll))
        tap(d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
            and "Góp ý thêm" in d.title, "the page opens in the link's language (vi)", d.title)
        tap("Phở Ngon" in d.find_element(By.CLASS_NAME, "brand").text,
            "the store's brand name from its node settings")
        tap(CONSENT_VI in d.find_element(By.ID, "consent-text").text,
            "the shop's consent text (vi) from the node settings")
        consent = d.find_element(By.ID, "consent")
        name = d.find_element(By.ID, "name")
        tap(not consent.is_selected() and not name.is_enabled(),
            "consent unticked, contact fields disabled until it is ticked")
        labels = {e.get_attribute("for") for e in d.find_elements(By.TAG_NAME, "label")}
        tap({"text", "consent", "name", "phone", "email"} <= labels,
            "every field has its label (screen readers)", str(labels))
        from selenium.webdriver.common.keys import Keys
        who = "var e=document.activeElement;return e.id||e.getAttribute('hreflang')||e.tagName"
        d.execute_script("document.querySelector('nav a').focus()")  # the page's first stop
        order = [d.execute_script(who)]
        for _ in range(4):
            d.switch_to.active_element.send_keys(Keys.TAB)
            order.append(d.execute_script(who))
        tap(order[:5] == ["vi", "en", "text", "consent", "send"],
            "keyboard focus order: language, text, consent, send (contact fields wait for the "
            "consent)", order)
        bg = d.execute_script("return getComputedStyle(document.body).backgroundColor")
        d.save_screenshot(os.path.join(workdir, "comment-360-light.png"))
        text = "Nhân viên Lan rất nhiệt tình, cảm ơn! Nhưng sàn nhà ướt, tôi suýt trượt ngã."
        ta = d.find_element(By.ID, "text")
        ta.send_keys(text)
        count = d.find_element(By.ID, "count").text
        tap(count.startswith("%d / 1000" % len(text)), "the counter counts what is seen", count)
        consent.click()
        tap(name.is_enabled(), "ticking consent enables the contact fields")
        name.send_keys("Trần Thị Bích")
        d.find_element(By.ID, "phone").send_keys("+84 901 234 567")
        d.execute_cdp_cmd("Emulation.setEmulatedMedia",
                          {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        dark = d.execute_script("return getComputedStyle(document.body).backgroundColor")
        tap(bg != dark and dark == "rgb(18, 18, 18)", "the phone's dark mode is followed",
            "light %s dark %s" % (bg, dark))
        d.save_screenshot(os.path.join(workdir, "comment-360-dark.png"))
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        d.find_element(By.ID, "send").click()
        main = d.find_element(By.ID, "main")
        tap(main.get_attribute("data-state") == "thanks" and "Cảm ơn" in main.text,
            "sent: the thank-you page", main.text)
        d.save_screenshot(os.path.join(workdir, "comment-360-thanks.png"))
        # The same link again: already received.
        d.get(url)
        tap(d.find_element(By.ID, "main").get_attribute("data-state") == "received",
            "the link opened again says the comment was received")
        # Language switch (l is not MAC'd).
        d.get(url.replace("l=vi", "l=en"))
        tap(d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
            and "Already received" in d.find_element(By.ID, "main").text,
            "the page switches to English")
        # The 1,000-character counter on a fresh link, with combining Vietnamese.
        s2 = str(uuid.uuid4())
        d.get(c.base + "/c?" + link_query(key, dev, s2, x))
        long_text = unicodedata.normalize("NFD", "ệ") * 1000
        ta = d.find_element(By.ID, "text")
        d.execute_script("arguments[0].value = arguments[1];"
                         "arguments[0].dispatchEvent(new Event('input'))", ta, long_text)
        c1000 = d.find_element(By.ID, "count").text
        ok1000 = d.find_element(By.ID, "send").is_enabled()
        d.execute_script("arguments[0].value = arguments[1];"
                         "arguments[0].dispatchEvent(new Event('input'))", ta, long_text + "ệ")
        c1001 = d.find_element(By.ID, "count").text
        tap(c1000.startswith("1000 / 1000") and ok1000 and c1001.startswith("1001 / 1000")
            and not d.find_element(By.ID, "send").is_enabled(),
            "1,000 combining Vietnamese characters (3,000 code points) fit; 1,001 do not",
            "%r %r" % (c1000, c1001))
    finally:
        d.quit()
    shots = os.environ.get("TP_SCREENSHOTS")  # e.g. docs/screenshots: keep the pictures
    if shots:
        for name in ("comment-360-light.png", "comment-360-dark.png", "comment-360-thanks.png"):
            shutil.copy(os.path.join(workdir, name), os.path.join(shots, name))
    js = comments(c)
    got = find(js, session)
    tap(got is not None and got["text"] == text and got["lang"] == "vi",
        "the comment is in /v1/comments as typed", json.dumps(js)[:400])
    if got:
        tap(got["answered"] and [a["value"] for a in got["answers"]] == [3],
            "joined to the session's answers sent before it", json.dumps(got)[:400])
        contact = got.get("contact") or {}
        tap(contact.get("name") == "Trần Thị Bích" and contact.get("phone") == "0901234567"
            and contact.get("consent_version") == "2026-01" and contact.get("consent_ms"),
            "contact details stored with consent, in their own fields, with the consent version",
            json.dumps(contact))
        tap({"praise", "urgent", "staff:Lan"} <= set(got["tags"]),
            "tags: praise, urgent (trượt ngã) and the store's staff name", str(got["tags"]))
        tap(got["store"] == "hcm-q1" and got["touchpoint"] == "checkout" and got["node"] == NODE,
            "the comment carries the device's store and touchpoint")
    return session


def check_after(c, key, dev, token, epoch):
    """A comment first, its session's answers days later."""
    session = str(uuid.uuid4())
    x = int(time.time()) + 600
    q = dict(urllib.parse.parse_qsl(link_query(key, dev, session, x)))
    st, _, html = post_form(c, dict(q, text="Thanh toán hơi chậm."))
    tap(st == 200 and state_of(html) == "thanks", "a comment sent by form post", st)
    got = find(comments(c), session)
    tap(got is not None and not got["answered"] and got["answers"] == [],
        "before its answers arrive the comment stands alone")
    tap(send_answers(c, token, batch(dev, epoch, 2, session, value=6)) == 1,
        "the session's answers arrive after the comment")
    got = find(comments(c), session)
    tap(got is not None and got["answered"] and [a["value"] for a in got["answers"]] == [6],
        "joined to the session's answers sent after it", json.dumps(got)[:300])
    # Replay of the same form: one comment per session.
    st, _, html = post_form(c, dict(q, text="Lần hai"))
    tap(st == 200 and state_of(html) == "received" and "đã được gửi" in html.decode(),
        "a second submission of the same link says it was received (vi)")
    tap(sum(1 for x2 in comments(c)["comments"] if x2["session"] == session) == 1
        and find(comments(c), session)["text"] == "Thanh toán hơi chậm.",
        "the replay stored nothing")


def check_answer_order(c, key, dev, token, epoch):
    """A rating and its follow-up stored with the same time read in the customer's order (seq),
    in /v1/comments and the CSV: "recommend" before "reason", not the ids' alphabetical order."""
    session = str(uuid.uuid4())
    body = batch(dev, epoch, 900, session, value=4)
    a = body["answers"][0]
    body["answers"].append(dict(a, id=str(uuid.uuid4()), seq=901, question="reason",
                                kind="choice", value=None, choice="wait"))
    body["device"]["highest_seq"] = 901
    tap(send_answers(c, token, body) == 2, "a rating and its follow-up with the same time")
    q = dict(urllib.parse.parse_qsl(link_query(key, dev, session, int(time.time()) + 600)))
    st, _, html = post_form(c, dict(q, text="Chờ lâu quá."))
    got = find(comments(c, "limit=500"), session) or {}
    st2, _, csv_body = request(c, "GET", "/v1/comments.csv")
    rows = list(csv.DictReader(io.StringIO(csv_body.decode("utf-8").lstrip("\ufeff"))))
    row = next((r for r in rows if r["session"] == session), {})
    tap(st == 200 and state_of(html) == "thanks" and st2 == 200
        and [x.get("question") for x in got.get("answers", [])] == ["recommend", "reason"]
        and row.get("answers") == "recommend=4;reason=wait",
        "its answers in the customer's order in /v1/comments and the CSV",
        (got.get("answers"), row.get("answers")))


def check_refusals(c, key, db):
    dev = "k1"
    session = str(uuid.uuid4())
    past = int(time.time()) - 3600
    st, _, html = request(c, "GET", "/c?" + link_query(key, dev, session, past, "en"))
    tap(st == 410 and state_of(html) == "expired" and b"This link has expired" in html,
        "an expired link: the friendly page in English", st)
    st, _, html = request(c, "GET", "/c?" + link_query(key, dev, session, past, "vi"))
    tap(state_of(html) == "expired" and "Liên kết đã hết hạn" in html.decode(),
        "... and in Vietnamese")
    q = dict(urllib.parse.parse_qsl(link_query(key, dev, session, past)))
    st, _, html = post_form(c, dict(q, text="muộn"))
    tap(st == 410 and state_of(html) == "expired", "an expired link's form post is refused")
    future = int(time.time()) + 600
    good = mac(key, dev, session, future)
    bad = ("A" if good[0] != "A" else "B") + good[1:]
    st, _, html = request(c, "GET", "/c?" + link_query(key, dev, session, future, "en", bad))
    tap(st == 403 and state_of(html) == "forged" and b"not valid" in html,
        "a forged mac: refused, friendly page (en)", st)
    st, _, html = request(c, "GET", "/c?" + link_query(key, dev, session, future + 60, "vi", good))
    tap(st == 403 and state_of(html) == "forged", "a changed expiry breaks the mac")
    st, _, html = request(c, "GET", "/c?" + link_query(key, "nobody", session, future))
    tap(st == 403 and state_of(html) == "forged", "an unknown device: refused as forged")
    q = dict(urllib.parse.parse_qsl(link_query(key, dev, session, future, "vi", bad)))
    st, _, html = post_form(c, dict(q, text="giả mạo"))
    tap(st == 403 and state_of(html) == "forged", "a forged form post stores nothing")
    # Contact details without consent.
    s3 = str(uuid.uuid4())
    q = dict(urllib.parse.parse_qsl(link_query(key, dev, s3, future)))
    st, _, html = post_form(c, dict(q, text="Gọi cho tôi", phone="0912345678"))
    tap(st == 400 and state_of(html) == "form" and "đánh dấu ô đồng ý" in html.decode(),
        "contact details without the consent ticked: refused with the reason", st)
    st, _, html = post_form(c, dict(q, text="x" * 10, consent="yes", email="not-an-address"))
    tap(st == 400 and state_of(html) == "form", "a malformed e-mail address is refused")
    st, _, html = post_form(c, dict(q, text=unicodedata.normalize("NFD", "ệ") * 1001))
    tap(st == 400 and "1.000" in html.decode(), "1,001 characters refused by the server")
    n = one(db, "SELECT count(*) FROM comments WHERE session = '%s'" % s3)
    tap(n == "0", "nothing of the refused forms was stored")
    st, _, html = post_form(c, dict(q, text=unicodedata.normalize("NFD", "ệ") * 1000))
    tap(st == 200 and state_of(html) == "thanks", "1,000 characters (3,000 code points) accepted")
    s4 = str(uuid.uuid4())
    q = dict(urllib.parse.parse_qsl(link_query(key, dev, s4, future)))
    family = "\U0001F468\u200D\U0001F469\u200D\U0001F467"  # one character seen, 5 code points
    st, _, html = post_form(c, dict(q, text=family * 1000))
    tap(st == 200 and state_of(html) == "thanks",
        "1,000 emoji families (18 KB, 54 KB percent-encoded) accepted as 1,000 characters", st)


def run_backend(store, db, label, workdir, with_browser):
    c = None
    LABEL[0] = label
    try:
        tokens = synclib.fleet_setup(store, ["k1", "k2"], node=NODE)
        fleet_cli(store, "node", "set", "vn", "--settings", json.dumps({
            "brand": {"name": "Phở Ngon", "accent": "#b3261e"},
            "comments": {"consent_text": {"vi": CONSENT_VI, "en": CONSENT_EN},
                         "consent_version": "2026-01", "retention_days": 90}}))
        fleet_cli(store, "node", "set", "vn/hcm/hcm-q1", "--settings", json.dumps({
            "comments": {"staff_names": ["Lan", "Minh"], "after_retention": "anonymise"}}))
        rc, _, err = fleet_cli(store, "node", "set", "vn", "--settings",
                               json.dumps({"comments": {"retention_days": 0}}), check=False)
        tap(rc != 0 and "$.settings.comments.retention_days" in err,
            "a bad comments setting is refused with its JSON path", err.strip())
        c = synclib.Collector(store, None, workdir, name="collector-" + label,
                              extra=["--public-url", "https://fb.example.vn"]).start()
        # Each device's comment key as the kiosk gets it: in its GET /v1/config.
        keys = {}
        for d, tok in tokens.items():
            st, _, body = request(c, "GET", "/v1/config", None, {"Authorization": "Bearer " + tok})
            cm = json.loads(body).get("comment", {}) if st == 200 else {}
            keys[d] = cm.get("key")
        tap(all(k and len(k) == 43 for k in keys.values())
            and cm.get("url") == "https://fb.example.vn/c",
            "each device got its comment key and the page's URL in /v1/config", cm)
        epoch = str(uuid.uuid4())
        if with_browser:
            first = check_browser(c, keys["k1"], workdir, "k1", tokens["k1"], epoch)
        else:
            first = post_first(c, keys["k1"], "k1", tokens["k1"], epoch)
        check_after(c, keys["k1"], "k1", tokens["k1"], epoch)
        check_answer_order(c, keys["k1"], "k1", tokens["k1"], epoch)
        check_refusals(c, keys["k1"], db)
        # A revoked device's links stop at once.
        s = str(uuid.uuid4())
        x = int(time.time()) + 600
        st, _, html = request(c, "GET", "/c?" + link_query(keys["k2"], "k2", s, x))
        tap(st == 200 and state_of(html) == "form", "k2's link works before the revocation")
        fleet_cli(store, "device", "revoke", "k2")
        st, _, html = request(c, "GET", "/c?" + link_query(keys["k2"], "k2", s, x))
        tap(st == 403 and state_of(html) == "forged", "a revoked device's link is refused")
        check_reads(c, store, workdir, first, keys["k1"])
        check_report(c, store, keys["k1"], tokens["k1"], epoch)
        check_privacy(c, store, db, first, keys["k1"])
        check_report_scope(c, store)
        # Last, as it empties this address's bucket: a flood from one address gets 429 and the
        # friendly "try again" page.
        seen = [request(c, "GET", "/c?l=en")[0] for _ in range(80)]
        st, h, html = request(c, "GET", "/c?l=en")
        tap(429 in seen and st == 429 and state_of(html) == "busy" and h.get("retry-after")
            and b"Please try again" in html, "a flood from one address: 429 with the busy page",
            (seen.count(429), st))
        rc = c.stop()
        tap(rc == 0, "the collector stops cleanly (exit 0: no sanitizer report)",
            "%s: %s" % (rc, c.proc.tail()))
        c = None
        # With a read token: the reads need it, the customer's page does not.
        c = synclib.Collector(store, None, workdir, name="collector-token-" + label,
                              extra=["--read-token", "s3cret-read-token-0123456789abcdef"]).start()
        st1, _, _ = request(c, "GET", "/v1/comments")
        st2, _, _ = request(c, "GET", "/v1/comments.csv")
        st3, _, _ = request(c, "GET", "/v1/comments", None,
                            {"Authorization": "Bearer s3cret-read-token-0123456789abcdef"})
        st4, _, html = request(c, "GET", "/c?" + link_query(keys["k1"], "k1", first,
                                                            int(time.time()) + 60))
        tap((st1, st2, st3, st4) == (401, 401, 200, 200) and state_of(html) == "received",
            "with --read-token the reads need it, the comment page does not", (st1, st2, st3, st4))
        c.stop()
        c = None
        check_comment_alerts(store, db, label, workdir)
    finally:
        if c:
            c.stop()


def wait_for(fn, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


def check_comment_alerts(store, db, label, workdir):
    """Issue 15 item 5 on issue 13's rules: rule kind comment_tag. A fresh store (hn-q3) of another
    chain (its own keyword lists are the shipped ones) with its own device, so the comments above
    cannot count: the covering rule opens exactly one
    alert + case (+ outbox row) for urgent comments sent through POST /c, none for an untagged
    comment, none for a rule on another store; the alert carries the count and the newest
    comment's id, never the text or the contact."""
    rc, _, err = fleet_cli(store, "alert", "add", "--node", "vn/hcm", "--kind", "comment_tag",
                           "--name-vi", "x", "--name-en", "x", "--param", "tag=angry",
                           check=False)
    tap(rc != 0 and "$.params.tag" in err, "alert add refuses tag=angry naming $.params.tag",
        err.strip())
    fleet_cli(store, "node", "set", "hn/hn1/hn-q3/quay")
    fleet_cli(store, "node", "set", "hn/hn1/hn-q9/door")
    with open(os.path.join(ROOT, "assets", "surveys", "checkout-nps.json"), encoding="utf-8") as f:
        doc = json.load(f)
    fleet_cli(store, "survey", "assign", "%s@%d" % (doc["id"], doc["version"]), "--node",
              "hn/hn1/hn-q3")
    tok = synclib.fleet_token(store, "device", "add", "k3", "--node", "hn/hn1/hn-q3/quay")
    now = int(time.time() * 1000)
    db.rows("INSERT INTO endpoints(id, name, kind, target, secret, lang, state, created_ms,"
            " updated_ms) VALUES ('%s', 'ops-c', 'webhook', 'http://127.0.0.1:9/hook',"
            " 'whsec_dGVzdA==', 'vi', 'ok', %d, %d)" % (uuid.uuid4(), now, now))
    rules = {}
    for name, node in (("cover", "hn/hn1/hn-q3"), ("other", "hn/hn1/hn-q9")):
        _, out, _ = fleet_cli(store, "alert", "add", "--node", node, "--kind", "comment_tag",
                              "--name-vi", "Góp ý khẩn", "--name-en", "Urgent comment",
                              "--param", "window_minutes=1440", "--endpoint", "ops-c")
        rules[name] = json.loads(out)
    tap(rules["cover"]["params"] == {"tag": "urgent", "min_count": 1, "window_minutes": 1440},
        "alert add comment_tag: defaults tag urgent, min_count 1", rules["cover"]["params"])
    c = synclib.Collector(store, None, workdir, name="collector-alerts-" + label,
                          extra=["--alert-interval-ms", "100", "--alert-health-ms", "200",
                                 "--public-url", "https://fb.example.vn"]).start()
    try:
        st, _, body = request(c, "GET", "/v1/config", None, {"Authorization": "Bearer " + tok})
        key = json.loads(body).get("comment", {}).get("key")
        tap(st == 200 and key, "k3 got its comment key", body[:200])

        def send(text, **extra):
            s = str(uuid.uuid4())
            q = dict(urllib.parse.parse_qsl(link_query(key, "k3", s, int(time.time()) + 600)))
            st, _, html = post_form(c, dict(q, text=text, **extra))
            return s if st == 200 and state_of(html) == "thanks" else None

        def alerts(rule):
            return db.rows("SELECT id, numbers_json FROM alerts WHERE rule_id = '%s'"
                           % rules[rule]["id"])

        def queued():
            return one(db, "SELECT count(*) FROM alert_queue WHERE store = 'hn-q3'")

        s0 = send("Tôi đến lúc chín giờ sáng.")
        tap(s0 and one(db, "SELECT tags FROM comments WHERE session = '%s'" % s0) == "[]"
            and queued() == "0" and alerts("cover") == [],
            "an untagged comment queues no evaluation and opens no alert")
        s1 = send("Có người bị thương ở cửa ra vào, cần giúp ngay!", consent="yes",
                  name="Lê Văn Tám", phone="0912 345 678")
        tap(s1 is not None and wait_for(lambda: len(alerts("cover")) == 1),
            "an urgent comment through POST /c opens an alert for the covering rule")
        id1 = one(db, "SELECT id FROM comments WHERE session = '%s'" % s1)
        a = alerts("cover")
        nums = json.loads(a[0][1]) if a else {}
        tap(nums.get("count") == 1 and nums.get("tag") == "urgent"
            and nums.get("newest_comment") == id1,
            "the alert's numbers: the count and the newest comment's id", nums)
        s2 = send("Lại có người trượt ngã chỗ đó, nguy hiểm quá.")
        id2 = one(db, "SELECT id FROM comments WHERE session = '%s'" % s2)
        tap(s2 and wait_for(lambda: queued() == "0") and len(alerts("cover")) == 1,
            "a second urgent comment in the same window: still one alert", alerts("cover"))
        aid = a[0][0] if a else ""
        case = db.rows("SELECT id, state FROM cases WHERE alert_id = '%s'" % aid)
        ob = db.rows("SELECT payload_json FROM outbox WHERE ref_id = '%s'" % aid)
        tap(len(case) == 1 and case[0][1] == "open" and len(ob) == 1,
            "the alert opened one case and one outbox row", (case, len(ob)))
        text = json.dumps([a, ob])
        tap(id2 and "thương" not in text and "0912" not in text and "Tám" not in text
            and "912345678" not in text,
            "neither the alert nor its outbox payload carries the comment's text or contact")
        tap(alerts("other") == [] and one(db, "SELECT count(*) FROM alerts WHERE store ="
                                          " 'hn-q9'") == "0",
            "no alert for the rule on another store")
        rc = c.stop()
        tap(rc == 0, "the collector stops cleanly (exit 0: no sanitizer report)",
            "%s: %s" % (rc, c.proc.tail()))
        c = None
    finally:
        if c:
            c.stop()


def post_first(c, key, dev, token, epoch):
    """Without a browser (the second backend): the same comment by form post."""
    session = str(uuid.uuid4())
    tap(send_answers(c, token, batch(dev, epoch, 1, session, value=3)) == 1,
        "the session's answers arrive before the comment")
    q = dict(urllib.parse.parse_qsl(link_query(key, dev, session, int(time.time()) + 600)))
    st, _, html = post_form(c, dict(q, text="Nhân viên Lan rất nhiệt tình, cảm ơn! Nhưng sàn"
                                    " nhà ướt, tôi suýt trượt ngã.", consent="yes",
                                    name="Trần Thị Bích", phone="+84 901 234 567"))
    got = find(comments(c), session)
    tap(st == 200 and state_of(html) == "thanks" and got and got["answered"]
        and [a["value"] for a in got["answers"]] == [3]
        and got["contact"]["phone"] == "0901234567"
        and {"praise", "urgent", "staff:Lan"} <= set(got["tags"]),
        "stored with its contact and tags, joined to the answers sent before it",
        json.dumps(got)[:300])
    return session


def main():
    workdir = synclib.scratch_dir("tp-comments-")
    keep = False
    try:
        path = os.path.join(workdir, "central.db")
        run_backend("sqlite:" + path, SqliteDb(path), "sqlite", workdir, True)
        if not pgserver.available():
            print("ok %d - # SKIP no PostgreSQL server binaries" % (N.value + 1))
            N.value += 1
        else:
            with pgserver.PgServer() as pg:
                run_backend(pg.url, PgDb(pg), "postgresql", workdir, False)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        tap(False, "the comments test ran to its end", repr(e))
        keep = True
    finally:
        if keep or FAILED:
            print("# work folder kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("1..%d" % N)
    return 1 if FAILED else 0


def check_reads(c, store, workdir, first, key):
    js = comments(c, "by=touchpoint")
    g = js["groups"]
    tap(len(g) == 1 and g[0]["key"] == "checkout" and g[0]["count"] == js["total"] >= 3
        and first in [x["session"] for x in js["comments"]] and g[0]["recent"],
        "counts and recent comments per group", json.dumps(g)[:300])
    tap(comments(c, "node=vn/hcm")["total"] == js["total"]
        and comments(c, "node=vn/hn")["total"] == 0, "the node filter")
    tap(comments(c, "tag=urgent")["total"] == 1, "the tag filter")
    st, _, _ = request(c, "GET", "/v1/comments?limit=0")
    tap(st == 400, "a bad limit is refused")
    # The survey version the answers name, now held by the collector: the CSV says its words.
    survey_file = os.path.join(ROOT, "assets", "surveys", "checkout-nps.json")
    fleet_cli(store, "survey", "publish", survey_file)
    with open(survey_file, encoding="utf-8") as f:
        prompt = json.load(f)["questions"][0]["prompt"]
    st, h, body = request(c, "GET", "/v1/comments.csv")
    text = body.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    row = next((r for r in rows if r["session"] == first), {})
    got = find(comments(c, "limit=500"), first) or {}
    tap(st == 200 and h.get("content-type", "").startswith("text/csv")
        and "Trần Thị Bích" in text and row.get("answers") == "recommend=3"
        and row.get("text") == got.get("text") and row.get("lang") in ("vi", "en")
        and json.loads(row.get("tags") or "null") == got.get("tags")
        and row.get("answers_text") == "%s: 3" % prompt.get(row.get("lang"), ""),
        "the CSV export with contacts and the session's answers as ids and in the comment's"
        " language from the published survey, each cell under its own header",
        json.dumps(row, ensure_ascii=False)[:400])
    rows = fleet_json(store, "audit", "reads")
    tap(sum(1 for r in rows if r.get("path", "").startswith("/v1/comments")) >= 5,
        "every read of comments is in the read audit", json.dumps(rows[-3:])[:300])
    # A chain's own keyword list with an exact entry: "dơ" (dirty) is not "do" (because).
    lists = {"vi": {"urgent": ["=dơ"]}, "en": {}}
    path = os.path.join(workdir, "lists.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(lists, f, ensure_ascii=False)
    fleet_cli(store, "tags", "set", "--chain", "vn", "--file", path)
    got = fleet_json(store, "tags", "list", "--chain", "vn")
    tap(got["source"] == "chain" and got["lists"] == lists, "tags set/list for a chain")
    admin = synclib.fleet_token(store, "admin-token", "add", "ops")
    h = {"Authorization": "Bearer " + admin, "Content-Type": "application/json"}
    other = {"en": {"praise": ["brilliant"]}}
    st, _, _ = request(c, "POST", "/v1/admin/tags", json.dumps({"chain": "th", "lists": other}), h)
    st2, _, body = request(c, "GET", "/v1/admin/tags", None, h)
    js = json.loads(body) if st2 == 200 else {}
    tap(st == 200 and js.get("chains", {}).get("th") == other and "vi" in js.get("default", {}),
        "the admin API sets and lists keyword lists", (st, st2))
    st, _, body = request(c, "POST", "/v1/admin/tags",
                          json.dumps({"chain": "th", "lists": {"vi": {"rude": ["x"]}}}), h)
    tap(st == 400 and b"$.vi.rude" in body, "a bad list is refused with its JSON path", body)
    tags = {}
    for text in ("Nhà vệ sinh dơ quá", "Tôi đến do bạn giới thiệu"):
        s = str(uuid.uuid4())
        q = dict(urllib.parse.parse_qsl(link_query(key, "k1", s, int(time.time()) + 600)))
        post_form(c, dict(q, text=text))
        tags[text] = find(comments(c, "limit=500"), s)["tags"]
    tap(tags["Nhà vệ sinh dơ quá"] == ["urgent"] and tags["Tôi đến do bạn giới thiệu"] == [],
        "an exact entry tells dơ from do", json.dumps(tags, ensure_ascii=False))


def report_comments(c, query, token=None):
    """GET /v1/report?query (with a read token when given): (status, JSON or None, raw text)."""
    st, _, body = request(c, "GET", "/v1/report?" + query, None,
                          {"Authorization": "Bearer " + token} if token else None)
    return st, json.loads(body) if st == 200 else None, body.decode("utf-8", "replace")


def check_report(c, store, key, token, epoch):
    """Issue 15 item 4: comments in /v1/report per group and in total, in the reader's scope."""
    sessions = []
    for i, text in enumerate(("Bánh mì ngon, phục vụ nhanh.", "Quầy thu ngân đông quá.")):
        s = str(uuid.uuid4())
        send_answers(c, token, batch("k1", epoch, 10 + i, s, value=8))
        q = dict(urllib.parse.parse_qsl(link_query(key, "k1", s, int(time.time()) + 600)))
        st, _, html = post_form(c, dict(q, text=text, consent="yes", name="Ngô Văn Tư",
                                        phone="0912 345 678"))
        tap(st == 200 and state_of(html) == "thanks", "report: a comment sent by form post")
        sessions.append(s)
        time.sleep(0.01)  # distinct created_ms, so newest first is well defined
    everything = comments(c, "limit=500")
    n = everything["total"]
    st, js, raw = report_comments(c, "by=store")
    tot = (js or {}).get("total", {}).get("comments", {})
    grp = next((g for g in (js or {}).get("groups", []) if g["key"] == "hcm-q1"), {})
    recent = [x["session"] for x in tot.get("recent", [])]
    tap(st == 200 and tot.get("count") == n and n >= 4
        and grp.get("comments", {}).get("count") == n,
        "report by=store: the store's and the total's comment counts", (n, tot.get("count")))
    tap(recent[:2] == sessions[::-1] and len(recent) == 3
        and [x["session"] for x in grp["comments"]["recent"]] == recent,
        "report: up to 3 recent comments, newest first", recent)
    first = tot["recent"][0] if tot.get("recent") else {}
    tap(first.get("text") == "Quầy thu ngân đông quá." and first.get("at")
        and first.get("store") == "hcm-q1" and first.get("touchpoint") == "checkout"
        and first.get("lang") and isinstance(first.get("tags"), list) and first.get("id"),
        "report: a recent comment's fields", json.dumps(first, ensure_ascii=False)[:300])
    tap("contact" not in raw and "0912345678" not in raw and "Ngô Văn Tư" not in raw
        and "consent" not in raw, "report: no contact details in the report JSON")
    today = time.strftime("%Y-%m-%d")
    st, js, raw = report_comments(c, "by=day")
    day = next((g for g in (js or {}).get("groups", []) if g["key"] == today), {})
    tap(st == 200 and day.get("comments", {}).get("count") == n
        and js["total"]["comments"]["count"] == n and "0912345678" not in raw,
        "report by=day: today's comments in the local day's group", today)
    st, js, _ = report_comments(c, "by=hour")
    tap(st == 200 and sum(g["comments"]["count"] for g in js["groups"]) <= n
        and js["total"]["comments"]["count"] == n, "report by=hour: the comments too")
    old = "from=2020-01-01&to=2020-01-31&by=store"
    st, js, _ = report_comments(c, old)
    tap(st == 200 and js["total"]["comments"] == {"count": 0, "recent": []},
        "report: the time range filters comments")
    st, js, _ = report_comments(c, "by=store&survey=checkout-nps")
    answered = sum(1 for x in everything["comments"] if x["answered"])
    tap(st == 200 and js["total"]["comments"]["count"] == answered and 2 <= answered < n,
        "report: the survey filter keeps the comments joined to that survey's sessions",
        (answered, js and js["total"]["comments"]["count"]))


def check_report_scope(c, store):
    """Last of the reads: once a read token exists, reads without one are refused."""
    n = comments(c, "limit=500")["total"]
    # Store-scoped read tokens: the store sees its comments, another store none of them.
    fleet_cli(store, "node", "set", "vn/hn/hn-b2")
    q1 = fleet_token(store, "read-token", "add", "rc-q1", "--node", "vn/hcm/hcm-q1")
    b2 = fleet_token(store, "read-token", "add", "rc-b2", "--node", "vn/hn/hn-b2")
    st, js, _ = report_comments(c, "by=store", q1)
    tap(st == 200 and js["total"]["comments"]["count"] == n
        and all(x["store"] == "hcm-q1" for x in js["total"]["comments"]["recent"]),
        "report: a store's read token sees its store's comments", st)
    st, js, raw = report_comments(c, "by=store", b2)
    tap(st == 200 and js["total"]["comments"] == {"count": 0, "recent": []}
        and "Quầy thu ngân" not in raw, "report: another store's read token sees none of them",
        raw[:200])


def check_privacy(c, store, db, first, key):
    # A second comment of the same person, by e-mail only.
    rc, out, err = fleet_cli(store, "privacy", "export", "--phone", "0901 234 567")
    exp = json.loads(out)
    tap(rc == 0 and len(exp["comments"]) == 1 and exp["comments"][0]["session"] == first
        and exp["comments"][0]["answers"], "privacy export: everything about the person", err)
    rc, out, err = fleet_cli(store, "privacy", "erase", "--phone", "+84901234567")
    tap(rc == 0 and len(json.loads(out)["comments"]) == 1, "privacy erase", err)
    got = find(comments(c), first)
    tap(got and got["contact"] is None and got["contact_deleted_ms"],
        "after erase the contact is gone from /v1/comments")
    _, _, body = request(c, "GET", "/v1/comments.csv")
    rc, csv_cli, _ = fleet_cli(store, "comments", "export")
    tap("Trần Thị Bích" not in body.decode() and "0901234567" not in body.decode()
        and "Trần Thị Bích" not in csv_cli and rc == 0 and first in csv_cli,
        "... and from both exports, while the comment stays")
    left = one(db, "SELECT count(*) FROM comments WHERE contact_phone = '0901234567'"
                   " OR contact_name = 'Trần Thị Bích'")
    audit = db.rows("SELECT action, target, after_json FROM audit_log WHERE action LIKE"
                    " 'privacy.%' ORDER BY id")
    tap(left == "0", "no copy left in the store")
    tap([a[0] for a in audit] == ["privacy.export", "privacy.erase"]
        and all("0901234567" not in (a[1] + (a[2] or "")) for a in audit),
        "both requests audited, under a hash, not the number", str(audit))
    # Retention: a comment with contact details, then the job 91 days later.
    s = str(uuid.uuid4())
    q = dict(urllib.parse.parse_qsl(link_query(key, "k1", s, int(time.time()) + 600)))
    post_form(c, dict(q, text="Email tôi ở an@example.vn nhé", consent="yes", name="An",
                      email="An@Example.vn"))
    before = comments(c, "limit=500")
    tap(find(before, s)["contact"]["email"] == "an@example.vn", "an e-mail contact stored")
    rc, out, err = fleet_cli(store, "comments", "retention", "--now-ms",
                             str(int(time.time() * 1000) + 91 * 86400000))
    tap(rc == 0 and json.loads(out)["cleared"] >= 1, "the retention job ran", out + err)
    after = comments(c, "limit=500")
    got = find(after, s)
    tap(got["contact"] is None and got["contact_deleted_ms"] and got["anonymised_ms"]
        and "an@example.vn" not in got["text"] and "[email]" in got["text"],
        "contact details deleted, the text anonymised (the store's setting)", got["text"])
    tap(after["total"] == before["total"], "the counts are kept")
    logged = one(db, "SELECT count(*) FROM comment_retention WHERE action = 'retention'"
                 " AND comment_id = '%s'" % got["id"])
    tap(logged == "1", "the job logged what it deleted")


if __name__ == "__main__":
    sys.exit(main())
