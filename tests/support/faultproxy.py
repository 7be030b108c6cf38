#!/usr/bin/env python3
"""faultproxy.py - a fault-injecting HTTP reverse proxy for the sync tests (Python stdlib only).

It sits on loopback between `touchpoint sync` and `touchpoint-collector`: the client's sync URL
points at the proxy, the proxy forwards each request to the collector. Per request it may inject
one fault, chosen by a seeded, deterministic schedule:

  drop_request  read the headers and half of the body, then reset the connection: the collector
                never sees the batch
  drop_reply    forward the batch (the collector stores it), then send half of the reply's
                header block and reset: the client never hears the acknowledgement
  status_500    forward the batch, then replace the collector's reply with a 500 (stored, but
                the client is told it failed)
  status_503    do not forward; answer 503 with Retry-After: 1
  delay         wait delay_ms (from the schedule), then forward normally
  truncate      forward, send the reply headers with the real Content-Length and only half of the
                body, then reset
  duplicate     deliver the batch to the collector twice; the client gets the second reply
                (which names the answers as duplicates)
  portal        do not forward; answer 200 with an HTML page, as a captive portal does (the
                client must mark nothing)

Schedule: requests are keyed by their Authorization header (one key per device; key_map can give
each header a stable name, e.g. the device id, since tokens are random), so each device's sequence
of faults depends only on (seed, key, n-th request of that key), not on how the devices
interleave. A request gets a fault with probability `rate`; the faults of one key go round-robin
through the enabled kinds from a key-dependent offset, so every kind is used once a key has had
as many faults as there are kinds; at most `max_consecutive` faults in a row per key, so every
client makes progress. With force_first, the first batch of the i-th key of key_map gets kind
i mod (number of kinds): with at least as many devices as kinds, every kind is injected whatever
the rate. Everything done is counted (stats()).

Use as a module (FaultProxy(...).start() / .stop()) or from the command line:
  faultproxy.py --upstream 127.0.0.1:8088 [--listen 127.0.0.1:0] [--seed 1] [--rate 0.3]
                [--kinds drop_request,...] [--stats-file FILE]
It prints "listening HOST:PORT" on stdout, and the stats as JSON to --stats-file (and stdout) when
it gets SIGTERM or SIGINT. GET /__faultproxy/stats answers the stats as JSON at any time.
"""

import argparse
import hashlib
import http.client
import json
import random
import signal
import socket
import struct
import sys
import threading
import time

KINDS = ("drop_request", "drop_reply", "status_500", "status_503", "delay", "truncate",
         "duplicate", "portal")

# Headers that belong to one hop and are not forwarded.
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
               "trailer", "upgrade", "expect", "content-length"}

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024  # above the collector's limits, so it answers 413 itself

PORTAL_PAGE = (b"<!DOCTYPE html><html><head><title>Welcome to ShopWiFi</title></head>"
               b"<body><h1>Please accept the terms to continue</h1></body></html>")


class _ConnClosed(Exception):
    pass


