#!/usr/bin/env python3
"""bench_analytics.py - issue 14's reads at chain scale, with the real touchpoint-collector on
SQLite and on a real PostgreSQL (tests/support/pgserver.py):

1. Queries on 5,000,000 answers (500 devices, 100 stores of 5 touchpoints, 365 days, about one
   follow-up per five ratings) loaded through POST /v1/batches: each dashboard query's p95 over
   20 runs (30 days by day, 365 days by store, one store's 30 days, reasons, heat map, journey
   map, devices) beside the target 200 ms and beside the time of the same question asked of the
   raw answers table in the same run (the "raw scan": what the reports cost before the
   rollups); and the dashboard's first view (GET / in headless chromium driven by selenium, the
   last 30 days of the loaded year): p95 over 7 loads of the time from navigation start to the
   page marking its numbers drawn, target < 1000 ms, beside the sum of its API requests' times
   ("n/a" with the reason when chromium or chromedriver is missing).
   The loaded stores are cached in build/bench-cache/ (analytics-<N>-sqlite<schema>-<hash>.db, the
   SQLite store, and analytics-<N>-pg<schema>-v<major>-<hash>/, a stopped PostgreSQL cluster):
   the name carries the size, the backend's schema version and a hash of the data parameters and
   the generator's code, so a schema step or a changed generator makes a new load and an old
   cache is never reused (it is named as stale; delete it). A cache is written as .part and
   renamed when complete. Loading 5,000,000 answers takes tens of minutes per backend;
   TP_BENCH_ANSWERS=N loads N answers instead (a cache of its own), TP_BENCH_PARTS=ingest,sqlite,pg
   picks parts.
2. Ingest with the rollups maintained, on a fresh store each run (200,000 answers in batches of
   5,000, each device's answers spread over 7 days: a backlog): SQLite answers per CPU-second of the collector (target >= 50,000; wall-clock printed
   too) and PostgreSQL ingest against a raw COPY of the same rows into a table like answers
   (target >= 0.5x; the median of three runs, each on a new server, every run printed).

Prints "figure:" lines for tests/bench/run.sh. Exit 1 when a target is missed.
"""
import hashlib
import http.client
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
import synclib  # noqa: E402

BUILD = synclib.build_dir()
CACHE = os.path.join(BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD), "bench-cache")
TOTAL = int(os.environ.get("TP_BENCH_ANSWERS", "5000000"))
DEVICES, STORES, DAYS = 500, 100, 365
def _ms(y, m, d):  # local midnight +07:00 (the bench runs with TZ=Asia/Ho_Chi_Minh)
    import datetime
    tz = datetime.timezone(datetime.timedelta(hours=7))
    return int(datetime.datetime(y, m, d, tzinfo=tz).timestamp() * 1000)


DAY0 = _ms(2025, 12, 1)  # the year loaded is 2025-12-01 .. 2026-11-30
BOOT = "0193a5c2-7f1e-4b7a-9c1d-2f6e8a4b1c3f"
TARGET_MS = 200.0
missed = []


def figure(name, value, unit, target, ok, extra=""):
    verdict = "met" if ok else "MISSED"
    if not ok:
        missed.append(name)
    print("figure: %s %s %s (target: %s%s) %s" % (name, value, unit, target, extra, verdict),
          flush=True)


# ---- Data -------------------------------------------------------------------------------------

def device_token(i):
    return hashlib.sha256(b"bench-analytics-%d" % i).hexdigest()


def write_devices(path):
    with open(path, "w") as f:
        for i in range(DEVICES):
            f.write("k%03d %s\n" % (i, hashlib.sha256(device_token(i).encode()).hexdigest()))


