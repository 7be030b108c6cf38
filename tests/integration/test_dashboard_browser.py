#!/usr/bin/env python3
"""test_dashboard_browser.py - the dashboard (GET /) in a real browser: Debian's chromium driven
headless by chromedriver and python3-selenium, against a real touchpoint-collector (SQLite)
fed through POST /v1/batches with a small generated data set whose numbers are computed by hand
below. Checks: the cards lead with customers and equal /v1/report, the filters (preset, store)
change the numbers to what /v1/report says and live in the URL (a shared link reproduces the
view), the journey map, reasons and heat map show the hand-computed numbers, rankings call a
store better / worse only outside its interval and grey a small group, the devices table speaks
plain words, Vietnamese by default with vi number formats and English remembered, the read-token
prompt on a 401, no horizontal scroll at 390 px, and screenshots of every view at 1400 and 390 px
(kept in TP_KEEP_SCREENSHOTS=DIR when set, for the README).

Prints TAP lines. Every process started here is stopped in a finally block.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import sys
import time
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import synclib  # noqa: E402
from tap import check as tap, count as N, failed as FAILED  # noqa: E402

try:
    from selenium import webdriver
except ImportError:  # a python3 other than Debian's (pyenv): Debian's package is pure Python
    sys.path.append("/usr/lib/python3/dist-packages")
    from selenium import webdriver
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

TZ = datetime.timezone(datetime.timedelta(hours=7))  # Asia/Ho_Chi_Minh, no DST
BOOT = "0b0b0b0b-0000-4000-8000-00000000d0d0"
NODES = {  # touchpoint node -> its journey stage
    "vn/hcm/hcm-q1/entrance": "before",
    "vn/hcm/hcm-q1/checkout": "during",
    "vn/hcm/hcm-q1/exit": "after",
    "vn/hn/hn-1/checkout": "during",
}


def local_ms(days_ago, hour):
    """hour:05 local (UTC+7) of today - days_ago, as UTC ms; and its weekday (0 = Monday)."""
    today = datetime.datetime.now(TZ).date() - datetime.timedelta(days=days_ago)
    dt = datetime.datetime(today.year, today.month, today.day, hour, 5, tzinfo=TZ)
    return int(dt.timestamp() * 1000), dt.weekday()


# The data set: (node, days ago, local hour, kind, [(value, follow-up choice or None), ...]).
SESSIONS = [
    ("vn/hcm/hcm-q1/checkout", 3, 10, "nps", [(10, None)] * 20),
    ("vn/hcm/hcm-q1/checkout", 3, 15, "nps", [(8, None)] * 10),
    ("vn/hcm/hcm-q1/checkout", 2, 18, "nps", [(3, "wait")] * 6 + [(3, "staff")] * 4),
    ("vn/hcm/hcm-q1/checkout", 40, 11, "nps", [(10, None)] * 30),  # the previous period
    ("vn/hcm/hcm-q1/entrance", 2, 9, "nps",
     [(9, None)] * 5 + [(2, "price")] * 3 + [(2, "wait")] * 2),
    ("vn/hcm/hcm-q1/exit", 1, 20, "smiley4", [(4, None)] * 3 + [(3, None), (2, None), (1, None)]),
    ("vn/hn/hn-1/checkout", 4, 12, "nps",
     [(10, None)] * 5 + [(7, None)] * 5 + [(0, "wait")] * 18 + [(0, "clean")] * 7),
]


SESSION_IDS = {}  # node -> [(session id, value, follow-up choice)], filled by batches()


def survey_words(shown):
    """The follow-up's prompt and options' (vi, en) labels of checkout-nps@1 as published (the
    API and the CSV, non-breaking spaces included) or, shown, as the page shows them (the kiosk's
    non-breaking spaces as plain ones, so a phone wraps them): what the reasons view shows
    instead of the ids."""
    with open(os.path.join(ROOT, "assets", "surveys", "checkout-nps.json"), encoding="utf-8") as f:
        q = [x for x in json.load(f)["questions"] if x["id"] == "reason"][0]

    def w(t):
        return t.replace("\u00a0", " ") if shown else t
    return ((w(q["prompt"]["vi"]), w(q["prompt"]["en"])),
            {o["id"]: (w(o["label"]["vi"]), w(o["label"]["en"])) for o in q["options"]})


PROMPT, LABELS = survey_words(True)
PROMPT_RAW, LABELS_RAW = survey_words(False)


def nps_moe(p, d, n):
    """The README's adjusted-Wald NPS margin in points."""
    n1 = n + 3.0
    pp, dd = (p + 0.75) / n1, (d + 0.75) / n1
    return 196.0 * ((pp + dd - (pp - dd) ** 2) / n1) ** 0.5


def vi(x, digits=1):
    """x as vi-VN writes it: 1.234,5 (the page's default language)."""
    s = "{:,.{}f}".format(x, digits)
    return s.replace(",", "\0").replace(".", ",").replace("\0", ".")