def _reset(sock):
    """Closes sock with an RST (SO_LINGER 0), as a cut connection looks to the peer."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Request:
    def __init__(self, method, target, version, headers, head_bytes):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # list of (name, value) in order
        self.head_bytes = head_bytes
        self.body = b""

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


def _read_head(rfile):
    """Reads a request line and headers. Returns a _Request, or None on a clean EOF."""
    line = rfile.readline(MAX_HEADER_BYTES)
    while line in (b"\r\n", b"\n"):  # tolerate stray blank lines between requests
        line = rfile.readline(MAX_HEADER_BYTES)
    if not line:
        return None
    total = len(line)
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3:
        raise _ConnClosed("bad request line %r" % line[:80])
    headers = []
    while True:
        h = rfile.readline(MAX_HEADER_BYTES)
        if not h:
            raise _ConnClosed("eof in headers")
        total += len(h)
        if total > MAX_HEADER_BYTES:
            raise _ConnClosed("headers too large")
        if h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    return _Request(parts[0], parts[1], parts[2], headers, total)


def _read_exact(rfile, n):
    data = rfile.read(n)
    if data is None or len(data) != n:
        raise _ConnClosed("eof in body")
    return data


def _read_chunked(rfile):
    """Reads a chunked body; returns (body, bytes on the wire)."""
    out = bytearray()
    wire = 0
    while True:
        line = rfile.readline(1024)
        if not line:
            raise _ConnClosed("eof in chunk size")
        wire += len(line)
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:  # trailers up to the blank line
                t = rfile.readline(MAX_HEADER_BYTES)
                if not t:
                    raise _ConnClosed("eof in trailers")
                wire += len(t)
                if t in (b"\r\n", b"\n"):
                    return bytes(out), wire
        if len(out) + size > MAX_BODY_BYTES:
            raise _ConnClosed("chunked body too large")
        out += _read_exact(rfile, size)
        wire += size + len(rfile.readline(16))


class FaultProxy:
    """A threaded reverse proxy injecting faults. Thread-safe stats(); start() then stop()."""

    def __init__(self, upstream, listen=("127.0.0.1", 0), seed=1, rate=0.3, kinds=KINDS,
                 max_consecutive=3, delay_ms=(200, 1500), upstream_timeout=60.0, log=None,
                 key_map=None, force_first=False):
        for k in kinds:
            if k not in KINDS:
                raise ValueError("unknown fault kind %r (known: %s)" % (k, ", ".join(KINDS)))
        self.upstream = upstream
        self.listen_addr = listen
        self.seed = seed
        self.rate = rate
        self.kinds = tuple(kinds)
        self.max_consecutive = max_consecutive
        self.delay_ms = delay_ms
        self.upstream_timeout = upstream_timeout
        self.log = log
        self.key_map = dict(key_map or {})
        self._key_index = {v: i for i, v in enumerate(self.key_map.values())}
        self.force_first = force_first
        self._lock = threading.Lock()
        self._keys = {}  # key -> {"n": requests, "faults": n, "run": consecutive faults}
        self._counts = {k: 0 for k in KINDS}
        self._stats = {"requests": 0, "passed": 0, "forwarded": 0, "upstream_errors": 0,
                       "client_errors": 0, "connections": 0, "bytes_from_clients": 0,
                       "bytes_to_clients": 0, "request_body_bytes": 0, "reply_body_bytes": 0,
                       "batch_requests_ok": 0, "held": 0}
        self._sock = None
        self._thread = None
        self._stopping = False
        self._conns = set()
        self._holds = {}  # key name -> Event set once a held batch was answered upstream
        self.port = None

    # ---- schedule ---------------------------------------------------------------------------

    def _decide(self, key):
        """Returns (kind or None, delay ms) for the next request of key. Deterministic per key."""
        key = self.key_map.get(key, key)
        with self._lock:
            st = self._keys.setdefault(key, {"n": 0, "faults": 0, "run": 0})
            n = st["n"]
            st["n"] += 1
            digest = hashlib.sha256(("%s|%s|%d" % (self.seed, key, n)).encode()).digest()
            rng = random.Random(digest)
            kind = None
            if self.force_first and n == 0 and key in self._key_index and self.kinds:
                kind = self.kinds[self._key_index[key] % len(self.kinds)]
                st["run"] += 1
            elif self.kinds and rng.random() < self.rate and st["run"] < self.max_consecutive:
                off = int.from_bytes(hashlib.sha256(("%s|%s" % (self.seed, key)).encode())
                                     .digest()[:4], "big")
                kind = self.kinds[(off + st["faults"]) % len(self.kinds)]
                st["faults"] += 1
                st["run"] += 1
            else:
                st["run"] = 0
            delay = rng.randint(self.delay_ms[0], self.delay_ms[1])
            return kind, delay

    def hold_next(self, name):
        """The next batch of key `name` (a key_map value) bypasses the schedule: it is forwarded,
        the collector answers it, and the reply is held back until the client goes away. Returns
        an Event set once the collector has answered, so a test can SIGKILL the client at the
        worst moment (stored upstream, not acknowledged on the device) without guessing a time."""
        ev = threading.Event()
        with self._lock:
            self._holds[name] = ev
        return ev

    def _take_hold(self, key):
        with self._lock:
            return self._holds.pop(self.key_map.get(key, key), None)

    def _count(self, name, n=1):
        with self._lock:
            if name in self._counts:
                self._counts[name] += n
            else:
                self._stats[name] += n

    def stats(self):
        """Returns a snapshot: {"faults": {kind: n}, "requests": n, ..., "keys": n}."""
        with self._lock:
            s = dict(self._stats)
            s["faults"] = dict(self._counts)
            s["keys"] = len(self._keys)
            s["seed"] = self.seed
            s["rate"] = self.rate
            return s

    # ---- life cycle -------------------------------------------------------------------------

    def start(self):
        """Binds and starts the accept thread. Returns self (self.port is the bound port)."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(self.listen_addr)
        self._sock.listen(1024)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy-accept",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stops accepting, closes every client connection and waits for the accept thread."""
        self._stopping = True
        if self._thread is not None:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept_loop(self):
        while not self._stopping:
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._count("connections")
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # ---- one client connection --------------------------------------------------------------

    def _upstream_conn(self):
        return http.client.HTTPConnection(self.upstream[0], self.upstream[1],
                                          timeout=self.upstream_timeout)

    def _forward(self, up, req):
        """Sends req to the collector on up (reconnecting once if the kept-alive connection was
        closed). Returns (status, reason, headers, body, up)."""
        for attempt in (0, 1):
            try:
                up.putrequest(req.method, req.target, skip_host=True, skip_accept_encoding=True)
                for k, v in req.headers:
                    if k.lower() not in HOP_HEADERS:
                        up.putheader(k, v)
                up.putheader("Content-Length", str(len(req.body)))
                up.endheaders(req.body)
                r = up.getresponse()
                body = r.read()
                self._count("forwarded")
                return r.status, r.reason, r.getheaders(), body, up
            except (http.client.HTTPException, OSError):
                up.close()
                up = self._upstream_conn()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def _send(self, conn, data):
        conn.sendall(data)
        self._count("bytes_to_clients", len(data))

    @staticmethod
    def _reply_bytes(status, reason, headers, body, close):
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        for k, v in headers:
            if k.lower() not in HOP_HEADERS:
                lines.append("%s: %s" % (k, v))
        lines.append("Content-Length: %d" % len(body))
        lines.append("Connection: %s" % ("close" if close else "keep-alive"))
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head, body

    def _serve(self, conn):
        up = self._upstream_conn()
        rfile = conn.makefile("rb")
        try:
            while not self._stopping:
                try:
                    req = _read_head(rfile)
                except (_ConnClosed, OSError, ValueError):
                    self._count("client_errors")
                    return
                if req is None:
                    return
                if req.target == "/__faultproxy/stats":
                    body = json.dumps(self.stats()).encode()
                    h, b = self._reply_bytes(200, "OK", [("Content-Type", "application/json")],
                                             body, False)
                    conn.sendall(h + b)
                    continue
                if not self._handle(conn, rfile, req, up):
                    return
        finally:
            up.close()
            with self._lock:
                self._conns.discard(conn)
            try:
                rfile.close()
                conn.close()
            except OSError:
                pass

    def _hold_reply(self, conn, up, req, hold):
        """Forwards req, then keeps the reply until the client closes or resets (at most 60 s)."""
        try:
            status, _, _, _, up = self._forward(up, req)
        except (http.client.HTTPException, OSError):
            self._count("upstream_errors")
            hold.set()
            return False
        self._count("held")
        if status == 200:
            self._count("batch_requests_ok")
        hold.set()
        conn.settimeout(60)
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        return False

    def _handle(self, conn, rfile, req, up):
        """Handles one request. Returns False when the client connection is finished."""
        self._count("requests")
        self._count("bytes_from_clients", req.head_bytes)
        is_batch = req.method == "POST"
        key = req.header("Authorization") or "anonymous"
        hold = self._take_hold(key) if is_batch else None
        kind, delay = self._decide(key) if is_batch and not hold else (None, 0)
        if self.log:
            self.log("%s %s key=%s fault=%s" % (req.method, req.target,
                                                 hashlib.sha256(key.encode()).hexdigest()[:8],
                                                 kind or "-"))
        te = (req.header("Transfer-Encoding") or "").lower()
        clen = req.header("Content-Length")
        if (req.header("Expect") or "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            if kind == "drop_request":
                # Take part of the body, so the cut really is mid-request, then reset.
                if clen is not None and int(clen) > 1:
                    rfile.read(int(clen) // 2)
                self._count("drop_request")
                _reset(conn)
                return False
            if "chunked" in te:
                req.body, wire = _read_chunked(rfile)
            else:
                n = int(clen or "0")
                if n < 0 or n > MAX_BODY_BYTES:
                    raise _ConnClosed("bad Content-Length %s" % clen)
                req.body = _read_exact(rfile, n)
                wire = n
        except (_ConnClosed, OSError, ValueError):
            self._count("client_errors")
            return False
        self._count("bytes_from_clients", wire)
        self._count("request_body_bytes", len(req.body))
        close = (req.header("Connection") or "").lower() == "close"

        if kind == "status_503":
            self._count("status_503")
            body = b'{"error": {"code": "store_unavailable", "message": "injected by faultproxy"}}'
            h, b = self._reply_bytes(503, "Service Unavailable",
                                     [("Content-Type", "application/json"),
                                      ("Retry-After", "1")], body, close)
            self._send(conn, h + b)
            return not close
        if kind == "portal":
            self._count("portal")
            h, b = self._reply_bytes(200, "OK", [("Content-Type", "text/html")], PORTAL_PAGE,
                                     close)
            self._send(conn, h + b)
            return not close
        if kind == "delay":
            time.sleep(delay / 1000.0)
        if hold:
            return self._hold_reply(conn, up, req, hold)

        try:
            status, reason, headers, body, up = self._forward(up, req)
            if kind == "duplicate":
                status, reason, headers, body, up = self._forward(up, req)
        except (http.client.HTTPException, OSError) as e:
            self._count("upstream_errors")
            if self.log:
                self.log("upstream error: %s" % e)
            body = b'{"error": {"code": "bad_gateway", "message": "collector unreachable"}}'
            h, b = self._reply_bytes(502, "Bad Gateway", [("Content-Type", "application/json")],
                                     body, True)
            self._send(conn, h + b)
            return False
        # Record the fault only now: it really happened to a request the collector processed.
        if kind in ("delay", "duplicate"):
            self._count(kind)
        if is_batch and status == 200 and kind not in ("status_500",):
            self._count("batch_requests_ok")
        self._count("reply_body_bytes", len(body))

        if kind == "status_500":
            self._count("status_500")
            body = b'{"error": {"code": "internal", "message": "injected by faultproxy"}}'
            h, b = self._reply_bytes(500, "Internal Server Error",
                                     [("Content-Type", "application/json")], body, close)
            self._send(conn, h + b)
            return not close
        h, b = self._reply_bytes(status, reason, headers, body, close)
        if kind == "drop_reply":
            self._count("drop_reply")
            self._send(conn, h[:max(1, len(h) // 2)])
            _reset(conn)
            return False
        if kind == "truncate":
            self._count("truncate")
            self._send(conn, h + b[:len(b) // 2])
            _reset(conn)
            return False
        self._send(conn, h + b)
        self._count("passed")
        return not close


def _hostport(s):
    host, _, port = s.rpartition(":")
    return (host or "127.0.0.1", int(port))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True, help="collector HOST:PORT")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: a free one)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, default=0.3, help="fault probability per request")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma list; '' for none")
    ap.add_argument("--max-consecutive", type=int, default=3)
    ap.add_argument("--stats-file", help="write the stats as JSON here at exit")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    a = ap.parse_args(argv)
    kinds = [k for k in a.kinds.split(",") if k]
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if a.verbose else None
    p = FaultProxy(_hostport(a.upstream), _hostport(a.listen), seed=a.seed, rate=a.rate,
                   kinds=kinds, max_consecutive=a.max_consecutive, log=log)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    p.start()
    print("listening %s:%d" % (p.listen_addr[0], p.port), flush=True)
    while not done.wait(0.5):
        pass
    p.stop()
    out = json.dumps(p.stats(), indent=1, sort_keys=True)
    if a.stats_file:
        with open(a.stats_file, "w") as f:
            f.write(out + "\n")
    print(out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