def device_batches(i, n, batch=5000, seed=1, days=DAYS):
    """The n answers of device i (store s<i/5>, touchpoint t<i%5>) over days days, in batches."""
    rnd = random.Random(seed * 100003 + i)
    store, tp = "s%03d" % (i // 5), "t%d" % (i % 5)
    epoch = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    times = sorted(DAY0 + rnd.randrange(days) * 86400000 + rnd.randrange(8 * 3600, 21 * 3600) *
                   1000 for _ in range(n))
    out, seq, k = [], 0, 0
    while k < n:
        s = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        v = rnd.choice((0, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10, 10))
        group = [("main", "nps", v, None)]
        if v <= 8 and rnd.random() < 0.4 and k + 1 < n:
            group.append(("why", "choice", None, rnd.choice(("slow", "rude", "price", "dirty",
                                                              "queue", "other"))))
        for q, kind, val, ch in group:
            seq += 1
            out.append({"id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)), "seq": seq,
                        "session": s, "survey": "retail", "survey_version": 1, "question": q,
                        "kind": kind, "value": val, "choice": ch, "lang": "vi", "store": store,
                        "touchpoint": tp, "wall_ms": times[k] + (500 if ch else 0),
                        "clock_trusted": True, "mono_ms": 1000, "boot_id": BOOT, "flags": []})
            k += 1
    for b in range(0, n, batch):
        part = out[b:b + batch]
        yield json.dumps({"protocol": 1, "batch_id": str(uuid.uuid4()),
                          "device": {"id": "k%03d" % i, "epoch": epoch, "epoch_first_seq": 1,
                                     "app_version": "bench", "pending": len(part),
                                     "highest_seq": part[-1]["seq"], "disk_free": 10 ** 9,
                                     "clock_trusted": True,
                                     "sent_wall_ms": int(time.time() * 1000),
                                     "sent_mono_ms": 2000, "boot_id": BOOT},
                          "answers": part}).encode()


# ---- Cache ------------------------------------------------------------------------------------

def schema_version(source):
    """SCHEMA_VERSION of a store backend, read from its source (what a loaded cache was made by)."""
    import re
    with open(os.path.join(ROOT, "sync", "collector", source)) as f:
        m = re.search(r"#define SCHEMA_VERSION (\d+)", f.read())
    return int(m.group(1)) if m else 0


def data_key():
    """A hash of everything that decides the loaded answers: the sizes, the first day, and the
    generator's own code, so that changing any of them makes a new cache."""
    import inspect
    h = hashlib.sha256(repr((TOTAL, DEVICES, STORES, DAYS, DAY0)).encode())
    h.update(inspect.getsource(device_batches).encode())
    return h.hexdigest()[:10]


def cache_path(backend):
    """build/bench-cache/analytics-<TOTAL>-<backend><schema version>-<data hash>[.db]: a schema
    step or a change of the data makes another name, so an old cache is never reused."""
    if backend == "sqlite":
        return os.path.join(CACHE, "analytics-%d-sqlite%d-%s.db"
                            % (TOTAL, schema_version("cstore_sqlite.c"), data_key()))
    major = os.path.basename(os.path.dirname(pgserver.find_bindir() or "/x/0/bin"))
    return os.path.join(CACHE, "analytics-%d-pg%d-v%s-%s"
                        % (TOTAL, schema_version("cstore_pg.c"), major, data_key()))


def older_cache(backend):
    """With TP_BENCH_UPGRADE_CACHE=1: a cache of the same data made by an earlier schema of the
    backend (the newest), which the bench then copies and lets the collector migrate, as a
    production store is upgraded, under the new name. Never without the variable."""
    if os.environ.get("TP_BENCH_UPGRADE_CACHE") != "1":
        return None
    import re
    want = os.path.basename(cache_path(backend))
    m = re.match(r"(analytics-\d+-(?:sqlite|pg))(\d+)(-.*)$", want)
    best = None
    for x in os.listdir(CACHE):
        n = re.match(re.escape(m.group(1)) + r"(\d+)" + re.escape(m.group(3)) + "$", x)
        if n and int(n.group(1)) < int(m.group(2)) and (not best or int(n.group(1)) > best[0]):
            best = (int(n.group(1)), x)
    return os.path.join(CACHE, best[1]) if best else None


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post_batch(conn, i, body):
    """POSTs one batch body of device i. Returns (answers accepted, error text or None)."""
    conn.request("POST", "/v1/batches", body=body,
                 headers={"Content-Type": "application/json",
                          "Authorization": "Bearer " + device_token(i)})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        return 0, "%d %s" % (r.status, data[:200])
    return len(json.loads(data)["accepted"]), None


def _post_device(job):
    """One loader process's share: every batch of device i, generated here (one device's answers
    at a time, never the whole load) and posted. Returns (answers accepted, error or None)."""
    port, i, per_device, days = job
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    n = 0
    try:
        for body in device_batches(i, per_device, days=days):
            k, err = post_batch(conn, i, body)
            if err:
                return n, err
            n += k
    finally:
        conn.close()
    return n, None


def load(c, per_device, devices=DEVICES, threads=2, days=DAYS):
    """Posts every device's batches from `threads` loader processes (the JSON is made in Python:
    processes, not threads, so that generating uses both cores while the collector works).
    Returns (answers, wall s, cpu s of the collector)."""
    import multiprocessing
    jobs = [(c.port, i, per_device, days) for i in range(devices)]
    cpu0, t0 = cpu_s(c.proc.p.pid), time.monotonic()
    count = 0
    with multiprocessing.get_context("fork").Pool(threads) as pool:
        for n, err in pool.imap_unordered(_post_device, jobs):
            if err:
                pool.terminate()
                raise RuntimeError("load: %s" % err)
            count += n
    return count, time.monotonic() - t0, cpu_s(c.proc.p.pid) - cpu0


# ---- Queries ----------------------------------------------------------------------------------

LAST = "2026-11-30"
QUERIES = [
    ("30 days by day", "/v1/report?from=2026-11-01&to=%s&by=day" % LAST),
    ("365 days by store", "/v1/report?from=2025-12-01&to=%s&by=store" % LAST),
    ("one store's 30 days", "/v1/report?from=2026-11-01&to=%s&by=day&store=s007" % LAST),
    ("reasons", "/v1/reasons?from=2026-11-01&to=%s" % LAST),
    ("heat map", "/v1/heatmap?from=2026-11-01&to=%s" % LAST),
    ("journey map", "/v1/journey?from=2026-11-01&to=%s" % LAST),
    ("devices", "/v1/devices"),
]
D30, D365, END = _ms(2026, 11, 1), DAY0, _ms(2026, 12, 1)
# The same questions asked of the raw answers (the way the reports read before the rollups).
RAW = [
    "SELECT (at_ms + 25200000) / 86400000, kind, value, choice, count(*), count(DISTINCT session)"
    " FROM answers WHERE at_ms >= %d AND at_ms < %d GROUP BY 1, 2, 3, 4" % (D30, END),
    "SELECT store, kind, value, choice, count(*), count(DISTINCT session) FROM answers"
    " WHERE at_ms >= %d AND at_ms < %d GROUP BY 1, 2, 3, 4" % (D365, END),
    "SELECT (at_ms + 25200000) / 86400000, kind, value, choice, count(*) FROM answers"
    " WHERE at_ms >= %d AND at_ms < %d AND store = 's007' GROUP BY 1, 2, 3, 4" % (D30, END),
    "SELECT c.question, c.choice, CASE WHEN r.v <= 6 THEN 'n' WHEN r.v <= 8 THEN 'm' ELSE 'p'"
    " END, count(*) FROM answers c JOIN (SELECT session, min(value) AS v FROM answers WHERE"
    " kind <> 'choice' AND at_ms >= %d AND at_ms < %d GROUP BY session) r ON r.session ="
    " c.session WHERE c.kind = 'choice' AND c.at_ms >= %d AND c.at_ms < %d GROUP BY 1, 2, 3"
    % (D30 - 86400000, END, D30, END),
    "SELECT ((at_ms + 25200000) / 3600000) %% 24, ((at_ms + 25200000) / 86400000) %% 7,"
    " count(DISTINCT session), count(*) FROM answers WHERE at_ms >= %d AND at_ms < %d"
    " GROUP BY 1, 2" % (D30, END),
    "SELECT store, touchpoint, kind, value, at_ms >= %d, count(*) FROM answers WHERE"
    " at_ms >= %d AND at_ms < %d GROUP BY 1, 2, 3, 4, 5" % (D30, D30 - 30 * 86400000, END),
    "SELECT device, time_source, count(*) FROM answers GROUP BY 1, 2",
]


# The bench asks 21 times per query back to back: the per-reader read limit (README, "Read
# access and audit") would answer 429; each read is still audited, as in production.
UNLIMITED_READS = ["--read-rate", "1000000", "--read-burst", "1000000"]


def p95(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def load_note(label):
    """The machine's load (2 cores shared with other work: figures stretch with it)."""
    print("# %s: load average %.1f %.1f %.1f on %d cores, %s" % (
        (label,) + os.getloadavg() + (os.cpu_count() or 0,
                                      time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))),
        flush=True)


def time_queries(label, c, raw_run):
    load_note(label + " queries")
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=600)
    for (name, path), raw in zip(QUERIES, RAW):
        samples = []
        for k in range(21):
            t0 = time.monotonic()
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError("%s: %d" % (path, r.status))
            if k:  # the first warms the cache
                samples.append((time.monotonic() - t0) * 1000)
        t0 = time.monotonic()
        raw_run(raw)
        raw_ms = (time.monotonic() - t0) * 1000
        v = p95(samples)
        figure("%s %s p95" % (label, name), "%.1f" % v, "ms", "< %.0f ms" % TARGET_MS,
               v < TARGET_MS, "; raw scan of the same query %.0f ms" % raw_ms)