def batches(tokens):
    """One batch per device (one device per touchpoint node) with every answer of SESSIONS."""
    per = {}
    for node, days, hour, kind, answers in SESSIONS:
        seg = node.split("/")
        store, tp = seg[2], seg[3]
        ms, _ = local_ms(days, hour)
        lst = per.setdefault(node, [])
        for i, (value, choice) in enumerate(answers):
            sess = str(uuid.uuid4())
            SESSION_IDS.setdefault(node, []).append((sess, value, choice))
            base = {"session": sess, "survey": "checkout-nps", "survey_version": 1, "lang": "vi",
                    "store": store, "touchpoint": tp, "clock_trusted": True, "mono_ms": 1000,
                    "boot_id": BOOT, "flags": []}
            lst.append(dict(base, question="recommend" if kind == "nps" else "faces", kind=kind,
                            value=value, choice=None, wall_ms=ms + i * 1000))
            if choice:
                lst.append(dict(base, question="reason", kind="choice", value=None, choice=choice,
                                wall_ms=ms + i * 1000 + 500))
    out = []
    for node, answers in per.items():
        dev = "k-" + node.split("/")[2] + "-" + node.split("/")[3]
        epoch = str(uuid.uuid4())
        for i, a in enumerate(answers):
            a["id"] = str(uuid.uuid4())
            a["seq"] = i + 1
        out.append((tokens[dev], {"protocol": 1, "batch_id": str(uuid.uuid4()), "device": {
            "id": dev, "epoch": epoch, "epoch_first_seq": 1, "app_version": "0.1.0",
            "pending": len(answers), "highest_seq": len(answers), "disk_free": 2 ** 33,
            "clock_trusted": True, "sent_wall_ms": int(time.time() * 1000),
            "sent_mono_ms": 100000, "boot_id": BOOT}, "answers": answers}))
    return out


def post(base, token, body):
    req = urllib.request.Request(base + "/v1/batches", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.loads(r.read())


def get_json(base, path, token=None):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token}
                                 if token else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def wait(driver, cond, timeout=30):
    """WebDriverWait that also rides out a view drawn again under it."""
    return WebDriverWait(driver, timeout,
                         ignored_exceptions=[StaleElementReferenceException]).until(cond)


# ---- the browser ------------------------------------------------------------------------------

def browser(workdir):
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--hide-scrollbars", "--lang=vi-VN",
              "--user-data-dir=" + os.path.join(workdir, "chrome-profile")):
        opts.add_argument(a)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver",
                      log_path=os.path.join(workdir, "chromedriver.log"))
    d = webdriver.Chrome(options=opts, service=service)
    d.set_page_load_timeout(60)
    return d


