"""flood.py - hostile clients for the collector's availability tests and benchmarks (stdlib only).

  Trickle(port, n, addrs)   n sockets from the loopback addresses addrs (127.0.0.x stand in for
                            several attackers), each sending one byte of a request head every
                            `every_s` seconds and reopened when the collector closes it, in one
                            background thread until stop(). Loopback only, bounded in time.
  HealthProbe(url)          GETs /healthz every `every_s` seconds in a background thread and
                            records each answer's status and latency.
  sync_devices(...)         runs `touchpoint sync --once` for several device databases at once.
  raise_nofile(n)           raises this process's soft descriptor limit (2,000 sockets need it).
"""

import http.client
import resource
import selectors
import socket
import subprocess
import threading
import time

HEAD = b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "


def raise_nofile(n):
    """Raises the soft RLIMIT_NOFILE to at least n (up to the hard limit). Returns the new soft
    limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, n), hard)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Trickle:
    """n sockets trickling a request head, spread over addrs, reopened when closed."""

    def __init__(self, port, n, addrs, every_s=5.0, max_s=600):
        self.port, self.n, self.addrs, self.every_s = port, n, list(addrs), every_s
        self.max_s = max_s
        self.stop_ev = threading.Event()
        self.opened = 0        # connections made in all
        self.closed_by_peer = 0
        self.live = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _open(self, i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((self.addrs[i % len(self.addrs)], 0))
            s.connect_ex(("127.0.0.1", self.port))
        except OSError:
            s.close()
            return None
        self.opened += 1
        return s

    def _run(self):
        sel = selectors.DefaultSelector()
        socks = {}  # i -> [socket, bytes sent, next send time]
        reopen = []  # (time, i) of sockets to open again, in time order
        t_end = time.monotonic() + self.max_s
        for i in range(self.n):
            s = self._open(i)
            if s:
                socks[i] = [s, 0, time.monotonic() + 0.2]
                sel.register(s, selectors.EVENT_READ, i)
        while not self.stop_ev.is_set() and time.monotonic() < t_end:
            for key, _ in sel.select(timeout=0.1):
                i = key.data
                s = socks[i][0]
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:  # closed by the collector (deadline, limit): come back in 1 s
                    sel.unregister(s)
                    s.close()
                    self.closed_by_peer += 1
                    del socks[i]
                    reopen.append((time.monotonic() + 1.0, i))
            now = time.monotonic()
            while reopen and reopen[0][0] <= now:
                _, i = reopen.pop(0)
                ns = self._open(i)
                if ns:
                    socks[i] = [ns, 0, now + 0.2]
                    sel.register(ns, selectors.EVENT_READ, i)
            for i, st in list(socks.items()):
                if now >= st[2]:
                    s = st[0]
                    try:
                        s.send(HEAD[st[1] % len(HEAD):st[1] % len(HEAD) + 1])
                        st[1] += 1
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        pass  # the read side notices the close
                    st[2] = now + self.every_s
            self.live = len(socks)
        for st in socks.values():
            try:
                sel.unregister(st[0])
            except (KeyError, ValueError):
                pass
            st[0].close()
        sel.close()

    def stop(self):
        self.stop_ev.set()
        self.thread.join(30)


class HealthProbe:
    """GET /healthz every every_s seconds; results as (status, seconds) in self.results."""

    def __init__(self, port, every_s=0.25, timeout_s=5.0):
        self.port, self.every_s, self.timeout_s = port, every_s, timeout_s
        self.results = []
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            st = 0
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                st = r.status
                c.close()
            except (OSError, http.client.HTTPException):
                st = 0
            self.results.append((st, time.monotonic() - t0))
            self.stop_ev.wait(max(0.0, self.every_s - (time.monotonic() - t0)))

    def stop(self):
        self.stop_ev.set()
        self.thread.join(30)

    def worst(self):
        """(answers not 200, slowest answer in seconds, count)."""
        bad = sum(1 for st, _ in self.results if st != 200)
        return bad, max([dt for _, dt in self.results] or [0.0]), len(self.results)


def sync_devices(exe, jobs, timeout=300):
    """Runs `touchpoint --db DB sync --config CONF --once` for every (db, conf) of jobs at once.
    Returns [(exit status, seconds, output tail)] in the order of jobs."""
    procs = []
    t0 = time.monotonic()
    for db, conf in jobs:
        procs.append(subprocess.Popen([exe, "--db", db, "sync", "--config", conf, "--once"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    out = []
    for p in procs:
        try:
            text, _ = p.communicate(timeout=max(1.0, timeout - (time.monotonic() - t0)))
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            text, _ = p.communicate()
            rc = -1
        out.append((rc, time.monotonic() - t0, text.decode("utf-8", "replace")[-400:]))
    return out


def rss_kb(pid):
    """VmRSS of a process in kB (0 when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def loopback_addrs(n, first=2):
    """n loopback addresses 127.0.0.first .. (127.0.0.1 is left to the devices)."""
    return ["127.0.0.%d" % (first + i) for i in range(n)]