# ---- The dashboard's first view --------------------------------------------------------------

FIRST_VIEW_MS = 1000.0
FIRST_VIEW_LOADS = 7  # measured loads, after one that warms the caches
# The bench's last 30 days as a shared link would give them (the page's filters live in the
# fragment), so the view shows the loaded year's data whatever today is.
FIRST_VIEW_URL = "/#preset=custom&from=2026-11-01&to=%s" % LAST
# Set before the page's own scripts run: the time after navigation start at which the page marks
# its view drawn (body data-loaded="1", what tests/integration/test_dashboard_browser.py waits
# for), taken in the page itself so no polling delay is counted.
DRAWN_JS = """
window.__tpDrawn = null;
new MutationObserver(function () {
  var b = document.body;
  if (window.__tpDrawn === null && b && b.getAttribute("data-loaded") === "1")
    window.__tpDrawn = performance.now();
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-loaded"]});
"""


def chrome(work):
    """A headless chromium driven by chromedriver, or (None, why not)."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return None, "chromium or chromedriver not installed (board/deps.sh)"
    try:
        try:
            from selenium import webdriver
        except ImportError:  # a python3 other than Debian's: its package is pure Python
            sys.path.append("/usr/lib/python3/dist-packages")
            from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = shutil.which("chromium")
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--lang=vi-VN",
                  "--window-size=1400,1000",
                  "--user-data-dir=" + os.path.join(work, "chrome-profile")):
            opts.add_argument(a)
        service = Service(executable_path=shutil.which("chromedriver"),
                          log_path=os.path.join(work, "chromedriver.log"))
        d = webdriver.Chrome(options=opts, service=service)
    except Exception as e:  # noqa: BLE001 - any failure to start is reported, not raised
        return None, "the browser did not start: %s" % str(e).strip().splitlines()[0]
    d.set_page_load_timeout(120)
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DRAWN_JS})
    return d, None


def first_view(label, c, work):
    """The dashboard's first view in a real browser: navigation start to its numbers drawn."""
    name = "%s dashboard first view p95" % label
    load_note(label + " first view")
    d, why = chrome(work)
    if d is None:
        print("figure: %s n/a ms (target: < %.0f ms; %s) not measured" % (name, FIRST_VIEW_MS, why),
              flush=True)
        return
    try:
        drawn, api, nreq = [], [], 0
        for k in range(FIRST_VIEW_LOADS + 1):
            d.get("about:blank")
            d.get(c.base + FIRST_VIEW_URL)
            t0 = time.monotonic()
            while True:
                ms = d.execute_script("return window.__tpDrawn")
                if ms is not None:
                    break
                err = d.execute_script("var e = document.getElementById('error');"
                                       "return e && e.style.display === 'block' ? e.textContent"
                                       " : null")
                if err or time.monotonic() - t0 > 300:
                    raise RuntimeError("%s: the page did not draw its view: %s" % (name, err))
                time.sleep(0.02)
            reqs = d.execute_script(
                "return performance.getEntriesByType('resource').filter(function (e) {"
                " return e.name.indexOf('/v1/') >= 0; }).map(function (e) {"
                " return [e.name.split('/v1/')[1], e.startTime, e.duration]; })")
            if k:  # the first load warms the collector's and the browser's caches
                drawn.append(ms)
                api.append(sum(r[2] for r in reqs))
                nreq = len(reqs)
                if ms >= max(drawn):
                    slowest = (ms, reqs)
        v = p95(drawn)
        print("# %s: slowest load %.0f ms; its API requests (start, duration ms): %s" % (
            label, slowest[0], ", ".join("%s %.0f+%.0f" % (n, t, dur) for n, t, dur in
                                        sorted(slowest[1], key=lambda r: r[1]))), flush=True)
        figure(name, "%.0f" % v, "ms", "< %.0f ms" % FIRST_VIEW_MS, v < FIRST_VIEW_MS,
               "; %d loads, navigation start to the numbers drawn; the sum of its %d API"
               " requests' times %.0f ms (p95)" % (len(drawn), nreq, p95(api)))
    finally:
        d.quit()