class Page:
    def __init__(self, driver, base, shots):
        self.d = driver
        self.base = base
        self.shots = shots

    def size(self, w, h):
        self.d.set_window_size(w, h)
        # the viewport, not the window, is what the page sees
        iw = self.d.execute_script("return window.innerWidth")
        if iw != w:
            self.d.set_window_size(w + (w - iw), h)

    def open(self, frag=""):
        self.d.get(self.base + "/" + ("#" + frag if frag else ""))
        self.wait_loaded()

    def wait_loaded(self, view=None):
        def ok(d):
            b = d.find_element(By.TAG_NAME, "body")
            if b.get_attribute("data-loaded") != "1":
                return False
            return view is None or b.get_attribute("data-view") == view
        wait(self.d, ok)

    def js(self, s, *a):
        return self.d.execute_script(s, *a)

    def text(self, css):
        """The text of the first element matching css, or None; read in the page in one step,
        so a view drawn again meanwhile cannot leave a stale element behind."""
        t = self.js("var e = document.querySelector(arguments[0]);"
                    "return e ? e.textContent : null;", css)
        return t.strip().replace("\u2212", "-") if t is not None else None

    def tab(self, view):
        self.d.find_element(By.CSS_SELECTOR, '#tabs [data-view="%s"]' % view).click()
        self.wait_loaded(view)

    def shot(self, name):
        """Saves the whole page as NAME.png, and NAME.small.png at 60% (the README's size)."""
        import base64
        w = self.js("return document.documentElement.clientWidth")
        h = self.js("return Math.min(4000, document.documentElement.scrollHeight)")
        path = os.path.join(self.shots, name + ".png")
        for suffix, scale in ((".png", 1), (".small.png", 0.6)):
            shot = self.d.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": scale}})
            with open(os.path.join(self.shots, name + suffix), "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        return path, w

    def no_hscroll(self):
        return self.js("var e = document.documentElement;"
                       "return [e.scrollWidth, e.clientWidth, document.body.scrollWidth];")


# ---- the checks -------------------------------------------------------------------------------

def check_overview(p, base):
    rng = p.js("return TP.range()")
    q = "from=%s&to=%s" % (rng[0], rng[1])
    _, rep = get_json(base, "/v1/report?by=day&" + q)
    t = rep["total"]
    tap(p.text("#kpi-customers") == vi(91, 0) and t.get("customers") == 91,
        "overview: the first card is customers, 91 as computed by hand (%r, report %r)"
        % (p.text("#kpi-customers"), t.get("customers")))
    first = p.js("return document.querySelector('.kpis .kpi .value').id")
    tap(first == "kpi-customers", "overview: customers lead the cards (%s)" % first)
    tap(p.text("#kpi-n") == vi(131, 0) and t["answers"] == 131,
        "overview: answers card 131 (ratings + follow-ups) (%r)" % p.text("#kpi-n"))
    want = (30 - 40) / 85 * 100
    tap(p.text("#kpi-nps") == vi(want) and abs(t["nps"]["score"] - want) < 0.01,
        "overview: NPS card %s in vi format, equal to /v1/report and the hand value %.2f"
        % (p.text("#kpi-nps"), want))
    tap(vi(t["nps"]["moe"]) in p.text("#kpi-nps-note"),
        "overview: the NPS note carries the margin %s" % vi(t["nps"]["moe"]))
    tap(p.text("#kpi-smiley") == vi(4 / 6 * 100) + "%",
        "overview: smiley card 66,7%% (4 of 6 happy faces) (%r)" % p.text("#kpi-smiley"))
    cols = p.js("return Array.prototype.map.call(document.querySelectorAll("
                "'#chart-smiley4'), function (c) { return TP.charts[c.id].data.datasets[0]"
                ".backgroundColor; })")
    tap(cols and cols[0] == ["#be282c", "#f07c72", "#8ccb5e", "#188542"],
        "overview: the smiley face chart in the kiosk's order and colours (%r)" % cols)
    row = p.text('#view-overview tr[data-key="hn-1"] [data-metric="customers"]')
    tap(row == "35", "overview: store table row hn-1 leads with 35 customers (%r)" % row)
    sm = p.text('#view-overview tr[data-key="hcm-q1"] [data-metric="smiley"]')
    tap(sm is not None and "50%" in sm and "17%" in sm,
        "overview: hcm-q1's smiley column shows the faces' shares (%r)" % sm)
    canv = p.js("var c = document.getElementById('chart-trend');"
                "return [c.tabIndex, c.getAttribute('role'), !!c.getAttribute('aria-label'),"
                " typeof Chart, c.width > 0, !!c.parentNode.nextSibling.querySelector('table')]")
    tap(canv == [0, "img", True, "function", True, True],
        "overview: the trend is a Chart.js canvas, focusable, labelled, with a table beside (%r)"
        % canv)
    first = p.js("return TP.charts['chart-trend'].data.labels[0]")
    tap(first == "%s/%s" % (rng[0][8:10], rng[0][5:7]),
        "overview: days written the Vietnamese way, dd/mm (%r for %s)" % (first, rng[0]))
    # keyboard: the arrow key moves the tooltip onto a day
    p.d.find_element(By.ID, "chart-trend").send_keys("\ue014")  # ArrowRight
    act = p.js("return TP.charts['chart-trend'].tooltip.getActiveElements().length")
    tap(act >= 1, "overview: arrow key on the focused chart opens its tooltip (%r)" % act)
    p.js("document.activeElement.blur()")
    return rep


def check_filters(p, base):
    Select(p.d.find_element(By.ID, "f-store")).select_by_value("hn-1")
    p.wait_loaded("overview")
    url = p.d.current_url
    rng = p.js("return TP.range()")
    _, rep = get_json(base, "/v1/report?by=day&store=hn-1&from=%s&to=%s" % tuple(rng))
    t = rep["total"]
    tap("store=hn-1" in url, "filters: the store filter is in the URL (%s)" % url.split("#")[-1])
    tap(p.text("#kpi-customers") == vi(t["customers"], 0) == "35"
        and p.text("#kpi-nps") == vi(t["nps"]["score"]) == vi(-20 / 35 * 100),
        "filters: store hn-1 shows /v1/report?store=hn-1: 35 customers, NPS %s (%r)"
        % (vi(t["nps"]["score"]), p.text("#kpi-nps")))
    # the shared link reproduces the view in a fresh page
    p.d.get("about:blank")
    p.d.get(url)
    p.wait_loaded("overview")
    tap(p.text("#kpi-customers") == "35" and
        Select(p.d.find_element(By.ID, "f-store")).first_selected_option.get_attribute("value")
        == "hn-1", "filters: opening the shared link shows the same store and numbers")
    Select(p.d.find_element(By.ID, "f-store")).select_by_value("")
    p.wait_loaded("overview")
    Select(p.d.find_element(By.ID, "f-preset")).select_by_value("90")
    p.wait_loaded("overview")
    rng = p.js("return TP.range()")
    _, rep = get_json(base, "/v1/report?by=day&from=%s&to=%s" % tuple(rng))
    tap(p.text("#kpi-customers") == vi(rep["total"]["customers"], 0) == vi(121, 0)
        and "preset=90" in p.d.current_url,
        "filters: 90 days adds the previous period's 30 customers: 121 as /v1/report (%r)"
        % p.text("#kpi-customers"))
    # a custom range typed as dd/mm/yyyy: days 4..2 ago hold 35 + 30 + 10 + 10 customers
    days = [datetime.datetime.now(TZ).date() - datetime.timedelta(days=k) for k in (4, 2)]
    for fid, day in zip(("f-from", "f-to"), days):
        el = p.d.find_element(By.ID, fid)
        el.clear()
        el.send_keys(day.strftime("%d/%m/%Y") + "\t")
        p.wait_loaded("overview")
    _, rep = get_json(base, "/v1/report?from=%s&to=%s" % (days[0], days[1]))
    tap(p.text("#kpi-customers") == vi(rep["total"]["customers"], 0) == "85"
        and "preset=custom" in p.d.current_url and "from=%s" % days[0] in p.d.current_url,
        "filters: a custom range %s..%s shows /v1/report's 85 customers (%r)"
        % (days[0], days[1], p.text("#kpi-customers")))
    Select(p.d.find_element(By.ID, "f-preset")).select_by_value("30")
    p.wait_loaded("overview")
    csv = p.js("document.getElementById('f-export').click(); return TP.lastCsv || ''")
    tap("total,,91,131," in csv, "filters: CSV export of the view carries its numbers")


def check_journey(p):
    p.tab("journey")
    cards = p.js("var o = {}; document.querySelectorAll('.stage').forEach(function (s) {"
                 " o[s.getAttribute('data-stage')] = Array.prototype.map.call("
                 "s.querySelectorAll('.tpcard'), function (c) {"
                 " return c.getAttribute('data-tp'); });"
                 "}); return o;")
    tap(cards.get("before") == ["hcm-q1/entrance"] and cards.get("after") == ["hcm-q1/exit"]
        and sorted(cards.get("during", [])) == ["hcm-q1/checkout", "hn-1/checkout"],
        "journey: each touchpoint's card in its stage column (%r)" % cards)
    c = '.tpcard[data-tp="hcm-q1/checkout"] '
    moe = nps_moe(20, 10, 40)
    tap(p.text(c + '[data-metric="customers"]') == "40" and p.text(c + '[data-metric="score"]')
        == vi(25.0) and p.text(c + '[data-metric="moe"]') == vi(moe),
        "journey: hcm-q1/checkout 40 customers, NPS 25,0 ± %s (%r %r)"
        % (vi(moe), p.text(c + '[data-metric="score"]'), p.text(c + '[data-metric="moe"]')))
    reason = p.js("var e = document.querySelector(arguments[0]); return e ? [e.textContent,"
                  " e.getAttribute('data-choice'), e.getAttribute('title')] : null;",
                  c + '[data-metric="reason"]')
    tap(p.text(c + ".arrow.neg") is not None
        and reason == [LABELS["wait"][0], "wait", "reason: wait"],
        "journey: its trend arrow points down (previous period NPS 100) and the top reason is "
        "wait, shown as the survey's words %r with the id on hover (%r)"
        % (LABELS["wait"][0], reason))
    c = '.tpcard[data-tp="hn-1/checkout"] '
    tap(p.text(c + '[data-metric="score"]') == vi(-20 / 35 * 100)
        and p.js("return document.querySelector(arguments[0]).getAttribute('data-choice')",
                 c + '[data-metric="reason"]') == "wait"
        and p.text(c + '[data-metric="reason"]') == LABELS["wait"][0],
        "journey: hn-1/checkout NPS %s, top reason wait (%s)"
        % (vi(-20 / 35 * 100), LABELS["wait"][0]))


def check_reasons(p):
    p.tab("reasons")
    rows = p.js("var b = document.querySelector('[data-band=\"negative\"]');"
                "return b ? Array.prototype.map.call(b.querySelectorAll('tr[data-choice]'),"
                " function (r) { return [r.getAttribute('data-choice'),"
                " r.querySelector('[data-metric=n]').textContent,"
                " r.querySelector('[data-metric=share]').textContent]; }) : null")
    want = [["wait", "26", "65,0%"], ["clean", "7", "17,5%"], ["staff", "4", "10,0%"],
            ["price", "3", "7,5%"]]
    tap(rows == want, "reasons: why detractors are unhappy, sorted, as computed by hand (%r)"
        % rows)
    title = p.text('[data-band="negative"] h2')
    tap(title is not None and "không hài lòng" in title, "reasons: titled in Vietnamese (%r)"
        % title)
    bars = p.js("var c = document.querySelector('[data-band=\"negative\"] canvas');"
                "return TP.charts[c.id].data.datasets[0].data")
    tap(bars == [26, 7, 4, 3], "reasons: the bar chart draws the sorted counts (%r)" % bars)
    order = ["wait", "clean", "staff", "price"]
    shares = ["65,0%", "17,5%", "10,0%", "7,5%"]
    check_reason_labels(p, "vi", [LABELS[k][0] for k in order], order, shares)
    csv = p.js("return TP.csv(TP.views.reasons.csv())")
    head = csv.split("\r\n")[0]
    tap(head.endswith("choice,n,share,question_vi,question_en,choice_vi,choice_en")
        and ",negative,wait,26,65,%s,%s,%s,%s" % (PROMPT_RAW[0], PROMPT_RAW[1],
                                                  LABELS_RAW["wait"][0], LABELS_RAW["wait"][1])
        in csv,
        "reasons: the view's CSV carries the ids and the labels in vi and en (%r)"
        % csv.split("\r\n")[:2])
    p.d.find_element(By.ID, "lang").click()
    p.wait_loaded("reasons")
    check_reason_labels(p, "en", [LABELS[k][1] for k in order], order,
                        ["65.0%", "17.5%", "10.0%", "7.5%"])
    p.shot("dashboard-reasons-en-1400")
    p.d.find_element(By.ID, "lang").click()
    p.wait_loaded("reasons")
    tap(p.js("return document.documentElement.lang") == "vi"
        and p.text('[data-band="negative"] tr[data-choice="wait"] [data-metric="label"]')
        == LABELS["wait"][0], "reasons: back in Vietnamese, the Vietnamese labels again")


def check_reason_labels(p, lang, labels, ids, shares):
    """The negative band's table, chart and question line in lang: the survey's words, ids on
    hover."""
    got = p.js("var b = document.querySelector('[data-band=\"negative\"]');"
               "return b ? Array.prototype.map.call(b.querySelectorAll('tr[data-choice]'),"
               " function (r) { var l = r.querySelector('[data-metric=label]');"
               " return [l.textContent, l.getAttribute('title')]; }) : null")
    tap(got == [[l, i] for l, i in zip(labels, ids)],
        "reasons (%s): each option shown as the survey's words, the id on hover (%r)"
        % (lang, got))
    chart = p.js("var c = document.querySelector('[data-band=\"negative\"] canvas');"
                 "return TP.charts[c.id].data.labels")
    tap(chart == ["%s · %s" % (l, s) for l, s in zip(labels, shares)],
        "reasons (%s): the bar chart's labels are the survey's words (%r)" % (lang, chart))
    q = p.js("var e = document.querySelector('[data-band=\"negative\"] [data-metric=question]');"
             "return e ? [e.textContent, e.getAttribute('title')] : null")
    want = PROMPT[0 if lang == "vi" else 1]
    tap(q == [want, "reason"], "reasons (%s): the question's prompt, its id on hover (%r)"
        % (lang, q))


def check_heatmap(p):
    p.tab("heatmap")
    _, wd = local_ms(4, 12)
    cell = p.d.find_element(By.CSS_SELECTOR, '.cell[data-wd="%d"][data-h="12"]' % wd)
    tap(cell.get_attribute("data-customers") == "35" and cell.text == "35",
        "heat map: the hn-1 hour (weekday %d, 12:00) shows 35 customers" % wd)
    Select(p.d.find_element(By.ID, "hm-metric")).select_by_value("negative")
    cell = p.d.find_element(By.CSS_SELECTOR, '.cell[data-wd="%d"][data-h="12"]' % wd)
    ns = float(cell.get_attribute("data-negative-share"))
    tap(abs(ns - 25 / 35 * 100) < 0.01 and cell.text == "71",
        "heat map: negative share of that hour 71%% (25 of 35) (%r)" % cell.text)
    _, wd2 = local_ms(1, 20)
    cell = p.d.find_element(By.CSS_SELECTOR, '.cell[data-wd="%d"][data-h="20"]' % wd2)
    tap(cell.text == "33", "heat map: smiley faces 1-2 count as negative: 2 of 6 = 33%% (%r)"
        % cell.text)
    empty = p.d.find_element(By.CSS_SELECTOR, '.cell[data-wd="%d"][data-h="3"]' % wd)
    tap(empty.get_attribute("data-customers") == "0", "heat map: an empty hour stays empty")
    Select(p.d.find_element(By.ID, "hm-metric")).select_by_value("customers")


def check_rankings(p):
    p.tab("rankings")
    v = p.js("var o = {}; document.querySelectorAll('#rk-store tr[data-key]').forEach(function (r)"
             " { o[r.getAttribute('data-key')] = [r.getAttribute('data-verdict'),"
             " r.querySelector('[data-metric=rank]').textContent]; }); return o;")
    tap(v.get("hcm-q1") == ["better", "1"] and v.get("hn-1") == ["worse", "2"],
        "rankings: hcm-q1 better, hn-1 worse than the chain average (%r)" % v)
    v = p.js("var o = {}; document.querySelectorAll('#rk-tp tr[data-key]').forEach(function (r)"
             " { o[r.getAttribute('data-key')] = [r.getAttribute('data-verdict'), r.className,"
             " r.querySelector('[data-metric=rank]').textContent]; }); return o;")
    tap(v.get("hcm-q1/entrance") == ["too_few", "few", ""],
        "rankings: hcm-q1/entrance (10 customers) greyed, 'too few answers', unranked (%r)"
        % v.get("hcm-q1/entrance"))


def check_devices(p):
    p.tab("devices")
    rows = p.js("return Array.prototype.map.call(document.querySelectorAll('tr[data-device]'),"
                " function (r) { return r.getAttribute('data-device'); })")
    tap(sorted(rows) == ["k-hcm-q1-checkout", "k-hcm-q1-entrance", "k-hcm-q1-exit",
                         "k-hn-1-checkout", "k-hn-1-checkout-2"],
        "devices: the five kiosks listed (%r)" % rows)
    r2 = 'tr[data-device="k-hn-1-checkout-2"] '
    clock = p.d.find_element(By.CSS_SELECTOR, r2 + "[data-clock]")
    tap(clock.get_attribute("data-clock") == "not_synchronised"
        and clock.get_attribute("class") == "neutral"
        and clock.text.startswith("chưa đồng bộ"),
        "devices: an unsynchronised clock in plain words, neutral, not red (%r)" % clock.text)
    tap(p.text(r2 + '[data-metric="pending"]') == "5" and p.text(r2 + ".b-gaps") is not None,
        "devices: the second kiosk waits with 5 answers and is flagged for its gap")
    heads = p.text("#view-devices thead")
    tap("seq" not in heads.lower() and "Chờ gửi" in heads,
        "devices: plain words in the headings, no 'seq' (%r)" % heads)
    pend = p.text('tr[data-device="k-hn-1-checkout"] [data-metric="pending"]')
    tap(pend == "0", "devices: pending 0 once the batch holding them was accepted (%r)" % pend)


def seed_cases(db_path):
    """Two open cases as the alert engine (issue 13) writes them: the case row and its "open"
    event. Returns their ids."""
    now = int(time.time() * 1000)
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    con = sqlite3.connect(db_path)
    try:
        for i, (cid, store, hours) in enumerate(zip(ids, ["hcm-q1", "hn-1"], [5, 30])):
            opened = now - hours * 3600 * 1000
            con.execute("INSERT INTO cases(id, alert_id, node_path, store, title_vi, title_en,"
                        " state,"
                        " assignee, opened_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (cid, None, "vn/%s/%s" % ("hcm" if i == 0 else "hn", store), store,
                         "Nhiều đánh giá tiêu cực tại %s" % store,
                         "Many negative ratings at %s" % store, "open", None, opened, opened))
            con.execute("INSERT INTO case_events(case_id, at_ms, actor, action, text)"
                        " VALUES (?,?,?,?,?)", (cid, opened, "alert", "open", None))
        con.commit()
    finally:
        con.close()
    return ids


