#!/usr/bin/env python3
"""test_demo.py - the `make run` demo (board/run-demo.sh) end to end, and the staff "Sync now".

1. The demo without a display, in a temporary var folder (TP_VAR_DIR), with its first port taken:
   it says there is no display and how to run it (xvfb-run, headless script), starts the real
   collector on the next free port and writes the config for it, registers the demo device, starts
   the sync daemon (pid file) and a headless kiosk session that records answers and taps staff
   "Sync now"; GET /v1/report on the collector then shows exactly those answers; four of the
   seven customers are unhappy, so the demo's negative_share rule fires and its alert opens one
   case on the demo store, seen through GET /v1/cases with its alert and timeline (issue 13's
   "Done when"); the thank-you's screenshot holds a QR code that zbarimg decodes to the comment
   link of the first customer's session on the demo collector (its --public-url), signed with the
   key the collector delivered (remote-config.json, mode 0600; the mac recomputed here from the
   contract); SIGINT stops the
   script and all three processes (none left), and the pid file is removed.
2. TP_DEMO_ONCE=1 in the same folder: the device is not registered again (same token, one device
   in the collector's `device list`, at its node vn/hcm/hcm-q1/checkout), the kiosk ran the
   centrally assigned survey (a "config" trace event: applied, store hcm-q1) and after the round
   the device's running revision in the store equals the one the center delivered; the script
   waits for the sync daemon to deliver and exits 0 by itself, nothing left running, nothing
   pending in the kiosk database. 2b. With its token file lost, the demo gets a fresh token
   (`device rotate-token`) and still delivers.
3. `touchpoint sync --daemon --pid-file`: the file holds the daemon's pid, SIGUSR1 does not kill
   it, SIGTERM ends it and removes the file; --pid-file without --daemon is a usage error.
4. Staff "Sync now" (widget staff-sync) with a fake daemon: a sleeping Python child with a
   SIGUSR1 handler writes its pid file; the kiosk taps through PIN 2468 to the staff screen and
   taps staff-sync; the child receives SIGUSR1. With no pid file the kiosk says sync is not
   running.

Prints TAP. Uses the build folder from $TP_BUILD (default build).
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TP_BUILD", "build")
BUILD_ABS = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
KIOSK = os.path.join(BUILD_ABS, "touchpoint-kiosk")
TP = os.path.join(BUILD_ABS, "touchpoint")
COLLECTOR = os.path.join(BUILD_ABS, "touchpoint-collector")
DEMO = os.path.join(ROOT, "board", "run-demo.sh")
SURVEYS = os.path.join(ROOT, "assets", "surveys")
DEMO_CONF = os.path.join(ROOT, "assets", "demo", "kiosk.conf")
PIN = "2468"
TIMEOUT = 120  # seconds for any one wait (ASan builds are slower)


def demo_env(var, port):
    env = dict(os.environ, BUILD=BUILD, TP_VAR_DIR=var, TP_DEMO_PORT=str(port),
               SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("TP_DEMO_ONCE", None)
    return env


def default_signals():
    # SIGINT may be ignored when the tests run in the background; the script must be able to
    # trap it, and a shell cannot trap a signal ignored on entry.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Demo:
    """board/run-demo.sh in its own process group, its output collected by a thread."""

    def __init__(self, env):
        self.lines = []
        self.cond = threading.Condition()
        self.p = subprocess.Popen(["sh", DEMO], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                  preexec_fn=default_signals)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def wait_line(self, pattern, timeout=TIMEOUT):
        """Returns the match of the first output line matching pattern, or None."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cond:
            i = 0
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    if line is None:
                        return None
                    m = rx.search(line)
                    if m:
                        return m
                    i += 1
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def text(self):
        with self.cond:
            return "\n".join(x for x in self.lines if x is not None)

    def kill_all(self):
        """Failure path: nothing may outlive the test."""
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()