# ---- Stores -----------------------------------------------------------------------------------

def sqlite_store(work, devfile):
    per = TOTAL // DEVICES
    path = cache_path("sqlite")
    older = older_cache("sqlite") if not os.path.exists(path) else None
    if older:
        print("# upgrading %s to %s: the collector migrates a copy (TP_BENCH_UPGRADE_CACHE=1)"
              % (os.path.basename(older), os.path.basename(path)), flush=True)
        tmp = path + ".part"
        shutil.copyfile(older, tmp)
        c = synclib.Collector("sqlite:" + tmp, devfile, work, name="upgrade-sqlite").start()
        c.stop()
        db = sqlite3.connect(tmp)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        os.rename(tmp, path)
    if not os.path.exists(path):
        print("# building the SQLite store of %d answers in %s (once)" % (TOTAL, path), flush=True)
        tmp = path + ".part"
        for ext in ("", "-wal", "-shm"):
            if os.path.exists(tmp + ext):
                os.remove(tmp + ext)
        c = synclib.Collector("sqlite:" + tmp, devfile, work, name="load-sqlite").start()
        try:
            n, wall, cpu = load(c, per)
            print("# loaded %d answers in %.0f s (collector CPU %.0f s)" % (n, wall, cpu))
        finally:
            c.stop()
        db = sqlite3.connect(tmp)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        os.rename(tmp, path)
    return path