def check_cases(p, base, ids, admin):
    p.open()
    tab = p.d.find_element(By.CSS_SELECTOR, '#tabs [data-view="cases"]')
    tap(tab.is_displayed(), "cases: the tab shows when the collector serves /v1/cases")
    p.tab("cases")
    rows = p.js("return Array.prototype.map.call(document.querySelectorAll('tr[data-case]'),"
                " function (r) { return [r.getAttribute('data-case'),"
                " r.querySelector('[data-metric=age]').textContent,"
                " r.querySelector('[data-metric=state]').textContent]; })")
    got = {r[0]: r[1:] for r in rows}
    tap(got.get(ids[0], [""])[0].startswith("5") and got.get(ids[1], [""])[0].startswith("30")
        and got[ids[0]][1] == "mở",
        "cases: both open cases listed with their age (5 h, 30 h) and state (%r)" % rows)
    p.d.find_element(By.ID, "admin-token").send_keys(admin)
    p.d.find_element(By.CSS_SELECTOR, 'button[data-act="ack"][data-id="%s"]' % ids[0]).click()
    wait(p.d, lambda d: p.text(
        'tr[data-case="%s"] [data-metric=state]' % ids[0]) == "đã xác nhận")
    _, c = get_json(base, "/v1/cases/" + ids[0])
    tap(c["case"]["state"] == "acknowledged" and
        p.js("return sessionStorage.getItem('tp.admin')") == admin,
        "cases: Acknowledge with the admin token typed into the page acknowledges the case")
    tap(p.text("#kpi-tta") not in (None, "-"), "cases: time to acknowledge shown (%r)"
        % p.text("#kpi-tta"))
    p.open("case=" + ids[1])
    tap(p.js("return document.body.getAttribute('data-view')") == "cases" and
        p.text("#case-timeline") is not None,
        "cases: the alert's link /#case=ID opens the case with its timeline")