def gone(pid):
    """True when pid no longer exists (or is a zombie of someone else)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def check_clean_output(out, what):
    """Every process exited 0 on its stop signal, and no sanitizer spoke (ASan build)."""
    bad = [x for x in out.splitlines() if "exited with status" in x or "Sanitizer" in x or
           "runtime error:" in x]
    report(not bad, "%s: every process exited 0, no sanitizer report %s" % (what, bad[:3]))


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, json.loads(r.read().decode())


def trace_events(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def busy_port():
    """A listening socket on some free port (the demo must skip it)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def test_demo_forever(var):
    hold, port0 = busy_port()
    d = Demo(demo_env(var, port0))
    try:
        m = d.wait_line(r"dashboard: http://127\.0\.0\.1:(\d+)/ \(answers")
        report(m is not None, "demo without a display prints the dashboard URL (%s)"
               % (m.group(0) if m else d.text()[-2000:]))
        if not m:
            return
        port = int(m.group(1))
        out = d.text()
        report("no display found" in out and "xvfb-run -a make run" in out and
               "--headless --script FILE" in out,
               "no display: says so and shows xvfb-run and the headless script alternative")
        report(port != port0 and ("port %d is taken" % port0) in out,
               "first port %d taken: the collector moved on to %d" % (port0, port))
        conf = os.path.join(var, "kiosk.conf")
        with open(conf) as f:
            ctext = f.read()
        report(("url = http://127.0.0.1:%d" % port) in ctext and
               os.path.join(var, "demo", "sync.token") in ctext and
               os.path.join(SURVEYS, "checkout-nps.json") in ctext,
               "var/kiosk.conf written with the port in use and absolute paths")
        pids = {}
        for name, rx in (("collector", r"collector started \(pid (\d+)\)"),
                         ("sync", r"sync daemon started \(pid (\d+)\)"),
                         ("kiosk", r"kiosk started headless \(pid (\d+)\)")):
            pm = re.search(rx, out)
            pids[name] = int(pm.group(1)) if pm else None
        report(all(pids.values()), "the demo names the pids of collector, sync and kiosk %s"
               % pids)
        pidfile = os.path.join(var, "demo", "sync.pid")
        try:
            with open(pidfile) as f:
                filed = int(f.read().strip())
        except (OSError, ValueError):
            filed = None
        report(filed == pids["sync"] and not gone(pids["sync"]),
               "sync daemon running, its pid file %s holds its pid" % pidfile)
        ev = trace_events(out)
        recorded = [e for e in ev if e.get("event") == "answer"]
        sync_now = [e for e in ev if e.get("event") == "sync_now"]
        report(len(recorded) == 12, "the headless kiosk session recorded 12 answers (%d)"
               % len(recorded))
        check_demo_qr(var, port, recorded)
        report(len(sync_now) == 1 and sync_now[0].get("result") == "sent" and
               sync_now[0].get("pid") == pids["sync"],
               "staff 'Sync now' in the demo signalled the sync daemon %s" % sync_now)
        # The staff tap woke the daemon: the answers reach the collector well before 30 s, but
        # the test only waits for them (no timing assertion).
        rep = None
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            try:
                st, rep = get_json("http://127.0.0.1:%d/v1/report" % port)
                if rep["total"]["n"] >= 12:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        tot = rep["total"] if rep else {}
        nps = tot.get("nps", {})
        counts = tot.get("choice", {}).get("counts", {})
        report(tot.get("n") == 12 and nps.get("n") == 7 and nps.get("promoters") == 2 and
               nps.get("detractors") == 5 and counts.get("wait") == 3 and
               counts.get("staff") == 1 and counts.get("price") == 1,
               "GET /v1/report shows the 12 recorded answers: NPS 4, 10, 9, 2, 0, 3, 1 and "
               "reasons wait x3, staff, price (%s)" % json.dumps(tot)[:400])
        check_demo_labels(port, rep)
        check_demo_case(port, out)
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=10) as r:
            page = r.read()
        report(r.status == 200 and len(page) > 100, "the dashboard page answers at the URL")
        report(gone(pids["kiosk"]), "the headless kiosk session has ended; the script serves on")
        os.kill(d.p.pid, signal.SIGINT)
        try:
            rc = d.p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        d.t.join(10)
        out = d.text()
        report(rc == 130 and "run: stopped" in out,
               "SIGINT: the script stops and exits 130 (rc %s)" % rc)
        left = [n for n, p in pids.items() if p and not gone(p)]
        report(not left, "after SIGINT no collector, sync daemon or kiosk is left %s" % left)
        report(not os.path.exists(pidfile), "the sync daemon removed its pid file on exit")
        check_clean_output(out, "SIGINT run")
    finally:
        hold.close()
        if d.p.poll() is None:
            d.kill_all()


