#!/usr/bin/env python3
"""test_sync_faultproxy.py - checks the end-to-end test's own tool, tests/support/faultproxy.py,
against a small stdlib HTTP server: each fault kind does to the client and to the upstream what
its description says (so a green end-to-end run really went through those faults), the schedule
is deterministic for a seed, and the counters match what happened. Prints TAP lines."""

import http.client
import http.server
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import faultproxy  # noqa: E402
from tap import check as tap  # noqa: E402


class Upstream(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.bodies = []
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.bodies.append(body)
            n = len(self.server.bodies)
        out = b'{"ack": "test", "n": %d, "echo": "%s"}' % (n, body[:40].hex().encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def raw_post(port, body, token="t1"):
    """Sends one POST over a fresh socket and returns (raw reply bytes, error or None)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = (b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
           b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) +
           body)
    data = b""
    err = None
    try:
        s.sendall(req)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                cl = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")]
                if cl and len(rest) >= int(cl[0].split(b":")[1]):
                    break
    except OSError as e:
        err = e
    s.close()
    return data, err


def one_kind(up, kind):
    """Runs one request through a proxy that injects only `kind`; returns (reply, err, upstream
    requests seen, proxy stats)."""
    before = len(up.bodies)
    p = faultproxy.FaultProxy(("127.0.0.1", up.server_address[1]), rate=1.0, kinds=[kind],
                              delay_ms=(300, 300)).start()
    try:
        reply, err = raw_post(p.port, b'{"batch": "' + kind.encode() + b'"}')
    finally:
        p.stop()
    return reply, err, len(up.bodies) - before, p.stats()


def main():
    up = Upstream()
    t = threading.Thread(target=up.serve_forever, daemon=True)
    t.start()
    try:
        r, err, seen, st = one_kind(up, "drop_request")
        tap(seen == 0 and r == b"" and st["faults"]["drop_request"] == 1,
            "drop_request: connection cut before the upstream saw the request (seen=%d, "
            "reply=%r)" % (seen, r[:40]))
        r, err, seen, st = one_kind(up, "drop_reply")
        tap(seen == 1 and b"\r\n\r\n" not in r and st["faults"]["drop_reply"] == 1,
            "drop_reply: upstream stored the request, client got an incomplete header block "
            "(%d bytes) then a reset" % len(r))
        r, err, seen, st = one_kind(up, "status_500")
        tap(seen == 1 and r.startswith(b"HTTP/1.1 500"),
            "status_500: forwarded, then the reply replaced by a 500")
        r, err, seen, st = one_kind(up, "status_503")
        tap(seen == 0 and r.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in r,
            "status_503: not forwarded, 503 with Retry-After: 1")
        r, err, seen, st = one_kind(up, "truncate")
        head, _, body = r.partition(b"\r\n\r\n")
        cl = int([ln for ln in head.split(b"\r\n")
                  if ln.lower().startswith(b"content-length")][0].split(b":")[1])
        tap(seen == 1 and r.startswith(b"HTTP/1.1 200") and 0 < len(body) < cl,
            "truncate: 200 with Content-Length %d but only %d body bytes, then a reset"
            % (cl, len(body)))
        r, err, seen, st = one_kind(up, "duplicate")
        tap(seen == 2 and up.bodies[-1] == up.bodies[-2] and b'"n": %d' % len(up.bodies) in r,
            "duplicate: upstream got the same body twice, client got the second reply")
        r, err, seen, st = one_kind(up, "portal")
        tap(seen == 0 and r.startswith(b"HTTP/1.1 200") and b"text/html" in r,
            "portal: not forwarded, 200 text/html page like a captive portal")
        import time
        t0 = time.monotonic()
        r, err, seen, st = one_kind(up, "delay")
        dt = time.monotonic() - t0
        tap(seen == 1 and r.startswith(b"HTTP/1.1 200") and dt >= 0.3,
            "delay: forwarded after waiting (%.2f s >= 0.30 s) and answered normally" % dt)

        # Keep-alive pass-through with http.client, several requests on one connection.
        p = faultproxy.FaultProxy(("127.0.0.1", up.server_address[1]), rate=0.0).start()
        try:
            c = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
            ok = True
            for i in range(5):
                c.request("POST", "/v1/batches", body=b"x" * (1000 * i),
                          headers={"Authorization": "Bearer k"})
                resp = c.getresponse()
                ok = ok and resp.status == 200 and len(resp.read()) > 0
            c.request("GET", "/__faultproxy/stats")
            import json
            st = json.loads(c.getresponse().read())
            c.close()
        finally:
            p.stop()
        tap(ok and st["connections"] == 1 and st["passed"] == 5 and st["forwarded"] == 5 and
            st["request_body_bytes"] == 10000,
            "rate 0: 5 requests pass over one kept-alive connection; counters match "
            "(connections=%d passed=%d body bytes=%d)" % (st["connections"], st["passed"],
                                                           st["request_body_bytes"]))

        # Determinism: the same seed gives the same per-key schedule however keys interleave.
        def schedule(order):
            p = faultproxy.FaultProxy(("127.0.0.1", 1), seed=42, rate=0.4)
            got = {}
            for key in order:
                got.setdefault(key, []).append(p._decide(key)[0])
            return got
        a = schedule(["A"] * 30 + ["B"] * 30)
        b = schedule(["A", "B"] * 30)
        c = faultproxy.FaultProxy(("127.0.0.1", 1), seed=43, rate=0.4)
        other = [c._decide("A")[0] for _ in range(30)]
        runs = max(len(x) for x in "".join("F" if k else "." for k in a["A"]).split("."))
        tap(a == b and other != a["A"] and runs <= 3,
            "schedule deterministic per (seed, key) regardless of interleaving, differs for "
            "another seed, at most 3 faults in a row")
        kinds_seen = {k for k in a["A"] + a["B"] if k}
        many = schedule(["K%d" % (i % 10) for i in range(300)])
        all_kinds = {k for v in many.values() for k in v if k}
        tap(all_kinds == set(faultproxy.KINDS),
            "10 keys x 30 requests at rate 0.4 use every fault kind (%d kinds; 2 keys: %d)"
            % (len(all_kinds), len(kinds_seen)))
        fp = faultproxy.FaultProxy(("127.0.0.1", 1), seed=5, rate=0.0, force_first=True,
                                   key_map={"Bearer t%d" % i: "dev-%02d" % i for i in range(8)})
        firsts = [fp._decide("Bearer t%d" % i)[0] for i in range(8)]
        seconds = [fp._decide("Bearer t%d" % i)[0] for i in range(8)]
        tap(firsts == list(faultproxy.KINDS) and seconds == [None] * 8,
            "force_first: the first batch of the i-th mapped key gets the i-th fault kind, "
            "later ones follow the rate (0 here)")
    finally:
        up.shutdown()
        up.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