def post_comment(base, dev_token, dev, session, text):
    """The customer's comment from the phone (issue 15): the link the kiosk's QR code carries,
    MAC'd with the device's comment key from its GET /v1/config, posted as the page's form."""
    req = urllib.request.Request(base + "/v1/config",
                                 headers={"Authorization": "Bearer " + dev_token})
    with urllib.request.urlopen(req, timeout=30) as r:
        key = json.loads(r.read())["comment"]["key"]
    x = int(time.time()) + 1800
    k = base64.urlsafe_b64decode(key + "=")
    msg = ("tp-comment-v1\n%s\n%s\n%d\n" % (dev, session, x)).encode()
    m = base64.urlsafe_b64encode(hmac.new(k, msg, hashlib.sha256).digest()[:16]).rstrip(b"=")
    body = urllib.parse.urlencode({"d": dev, "s": session, "x": x, "l": "vi", "m": m.decode(),
                                   "text": text}).encode()
    req = urllib.request.Request(base + "/c", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def check_comments(p, base, tokens):
    """A comment sits beside its session's scores (the NPS 0 and the follow-up 'clean')."""
    session = [x for x in SESSION_IDS["vn/hn/hn-1/checkout"] if x[2] == "clean"][0][0]
    text = "Sàn nhà bẩn, nhân viên chậm."
    st = post_comment(base, tokens["k-hn-1-checkout"], "k-hn-1-checkout", session, text)
    tap(st == 200, "comments: the customer's comment is accepted by the comment page (%d)" % st)
    p.open()
    c = '#ov-comments .comment '
    hover = p.js("var e = document.querySelector(arguments[0]);"
                 "return e ? e.getAttribute('title') : null", c + '[data-metric="scores"]')
    tap(p.text(c + "div:nth-child(2)") == text and p.text(c + '[data-metric="scores"]')
        == "NPS 0 · " + LABELS["clean"][0] and hover == "reason: clean",
        "comments: the overview shows it beside its session's scores, the follow-up in the "
        "survey's words, its ids on hover (%r, %r, %r)"
        % (p.text(c + "div:nth-child(2)"), p.text(c + '[data-metric="scores"]'), hover))
    _, cm = get_json(base, "/v1/comments?limit=5")
    ans = [a for x in (cm or {}).get("comments", []) for a in x["answers"] if a["kind"] == "choice"]
    tap([(a["choice"], a["label"], a["question_label"]["en"]) for a in ans]
        == [("clean", {"vi": LABELS_RAW["clean"][0], "en": LABELS_RAW["clean"][1]},
             PROMPT_RAW[1])],
        "comments: /v1/comments gives the follow-up's labels from its survey version (%r)" % ans)


def check_narrow(p, views):
    p.size(390, 844)
    for v in views:
        p.tab(v)
        w = p.no_hscroll()
        tap(w[0] <= w[1] and w[2] <= w[1],
            "390 px: %s has no horizontal scroll (scrollWidth %d, clientWidth %d)"
            % (v, w[0], w[1]))
        path, _ = p.shot("dashboard-%s-390" % v)
        tap(os.path.getsize(path) > 5000, "390 px: screenshot of %s saved" % v)
    p.size(1400, 1000)


def check_lang(p):
    p.tab("overview")
    p.d.find_element(By.ID, "lang").click()
    p.wait_loaded("overview")
    tap(p.text("#kpi-customers") == "91" and p.js("return document.documentElement.lang") == "en"
        and "Customers" in p.text(".kpi .label"),
        "language: English on a click (%r)" % p.text(".kpi .label"))
    p.open()
    tap(p.js("return document.documentElement.lang") == "en" and
        p.text("#kpi-nps") == "{:.1f}".format(-10 / 85 * 100),
        "language: English remembered after a reload, numbers in en format (%r)"
        % p.text("#kpi-nps"))
    p.d.find_element(By.ID, "lang").click()
    p.wait_loaded()


def check_token(p, workdir, store_url):
    """A collector with --read-token: the page asks for the token on the 401, keeps it in
    sessionStorage, and loads."""
    c = synclib.Collector(store_url, None, workdir, name="collector-ro",
                          extra=["--tz", "Asia/Ho_Chi_Minh", "--read-token", "ro-s3cret"]).start()
    try:
        p.d.get(c.base + "/")
        wait(p.d, lambda d: d.find_element(By.ID, "token-form").is_displayed())
        tap(True, "read token: the page asks for it after a 401")
        p.d.find_element(By.ID, "token-input").send_keys("ro-s3cret")
        p.d.find_element(By.ID, "token-ok").click()
        p.wait_loaded("overview")
        tap(p.text("#kpi-customers") == "91" and
            p.js("return sessionStorage.getItem('tp.token')") == "ro-s3cret",
            "read token: the page loads with it, kept in sessionStorage")
    finally:
        rc = c.stop()
        tap(rc == 0, "read token: its collector stops cleanly (exit %r)" % rc)


def check_store_token(p, workdir, store_url):
    """A read token bound to the store node vn/hcm/hcm-q1: the page shows that store only, its
    filters offer nothing else, and another store answers 403."""
    tok = synclib.fleet_token(store_url, "read-token", "add", "q1-manager", "--node",
                              "vn/hcm/hcm-q1")
    c = synclib.Collector(store_url, None, workdir, name="collector-scoped",
                          extra=["--tz", "Asia/Ho_Chi_Minh"]).start()
    try:
        p.d.get(c.base + "/")
        p.js("sessionStorage.clear()")
        p.d.get(c.base + "/#view=overview")
        wait(p.d, lambda d: d.find_element(By.ID, "token-form").is_displayed())
        p.d.find_element(By.ID, "token-input").send_keys(tok)
        p.d.find_element(By.ID, "token-ok").click()
        p.wait_loaded("overview")
        rng = p.js("return TP.range()")
        st, rep = get_json(c.base, "/v1/report?from=%s&to=%s" % tuple(rng), tok)
        tap(st == 200 and rep["total"]["customers"] == 56 and p.text("#kpi-customers") == "56",
            "store token: the page shows hcm-q1's 56 customers only (%r)"
            % p.text("#kpi-customers"))
        stores = p.js("return Array.prototype.map.call(document.querySelectorAll("
                      "'#f-store option'), function (o) { return o.value; })")
        tap(stores == ["", "hcm-q1"], "store token: the store filter offers only hcm-q1 (%r)"
            % stores)
        keys = p.js("return Array.prototype.map.call(document.querySelectorAll("
                    "'#view-overview tr[data-key]'), function (r) { return r.getAttribute("
                    "'data-key'); })")
        tap("hn-1" not in keys and "hcm-q1" in keys, "store token: no row of hn-1 (%r)" % keys)
        st, _ = get_json(c.base, "/v1/report?store=hn-1", tok)
        tap(st == 403, "store token: /v1/report?store=hn-1 answers 403 (%d)" % st)
        p.d.get(c.base + "/#store=hn-1")
        wait(p.d, lambda d: d.find_element(By.ID, "error").is_displayed())
        tap("403" in p.text("#error") or "scope" in p.text("#error"),
            "store token: a link to another store shows the refusal (%r)" % p.text("#error"))
        p.js("sessionStorage.clear()")
    finally:
        rc = c.stop()
        tap(rc == 0, "store token: its collector stops cleanly (exit %r)" % rc)


def main():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        tap(False, "chromium and chromedriver installed (board/deps.sh)")
        print("1..%d" % N)
        return 1
    workdir = synclib.scratch_dir("tp-dash-")
    shots = os.environ.get("TP_KEEP_SCREENSHOTS") or workdir
    os.makedirs(shots, exist_ok=True)
    store_url = "sqlite:" + os.path.join(workdir, "central.db")
    c = driver = None
    try:
        for node, stage in NODES.items():
            synclib.fleet_cli(store_url, "node", "set", node, "--settings",
                              json.dumps({"stage": stage}))
        synclib.fleet_cli(store_url, "node", "set", "vn", "--settings",
                          json.dumps({"timezone": "Asia/Ho_Chi_Minh"}))
        synclib.fleet_cli(store_url, "survey", "publish",
                          os.path.join(ROOT, "assets", "surveys", "checkout-nps.json"))
        synclib.fleet_cli(store_url, "survey", "assign", "checkout-nps@1", "--node", "vn")
        tokens = {}
        for node in NODES:
            dev = "k-" + node.split("/")[2] + "-" + node.split("/")[3]
            tokens[dev] = synclib.fleet_token(store_url, "device", "add", dev, "--node", node)
        c = synclib.Collector(store_url, None, workdir,
                              extra=["--tz", "Asia/Ho_Chi_Minh",
                                     "--public-url", "https://fb.example.vn"]).start()
        ok = True
        for tok, body in batches(tokens):
            st, rep = post(c.base, tok, body)
            ok = ok and st == 200 and len(rep.get("accepted", [])) == len(body["answers"])
        # a second kiosk at hn-1's checkout: no answers yet, its clock not synchronised, 5 answers
        # waiting and seqs up to 10 announced (a gap)
        tok2 = synclib.fleet_token(store_url, "device", "add", "k-hn-1-checkout-2", "--node",
                                   "vn/hn/hn-1/checkout")
        st, _ = post(c.base, tok2, {"protocol": 1, "batch_id": str(uuid.uuid4()), "device": {
            "id": "k-hn-1-checkout-2", "epoch": str(uuid.uuid4()), "epoch_first_seq": 1,
            "app_version": "0.1.0", "pending": 5, "highest_seq": 10, "disk_free": 2 ** 30,
            "clock_trusted": False, "sent_wall_ms": int(time.time() * 1000),
            "sent_mono_ms": 100000, "boot_id": BOOT}, "answers": []})
        tap(ok and st == 200, "the data set is accepted through POST /v1/batches")

        os.environ["TZ"] = "Asia/Ho_Chi_Minh"  # the browser's days are the stores' days
        driver = browser(workdir)
        p = Page(driver, c.base, shots)
        p.size(1400, 1000)
        p.open()
        p.js("localStorage.setItem('tp.refresh_s', '0')")  # no periodic reload under the test
        p.open()
        tap(p.js("return document.documentElement.lang") == "vi" and
            p.text('#tabs [data-view="overview"]') == "Tổng quan",
            "the page opens in Vietnamese by default")
        check_overview(p, c.base)
        check_comments(p, c.base, tokens)
        p.shot("dashboard-overview-1400")
        check_filters(p, c.base)
        check_journey(p)
        p.shot("dashboard-journey-1400")
        check_reasons(p)
        p.shot("dashboard-reasons-1400")
        check_heatmap(p)
        p.shot("dashboard-heatmap-1400")
        check_rankings(p)
        p.shot("dashboard-rankings-1400")
        check_devices(p)
        p.shot("dashboard-devices-1400")
        admin = synclib.fleet_token(store_url, "admin-token", "add", "lan")
        ids = seed_cases(os.path.join(workdir, "central.db"))
        check_cases(p, c.base, ids, admin)
        p.shot("dashboard-cases-1400")
        check_narrow(p, ["overview", "journey", "reasons", "rankings", "heatmap", "devices",
                         "cases"])
        check_lang(p)
        check_token(p, workdir, store_url)
        check_store_token(p, workdir, store_url)
    except Exception as e:  # a failure in the middle is one failed check, not a crash
        import traceback
        traceback.print_exc()
        tap(False, "the browser test ran to its end", repr(e))
    finally:
        if driver is not None:
            driver.quit()
        if c is not None:
            rc = c.stop()
            tap(rc == 0, "the collector stops cleanly (exit %r; no leak under ASan)" % rc,
                c.proc.tail() if c.proc else "")
    if FAILED:
        print("# work folder kept: %s; screenshots in %s" % (workdir, shots))
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        if shots != workdir:
            print("# screenshots in %s" % shots)
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