class CachedPg(pgserver.PgServer):
    """A PostgreSQL cluster restored from (or saved to) the bench cache."""

    def __init__(self, cached):
        super().__init__()
        self.cached = cached

    def restore(self):
        shutil.copytree(self.cached, self.data, symlinks=True)
        conf = os.path.join(self.data, "postgresql.auto.conf")
        with open(conf) as f:
            lines = [x for x in f if not x.startswith("unix_socket_directories")]
        lines.append("unix_socket_directories = '%s'\n" % self.tmp)
        with open(conf, "w") as f:
            f.writelines(lines)
        if self._as_postgres:
            import pwd
            pw = pwd.getpwnam("postgres")
            for d, dirs, files in os.walk(self.tmp):
                for x in [d] + [os.path.join(d, y) for y in dirs + files]:
                    os.lchown(x, pw.pw_uid, pw.pw_gid)
        return self

    def save(self):
        self.stop()
        tmp = self.cached + ".part"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(self.data, tmp, symlinks=True)
        os.rename(tmp, self.cached)
        self.start()


def pg_query(pg, sql):
    return pg.psql(sql)


# ---- Ingest -----------------------------------------------------------------------------------

INGEST_DEVICES = int(os.environ.get("TP_BENCH_INGEST_DEVICES", "40"))
INGEST_PER = 5000  # 40 x 5,000 = 200,000 answers
INGEST_DAYS = 7  # a batch of 5,000 is a device's backlog of days, not of a year


