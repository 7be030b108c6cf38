#!/usr/bin/env python3
"""test_watchdog.py - the kiosk under a fake systemd: the test binds a unix datagram socket, passes
it as NOTIFY_SOCKET with WATCHDOG_USEC / WATCHDOG_PID (what systemd gives a Type=notify service
with WatchdogSec=), starts the real touchpoint-kiosk headless and records every notification.

Checks: READY=1 comes once the first frame is drawn (and never from a kiosk that cannot start);
WATCHDOG=1 keeps arriving while the kiosk idles, both in the live SDL loop and while a script waits
for its next line; a script `stall 2000` (the loop blocked for 2 s of real time) stops the pings
for longer than the watchdog timeout, so systemd would kill it, and they resume after; an unhealthy
kiosk (out of order: the database cannot take the answer) stops feeding the watchdog; a
WATCHDOG_PID naming another process turns the pings off; STOPPING=1 on a clean exit.

No assertion is an upper bound on time: the test waits (up to generous limits) for what must
arrive, and measures only gaps that a real sleep guarantees.

Prints TAP. Uses the build folder from $TP_BUILD (default build).
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402
from pinhash import pin_hash  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TP_BUILD", "build")
KIOSK = os.path.join(BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD),
                     "touchpoint-kiosk")
SURVEYS = os.path.join(ROOT, "assets", "surveys")
WATCHDOG_USEC = 400000  # 400 ms: pings every 200 ms
WAIT = 60               # seconds to wait for something that must come (ASan is slow)

# The staff PIN is required by the config; any valid hash does (2468, few iterations).
PIN_HASH = pin_hash("2468", salt=b"touchpoint-wd-te")

ENV = dict(os.environ, SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy")


class Notify:
    """A fake systemd notify socket: records (monotonic seconds, message) for each datagram."""

    def __init__(self, d):
        self.path = os.path.join(d, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.cv = threading.Condition()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            with self.cv:
                self.msgs.append((time.monotonic(), data.decode("utf-8", "replace")))
                self.cv.notify_all()

    def wait_for(self, pred, start=0, timeout=WAIT):
        """Waits until a message at index >= start satisfies pred; returns its index or -1."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for i in range(start, len(self.msgs)):
                    if pred(self.msgs[i][1]):
                        return i
                left = end - time.monotonic()
                if left <= 0:
                    return -1
                self.cv.wait(left)

    def wait_count(self, pred, n, start=0, timeout=WAIT):
        """Waits until n messages from index start satisfy pred; returns the index of the nth."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                hits = [i for i in range(start, len(self.msgs)) if pred(self.msgs[i][1])]
                if len(hits) >= n:
                    return hits[n - 1]
                left = end - time.monotonic()
                if left <= 0:
                    return -1
                self.cv.wait(left)

    def snapshot(self):
        with self.cv:
            return list(self.msgs)

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def is_ping(m):
    return "WATCHDOG=1" in m.split("\n")


def is_ready(m):
    return "READY=1" in m.split("\n")


class Setup:
    def __init__(self, survey="checkout-nps.json"):
        self.dir = tempfile.mkdtemp(prefix="tp_wd_")
        self.db = os.path.join(self.dir, "answers.db")
        self.conf = os.path.join(self.dir, "kiosk.conf")
        with open(self.conf, "w") as f:
            f.write("[device]\nid = wd-kiosk\nstore = hcm-q1\ntouchpoint = checkout\n"
                    "[survey]\nfile = %s\ndirectory = %s\n"
                    "[storage]\ndatabase = %s\nmin_free_mb = 1\n"
                    "[display]\nfullscreen = false\nwidth = 800\nheight = 480\n"
                    "[staff]\npin_hash = %s\n"
                    % (os.path.join(SURVEYS, survey), SURVEYS, self.db, PIN_HASH))
        self.notify = Notify(self.dir)
        self.proc = None
        self.stderr = ""

    def start(self, args, watchdog_pid="self", env=None):
        e = dict(ENV, NOTIFY_SOCKET=self.notify.path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        e.update(env or {})
        cmd = [KIOSK, "--config", self.conf, "--headless", "--trace"] + list(args)
        if watchdog_pid == "self":
            # systemd sets WATCHDOG_PID to the service's main pid: a shell learns its own pid
            # and execs the kiosk in place, so the pid is the kiosk's.
            cmd = ["sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh"] + cmd
        elif watchdog_pid is not None:
            e["WATCHDOG_PID"] = str(watchdog_pid)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=e)
        self.trace = []
        self.trace_cv = threading.Condition()
        self.err_lines = []
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, True),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, False),
                                         daemon=True)]
        for t in self.readers:
            t.start()

    def _read(self, f, is_trace):
        for line in f:
            with self.trace_cv:
                if not is_trace:
                    self.err_lines.append(line)
                    continue
                try:
                    self.trace.append(json.loads(line))
                except ValueError:
                    self.trace.append({"event": "unparsable", "line": line})
                self.trace_cv.notify_all()

    def wait_trace(self, pred, n, timeout=WAIT):
        """Waits until n trace events satisfy pred; returns True when they did."""
        end = time.monotonic() + timeout
        with self.trace_cv:
            while sum(1 for e in self.trace if pred(e)) < n:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.trace_cv.wait(left)
            return True

    def send(self, text):
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def finish(self, sig=None):
        """Ends the kiosk (closing stdin, or a signal); returns (rc, stdout, stderr)."""
        if sig is not None:
            self.proc.send_signal(sig)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for t in self.readers:
            t.join()
        with self.trace_cv:
            out = "\n".join(json.dumps(e) for e in self.trace)
            err = "".join(self.err_lines)
        self.stderr = err
        return self.proc.returncode, out, err

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_live_loop():
    """The real SDL loop (no script): nothing else wakes it on the question screen, so pings
    prove its wait includes the watchdog deadline. SIGTERM ends it with STOPPING=1."""
    s = Setup()
    try:
        s.start([])
        r = s.notify.wait_for(is_ready)
        report(r >= 0, "live loop: READY=1 arrives")
        msgs = s.notify.snapshot()
        first = msgs[r][1] if r >= 0 else ""
        report("STATUS=first frame drawn: question screen" in first,
               "live loop: READY=1 carries the first-frame status (%r)" % first)
        n = s.notify.wait_count(is_ping, 6, start=r + 1 if r >= 0 else 0)
        report(n >= 0, "live loop: WATCHDOG=1 keeps arriving while idle (6 pings after READY)")
        rc, out, err = s.finish(signal.SIGTERM)
        msgs = s.notify.snapshot()
        report(rc == 0 and any("STOPPING=1" in m for _, m in msgs),
               "live loop: SIGTERM -> exit 0 with STOPPING=1 (rc %s)" % rc)
        st = [m for _, m in msgs if m.startswith("STATUS=question screen")]
        report(len(st) >= 1, "live loop: a STATUS= line names the screen and the sync backlog")
        frames = [l for l in out.splitlines() if '"event": "frame"' in l]
        report(len(frames) >= 1, "live loop: the first frame is in the trace")
    finally:
        s.close()


def test_script_stall():
    s = Setup()
    try:
        s.start(["--script", "-"])
        r = s.notify.wait_for(is_ready)
        report(r >= 0, "script: READY=1 after the first frame")
        s.send("advance 1000\nexpect-screen question\nadvance 1000\n")
        n = s.notify.wait_count(is_ping, 5, start=r + 1)
        report(n >= 0, "script: WATCHDOG=1 keeps arriving while the script idles (5 pings)")
        mark = len(s.notify.snapshot())
        s.send("stall 2000\n")
        st = s.notify.wait_for(lambda m: m.startswith("STATUS=stalled by script"), start=mark)
        report(st >= 0, "stall: the kiosk announced the stall (STATUS=)")
        after = s.notify.wait_for(is_ping, start=st + 1 if st >= 0 else mark)
        msgs = s.notify.snapshot()
        before = [i for i in range(0, st if st >= 0 else mark) if is_ping(msgs[i][1])]
        ok = st >= 0 and after >= 0 and before
        gap = msgs[after][0] - msgs[before[-1]][0] if ok else 0
        # The sleep is 2000 ms of real time: the gap is at least that (less 50 ms for clocks).
        report(ok and gap >= 1.95, "stall 2000: no WATCHDOG=1 for %.2f s" % gap)
        report(ok and gap > WATCHDOG_USEC / 1e6,
               "stall 2000: the gap exceeds WATCHDOG_USEC (%.1f s): systemd would restart it"
               % (WATCHDOG_USEC / 1e6))
        n2 = s.notify.wait_count(is_ping, 3, start=after + 1 if after >= 0 else len(msgs))
        report(n2 >= 0, "stall over: the pings resume (3 more)")
        s.send("tap nps-9\nadvance 60000\nexpect-screen question\n")
        rc, out, err = s.finish()
        report(rc == 0, "script: clean exit at the end of stdin (rc %s, stderr %r)"
               % (rc, err[-300:]))
        report("main loop stalled for" in err,
               "stall: the next tick reports the stall on stderr (the journal)")
        con = sqlite3.connect("file:%s?mode=ro" % s.db, uri=True)
        try:
            n_ans = con.execute("SELECT count(*) FROM answers").fetchone()[0]
        finally:
            con.close()
        report(n_ans == 1, "script: the answer after the stall is recorded (%d)" % n_ans)
        msgs = s.notify.snapshot()
        report(any("STOPPING=1" in m for _, m in msgs), "script: STOPPING=1 on exit")
        report(sum(1 for _, m in msgs if is_ready(m)) == 1, "READY=1 is sent exactly once")
    finally:
        s.close()


def test_unhealthy():
    """A database at its size cap: a tap cannot be recorded, the kiosk is out of order, and the
    health check keeps WATCHDOG=1 back (systemd restarts a kiosk stuck like that)."""
    s = Setup()
    try:
        s.start(["--script", "-"], watchdog_pid=1)  # a first run creates the database
        s.send("tap nps-9\nadvance 4000\n")
        s.finish()
        con = sqlite3.connect(s.db)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.close()
        mark = len(s.notify.snapshot())
        s.start(["--script", "-"], env={"TP_KIOSK_MAX_PAGE_COUNT": str(pages)})
        r = s.notify.wait_for(is_ready, start=mark)
        ooo = False
        # One tap at a time until the database is full (the answer or the failure is traced).
        for i in range(1, 400):
            s.send("tap nps-9\nadvance 4000\n")
            done = s.wait_trace(lambda e: e.get("event") == "answer" or
                                (e.get("event") == "error" and e.get("during") == "record"), i)
            if not done:
                break
            if s.wait_trace(lambda e: e.get("event") == "error" and e.get("during") == "record",
                            1, timeout=0):
                ooo = s.wait_trace(lambda e: e.get("event") == "screen" and
                                   e.get("screen") == "out_of_order", 1)
                break
        report(r >= 0 and ooo, "database at its size cap: the kiosk is out of order")
        bad = s.notify.wait_for(lambda m: "watchdog not fed: out of order" in m, start=max(r, 0))
        report(bad >= 0, "out of order: STATUS= says the watchdog is not fed and why")
        # Eight ping intervals of idle time: a healthy kiosk would ping about eight times.
        time.sleep(8 * WATCHDOG_USEC / 2e6)
        alive = s.proc.poll() is None
        msgs = s.notify.snapshot()
        late = [m for _, m in msgs[bad + 1:]] if bad >= 0 else ["?"]
        report(alive and bad >= 0 and not any(is_ping(m) for m in late),
               "out of order: no WATCHDOG=1 while unhealthy (%d messages after)" % len(late))
        s.finish()
    finally:
        s.close()


def test_not_our_pid():
    s = Setup()
    try:
        s.start(["--script", "-"], watchdog_pid=1)
        r = s.notify.wait_for(is_ready)
        report(r >= 0, "WATCHDOG_PID of another process: READY=1 still sent")
        s.send("advance 1000\n")
        time.sleep(1.0)
        s.finish()
        msgs = s.notify.snapshot()
        report(not any(is_ping(m) for _, m in msgs),
               "WATCHDOG_PID of another process: no WATCHDOG=1 at all")
    finally:
        s.close()


def test_no_frame_no_ready():
    s = Setup(survey="does-not-exist.json")
    try:
        s.start([])
        rc, out, err = s.finish()
        msgs = s.notify.snapshot()
        report(rc != 0 and not any(is_ready(m) for _, m in msgs),
               "a kiosk that cannot start (missing survey) never sends READY=1 (rc %s)" % rc)
    finally:
        s.close()


def main():
    if not os.access(KIOSK, os.X_OK):
        print("not ok 1 - %s not built" % KIOSK)
        return 1
    test_live_loop()
    test_script_stall()
    test_unhealthy()
    test_not_our_pid()
    test_no_frame_no_ready()
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