def check_demo_qr(var, port, recorded):
    """Issue 15: the demo's thank-you shows a QR code of the comment link on the demo collector."""
    shot = os.path.join(BUILD_ABS, "demo", "3-thanks.png")
    p = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", shot],
                       capture_output=True, text=True, timeout=TIMEOUT)
    link = p.stdout.strip()
    rc_file = os.path.join(var, "demo", "remote-config.json")
    try:
        with open(rc_file) as f:
            comment = json.load(f).get("comment", {})
        mode = os.stat(rc_file).st_mode & 0o777
    except (OSError, ValueError):
        comment, mode = {}, None
    key = comment.get("key", "")
    session = recorded[0].get("session") if recorded else None
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/c\?d=demo-kiosk-01&s=([0-9a-f-]{36})"
                     r"&x=(\d+)&l=vi&m=([A-Za-z0-9_-]{22})", link)
    report(m is not None and int(m.group(1)) == port and m.group(2) == session,
           "the demo thank-you's QR code decodes (zbarimg) to the comment link of the first "
           "customer's session on the demo collector (%s)" % link)
    report(comment.get("url") == "http://127.0.0.1:%d/c" % port and len(key) == 43 and
           mode == 0o600,
           "the collector delivered the key and http://127.0.0.1:%d/c; remote-config.json is "
           "mode 0600 (%s)" % (port, oct(mode or 0)))
    if m and key:
        raw = base64.urlsafe_b64decode(key + "=")
        msg = ("tp-comment-v1\n%s\n%s\n%s\n" % ("demo-kiosk-01", m.group(2), m.group(3))).encode()
        want = base64.urlsafe_b64encode(hmac.new(raw, msg, hashlib.sha256).digest()[:16])
        ok = want.rstrip(b"=").decode() == m.group(4)
        now = int(time.time())
        report(ok and now < int(m.group(3)) <= now + 1800 + 60,
               "its mac is HMAC-SHA256 with the delivered key (recomputed here) and it expires "
               "30 minutes after the tap")
    else:
        report(False, "its mac is HMAC-SHA256 with the delivered key (no link or key)")
    # The link opens the comment page on the running demo collector (as the customer's phone).
    status, page = 0, b""
    if m:
        try:
            with urllib.request.urlopen(link, timeout=10) as r:
                status, page = r.status, r.read()
        except OSError as e:
            page = str(e).encode()
    report(status == 200 and b"<textarea" in page and b"<form" in page,
           "the link opens the comment page (a form with its text box) on the demo collector "
           "(HTTP %d)" % status)


def check_demo_labels(port, rep):
    """The demo publishes its survey to the collector: reasons read as the kiosk showed them."""
    want = {"vi": "Phải\u00a0chờ lâu", "en": "Long wait"}
    st, rs = get_json("http://127.0.0.1:%d/v1/reasons" % port)
    qs = [q for g in rs.get("groups", []) for q in g["questions"]] if st == 200 else []
    neg = {o["choice"]: o.get("label") for q in qs for b in q["bands"] if b["band"] == "negative"
           for o in b["options"]}
    report(neg.get("wait") == want and all(q.get("labelled") for q in qs)
           and (rep or {}).get("choice_labels", {}).get("wait") == want,
           "the demo's reasons carry the published survey's words: wait = %s (%s)"
           % (want, neg))