def kiosk_ids(i, bodies):
    """Device i's batch bodies with ids as the kiosk makes them (storage/store_rec.c): UUIDv7
    (the answer's time first, then random bits) and each session named by its first answer's
    id. The 5,000,000-answer load keeps device_batches' random UUIDv4 ids (its cache name hashes
    that generator); the ingest figures model what kiosks send."""
    rnd = random.Random(7919 + i)
    names = {}
    out = []
    for body in bodies:
        doc = json.loads(body)
        for a in doc["answers"]:
            bits = (a["wall_ms"] << 80) | (7 << 76) | (rnd.getrandbits(12) << 64) | \
                (2 << 62) | rnd.getrandbits(62)
            a["id"] = str(uuid.UUID(int=bits))
            a["session"] = names.setdefault(a["session"], a["id"])
        out.append(json.dumps(doc).encode())
    return out


def ingest_bodies(kiosk=True):
    """The ingest figures' batches (40 devices x 5,000 answers over 7 days), made before any clock
    starts: the figures time the collector, not this script's JSON."""
    return {i: (kiosk_ids(i, device_batches(i, INGEST_PER, days=INGEST_DAYS)) if kiosk else
                list(device_batches(i, INGEST_PER, days=INGEST_DAYS)))
            for i in range(INGEST_DEVICES)}


def ingest_sqlite_once(work, devfile, bodies, name):
    path = os.path.join(work, name + ".db")
    c = synclib.Collector("sqlite:" + path, devfile, work, name=name).start()
    try:
        cpu0 = cpu_s(c.proc.p.pid)
        n, wall = post_bodies(c, bodies)
        cpu = cpu_s(c.proc.p.pid) - cpu0
    finally:
        c.stop()
    return n, wall, cpu


def ingest_sqlite(work, devfile):
    n, wall, cpu = ingest_sqlite_once(work, devfile, ingest_bodies(), "ingest-sqlite")
    per_cpu = n / cpu if cpu else 0
    figure("sqlite ingest with rollups", "%.0f" % per_cpu, "answers/CPU-second of the collector",
           ">= 50000", per_cpu >= 50000, "; wall-clock %.0f answers/s; ids and sessions as the"
           " kiosk makes them" % (n / wall))
    n, wall, cpu = ingest_sqlite_once(work, devfile, ingest_bodies(kiosk=False), "ingest-v4")
    print("# the same batches with random UUIDv4 ids and sessions (no kiosk sends them; the worst"
          " case for the id and session indexes): %.0f answers/CPU-second, %.0f answers/s"
          % (n / cpu if cpu else 0, n / wall), flush=True)


def post_bodies(c, bodies, threads=2):
    """Posts the pre-made bodies {device: [body]} with `threads` senders, each device's batches
    in order on one connection. Returns (answers accepted, wall s)."""
    queue = sorted(bodies)
    lock = threading.Lock()
    errors = []
    count = [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=600)
        while True:
            with lock:
                if not queue or errors:
                    return
                i = queue.pop(0)
            for body in bodies[i]:
                k, err = post_batch(conn, i, body)
                if err:
                    errors.append(err)
                    return
                with lock:
                    count[0] += k

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("load: %s" % errors[0])
    return count[0], time.monotonic() - t0


PG_INGEST_RUNS = 3  # runs of the PostgreSQL ingest figure, each on a new server: the median


def ingest_pg_once(work, devfile, bodies):
    """One run on a new server: the collector's ingest, then a raw COPY of the rows it stored.
    Returns (answers, ingest s, COPY s)."""
    with pgserver.PgServer() as pg:
        c = synclib.Collector(pg.url, devfile, work, name="ingest-pg").start()
        try:
            n, wall = post_bodies(c, bodies)
        finally:
            c.stop()
        # The same rows with a raw COPY into a table like answers (its indexes included).
        csv_path = os.path.join(pg.tmp, "answers.copy")
        pg.psql("COPY (SELECT * FROM answers) TO '%s'" % csv_path)  # answers is partitioned
        pg.psql("CREATE TABLE answers_raw (LIKE answers INCLUDING ALL)")
        t0 = time.monotonic()
        pg.psql("COPY answers_raw FROM '%s'" % csv_path)
        return n, wall, time.monotonic() - t0


def ingest_pg(work, devfile):
    bodies = ingest_bodies()
    runs = [(copy_s / wall if wall else 0, n, wall, copy_s)
            for n, wall, copy_s in (ingest_pg_once(work, devfile, bodies)
                                    for _ in range(PG_INGEST_RUNS))]
    ratio, n, wall, copy_s = sorted(runs)[len(runs) // 2]
    figure("postgresql ingest with rollups vs raw COPY", "%.2f" % ratio, "x", ">= 0.5x",
           ratio >= 0.5, "; %.0f answers/s through POST /v1/batches, raw COPY %.0f/s; the median"
           " of %d runs (%s)" % (n / wall, n / copy_s if copy_s else 0, len(runs),
                                 " / ".join("%.2f" % r[0] for r in runs)))


def reads_sqlite(work, devfile):
    path = sqlite_store(work, devfile)
    c = synclib.Collector("sqlite:" + path, devfile, work, name="query-sqlite",
                          extra=UNLIMITED_READS).start()
    try:
        raw = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        time_queries("sqlite", c, lambda sql: raw.execute(sql).fetchall())
        raw.close()
        first_view("sqlite", c, work)
    finally:
        c.stop()


def reads_pg(work, devfile):
    cached = cache_path("pg")
    pg = CachedPg(cached)
    try:
        older = older_cache("pg") if not os.path.exists(cached) else None
        if os.path.exists(cached):
            pg.restore().start()
        elif older:
            print("# upgrading %s to %s: the collector migrates a copy (TP_BENCH_UPGRADE_CACHE=1)"
                  % (os.path.basename(older), os.path.basename(cached)), flush=True)
            pg.cached = older
            pg.restore().start()
            pg.cached = cached
            t0 = time.monotonic()
            c = synclib.Collector(pg.url, devfile, work, name="upgrade-pg").start(timeout=3600)
            c.stop()
            pg.psql("VACUUM ANALYZE")
            print("# migrated in %.0f s" % (time.monotonic() - t0), flush=True)
            pg.save()
        else:
            print("# building the PostgreSQL store of %d answers in %s (once)"
                  % (TOTAL, cached), flush=True)
            pg.init().start().create_db()
            c = synclib.Collector(pg.url, devfile, work, name="load-pg").start()
            try:
                n, wall, cpu = load(c, TOTAL // DEVICES)
                print("# loaded %d answers in %.0f s (collector CPU %.0f s)" % (n, wall, cpu),
                      flush=True)
            finally:
                c.stop()
            pg.psql("VACUUM ANALYZE")
            pg.save()
        c = synclib.Collector(pg.url, devfile, work, name="query-pg",
                              extra=UNLIMITED_READS).start()
        try:
            time_queries("postgresql", c, lambda sql: pg_query(pg, sql))
            first_view("postgresql", c, work)
        finally:
            c.stop()
    finally:
        pg.close()


def stale_caches():
    """Caches of this size made by another schema or generator: named, never used."""
    keep = {os.path.basename(cache_path("sqlite")), os.path.basename(cache_path("pg"))}
    prefix = "analytics-%d-" % TOTAL
    return sorted(x for x in os.listdir(CACHE) if x.startswith(prefix) and ".part" not in x
                  and not any(x.startswith(k) for k in keep))


# TP_BENCH_PARTS picks parts (comma-separated): ingest, sqlite, pg. Default: all of them.
PARTS = set(os.environ.get("TP_BENCH_PARTS", "ingest,sqlite,pg").split(","))


def main():
    os.makedirs(CACHE, exist_ok=True)
    work = synclib.scratch_dir("tp-bench-analytics-")
    devfile = os.path.join(work, "devices.txt")
    write_devices(devfile)
    print("# cache: %s (delete it to load again)" % CACHE, flush=True)
    for x in stale_caches():
        print("# stale cache (other schema or data, never used as is; delete it): %s" % x,
              flush=True)
    try:
        if "ingest" in PARTS:
            ingest_sqlite(work, devfile)
            if pgserver.available():
                ingest_pg(work, devfile)
        if "sqlite" in PARTS:
            reads_sqlite(work, devfile)
        if "pg" in PARTS and pgserver.available():
            reads_pg(work, devfile)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