def check_demo_case(port, out):
    """Issue 13's demo: the scripted unhappy customers fire the demo's negative_share rule, whose
    alert opens a case on the demo store, visible through GET /v1/cases (the dashboard's cases
    view reads it) with its alert and its open event."""
    cases = []
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end and not cases:
        try:
            _, js = get_json("http://127.0.0.1:%d/v1/cases?state=active" % port)
            cases = [c for c in js["cases"] if c["store"] == "hcm-q1"]
        except (OSError, ValueError, KeyError):
            pass
        if not cases:
            time.sleep(0.2)
    one = {}
    if cases:
        _, one = get_json("http://127.0.0.1:%d/v1/cases/%s" % (port, cases[0]["id"]))
    alert = one.get("case", {}).get("alert") or {}
    tl = one.get("timeline", [])
    report(len(cases) == 1 and cases[0]["state"] == "open" and
           cases[0]["node"].startswith("vn/hcm/hcm-q1") and
           "Demo: many unhappy customers" in cases[0]["title"]["en"] and
           alert.get("kind") == "negative_share" and tl and tl[0]["action"] == "open" and
           "the demo alert opened a case" in out,
           "the scripted bad ratings fire the demo alert: one open case on hcm-q1 in GET "
           "/v1/cases, with its alert and open event (%s)" % json.dumps(one)[:600])


def test_demo_once(var):
    with open(os.path.join(var, "demo", "sync.token")) as f:
        token_before = f.read()
    _, port0 = busy_port()  # a port that was free a moment ago; the demo probes from it
    d = Demo(dict(demo_env(var, port0), TP_DEMO_ONCE="1"))
    try:
        rc = d.p.wait(TIMEOUT * 2)
    except subprocess.TimeoutExpired:
        rc = None
    d.t.join(10)
    out = d.text()
    report(rc == 0 and "delivered every answer" in out and "run: stopped" in out,
           "TP_DEMO_ONCE=1: the demo waits for the delivery and exits 0 by itself (rc %s)%s"
           % (rc, "" if rc == 0 else ": " + out[-1500:]))
    check_clean_output(out, "TP_DEMO_ONCE run")
    with open(os.path.join(var, "demo", "sync.token")) as f:
        token_after = f.read()
    devs = device_list(var)
    mine = [x for x in devs if x.get("id") == "demo-kiosk-01"]
    report("already registered" in out and token_after == token_before and len(mine) == 1 and
           mine[0].get("node") == "vn/hcm/hcm-q1/checkout",
           "second run keeps the device's token and its single device in the collector's store, "
           "at its node (%s)" % mine)
    applied = [e for e in trace_events(out) if e.get("event") == "config"]
    report(applied and applied[0].get("result") == "applied" and
           applied[0].get("store") == "hcm-q1" and applied[0].get("version") == 2,
           "the demo kiosk runs the survey the center assigned (%s)" % applied[:1])
    rc_file = os.path.join(var, "demo", "remote-config.json")
    with open(rc_file) as f:
        desired = json.load(f)["revision"]
    report(mine and mine[0].get("running_revision") == desired,
           "after the round the device's running revision is the desired one (%s vs %s)"
           % (mine[0].get("running_revision") if mine else None, desired))
    pids = [int(x) for x in re.findall(r"\(pid (\d+)\)", out)]
    report(len(pids) == 3 and all(gone(p) for p in pids),
           "TP_DEMO_ONCE=1: all three processes have exited %s" % pids)
    db = os.path.join(var, "demo", "answers.db")
    p = subprocess.run([TP, "--db", db, "check"], capture_output=True, text=True, timeout=TIMEOUT)
    m = re.search(r"answers\s+(\d+) pending, (\d+) synced", p.stdout)
    report(m is not None and m.group(1) == "0" and m.group(2) == "24",
           "kiosk database after two demo runs: 0 pending, 24 synced (%s)"
           % (m.group(0) if m else p.stdout + p.stderr))
    if d.p.poll() is None:
        d.kill_all()


def device_list(var):
    p = subprocess.run([COLLECTOR, "device", "list", "--store",
                        "sqlite:" + os.path.join(var, "collector.db")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        return []
    return doc if isinstance(doc, list) else doc.get("devices", doc.get("items", []))


def test_demo_lost_token(var):
    tok = os.path.join(var, "demo", "sync.token")
    with open(tok) as f:
        token_before = f.read()
    os.unlink(tok)
    d = Demo(dict(demo_env(var, busy_port()[1]), TP_DEMO_ONCE="1"))
    try:
        rc = d.p.wait(TIMEOUT * 2)
    except subprocess.TimeoutExpired:
        rc = None
    d.t.join(10)
    out = d.text()
    with open(tok) as f:
        token_after = f.read()
    mine = [x for x in device_list(var) if x.get("id") == "demo-kiosk-01"]
    report(rc == 0 and "delivered every answer" in out and token_after.strip() and
           token_after != token_before and len(mine) == 1,
           "lost token file: the demo rotates the device's token and delivers (rc %s)%s"
           % (rc, "" if rc == 0 else ": " + out[-1500:]))
    if d.p.poll() is None:
        d.kill_all()


def test_pid_file(tmp):
    conf = os.path.join(tmp, "sync.conf")
    tok = os.path.join(tmp, "tok")
    with open(tok, "w") as f:
        f.write("x" * 43 + "\n")
    os.chmod(tok, 0o600)
    with open(DEMO_CONF) as f:
        text = f.read()
    text = re.sub(r"(?m)^url *=.*$", "url = http://127.0.0.1:9", text)  # nothing listens
    text = re.sub(r"(?m)^token_file *=.*$", "token_file = " + tok, text)
    text = re.sub(r"(?m)^pid_file *=.*$", "pid_file = " + os.path.join(tmp, "unused.pid"), text)
    text = text.replace("= ../surveys", "= " + SURVEYS)
    text = text.replace("../../var/demo/", tmp + "/")
    with open(conf, "w") as f:
        f.write(text)
    pidfile = os.path.join(tmp, "sync.pid")
    p = subprocess.run([TP, "sync", "--config", conf, "--pid-file", pidfile], capture_output=True,
                       text=True, timeout=TIMEOUT)
    report(p.returncode == 2 and "--daemon" in p.stderr and not os.path.exists(pidfile),
           "--pid-file without --daemon: usage error, exit 2 (%s)" % p.stderr.strip()[:200])
    proc = subprocess.Popen([TP, "sync", "--config", conf, "--daemon", "--pid-file", pidfile],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + TIMEOUT
        while not os.path.exists(pidfile) and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        try:
            with open(pidfile) as f:
                content = f.read()
        except OSError:
            content = ""
        report(content == "%d\n" % proc.pid, "the daemon's pid file holds its pid (%r)" % content)
        report(not [x for x in os.listdir(tmp) if ".tmp" in x],
               "no temporary pid file left beside it (written by rename)")
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(0.5)
        report(proc.poll() is None, "SIGUSR1 (sync now) does not kill the daemon")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(TIMEOUT)
        err = proc.stderr.read()
        report(rc == 0 and not os.path.exists(pidfile),
               "SIGTERM: daemon exits 0 and removes its pid file (rc %d%s)"
               % (rc, "" if rc == 0 else ", " + err[-300:]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


FAKE = r"""
import os, signal, sys, time
pidfile, got = sys.argv[1], sys.argv[2]
def usr1(sig, frame):
    with open(got, "a") as f:
        f.write("usr1\n")
signal.signal(signal.SIGUSR1, usr1)
import fcntl
# Like the real daemon (sync/pidfile.h): the pid file is locked for the holder's whole life.
fd = os.open(pidfile + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, b"%d\n" % os.getpid())
os.rename(pidfile + ".tmp", pidfile)
while True:
    time.sleep(60)
"""


def run_kiosk(conf, script):
    path = conf + ".script"
    with open(path, "w") as f:
        f.write(script)
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy")
    p = subprocess.run([KIOSK, "--config", conf, "--headless", "--script", path, "--trace"],
                       capture_output=True, text=True, timeout=TIMEOUT, env=env)
    return p.returncode, trace_events(p.stdout), p.stderr


def test_staff_sync(tmp):
    pidfile = os.path.join(tmp, "fake-sync.pid")
    got = os.path.join(tmp, "got-usr1")
    conf = os.path.join(tmp, "kiosk.conf")
    with open(DEMO_CONF) as f:
        text = f.read()
    text = text.replace("= ../surveys", "= " + SURVEYS)
    text = text.replace("../../var/demo/", tmp + "/")
    text = re.sub(r"(?m)^pid_file *=.*$", "pid_file = " + pidfile, text)
    with open(conf, "w") as f:
        f.write(text)
    # A kiosk without its token file shows the pairing screen (issue 12); this one is paired.
    with open(os.path.join(tmp, "sync.token"), "w") as f:
        f.write("t" * 43 + "\n")
    os.chmod(os.path.join(tmp, "sync.token"), 0o600)
    staff = "hold 5 5 3000\n" + "".join("tap pin-%s\n" % c for c in PIN) + "tap pin-ok\n" + \
        "expect-screen staff\ntap staff-sync\nexpect-screen staff\n"
    fake = subprocess.Popen([sys.executable, "-c", FAKE, pidfile, got])
    try:
        end = time.monotonic() + TIMEOUT
        while not os.path.exists(pidfile) and time.monotonic() < end:
            time.sleep(0.05)
        rc, tr, err = run_kiosk(conf, staff)
        ev = [e for e in tr if e.get("event") == "sync_now"]
        report(rc == 0 and len(ev) == 1 and ev[0].get("result") == "sent" and
               ev[0].get("pid") == fake.pid,
               "PIN %s, staff screen, tap staff-sync: SIGUSR1 sent to the pid in [sync] pid_file "
               "(rc %d, %s %s)" % (PIN, rc, ev, err.strip()[-300:]))
        end = time.monotonic() + TIMEOUT
        while not os.path.exists(got) and time.monotonic() < end:
            time.sleep(0.05)
        with open(got) if os.path.exists(got) else open(os.devnull) as f:
            received = f.read()
        report(received == "usr1\n" and fake.poll() is None,
               "the fake sync daemon received exactly one SIGUSR1 and is still running")
    finally:
        fake.kill()
        fake.wait()
    os.unlink(pidfile)
    rc, tr, err = run_kiosk(conf, staff)
    ev = [e for e in tr if e.get("event") == "sync_now"]
    report(rc == 0 and len(ev) == 1 and ev[0].get("result") == "not_running" and
           "không chạy" in ev[0].get("note", ""),
           "no pid file: staff-sync says sync is not running (%s)" % ev)
    # A stale file (a pid that no longer exists) is "not running" too, not an error.
    with open(pidfile, "w") as f:
        f.write("%d\n" % fake.pid)
    rc, tr, err = run_kiosk(conf, staff)
    ev = [e for e in tr if e.get("event") == "sync_now"]
    report(rc == 0 and len(ev) == 1 and ev[0].get("result") == "not_running",
           "stale pid file (process gone): staff-sync says sync is not running (%s)" % ev)


def main():
    tmp = tempfile.mkdtemp(prefix="tp_demo_")
    try:
        var = os.path.join(tmp, "var")
        os.mkdir(var)
        test_demo_forever(var)
        test_demo_once(var)
        test_demo_lost_token(var)
        sub = os.path.join(tmp, "pidfile")
        os.mkdir(sub)
        test_pid_file(sub)
        sub = os.path.join(tmp, "staff")
        os.mkdir(sub)
        test_staff_sync(sub)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
