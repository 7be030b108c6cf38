"""webhooksink.py - a loopback webhook receiver for the delivery tests and bench (stdlib only).

    sink = WebhookSink()                    # ThreadingHTTPServer on a free 127.0.0.1 port
    url = sink.url("/hook/a")              # POST target of an endpoint
    sink.set_secret("/hook/a", secret)     # whsec_... printed by `endpoint add`
    sink.reject("/hook/a", 3)              # the next 3 deliveries there get HTTP 500
    sink.delay("/hook/a", 2.0)             # answer requests there after 2 s (in flight longer)
    ...
    sink.close()

Every request is checked the Standard Webhooks way (standardwebhooks.com): the headers
webhook-id, webhook-timestamp and webhook-signature are present, the timestamp is within
TOLERANCE_S of now, and one of the space-separated "v1,<base64>" signatures equals
base64(HMAC-SHA256(base64-decoded secret, id + "." + timestamp + "." + raw body)), compared in
constant time. A request failing a check is answered 400 and listed in sink.errors; a good one is
recorded in sink.received (and answered 500 while the path still has rejections to give, else
204). sink.delivered(path) is the ids answered 2xx, in order (duplicates kept: dedup is the
caller's). Each record keeps the arrival time (time.time()) for the bench.
"""
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

TOLERANCE_S = 300


def sign(secret, msg_id, ts, body):
    """The v1 signature of body (bytes) as the spec computes it."""
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    mac = hmac.new(key, b"%s.%s." % (msg_id.encode(), str(ts).encode()) + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(secret, headers, body, now=None):
    """Returns "" when the request is signed right, else the reason."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature")
    if not msg_id or not ts or not sigs:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        ts_i = int(ts)
    except ValueError:
        return "webhook-timestamp %r is not an integer" % ts
    if abs((now or time.time()) - ts_i) > TOLERANCE_S:
        return "webhook-timestamp %d is more than %d s from now" % (ts_i, TOLERANCE_S)
    want = sign(secret, msg_id, ts, body)
    for s in sigs.split(" "):
        if hmac.compare_digest(s.encode(), want.encode()):
            return ""
    return "no signature matches (got %r)" % sigs


class WebhookSink:
    def __init__(self):
        self.lock = threading.Lock()
        self.secrets = {}
        self.rejections = {}
        self.delays = {}
        self.received = []  # dicts: path, id, ts, status, body (parsed JSON), raw, at
        self.errors = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                if len(raw) != n:  # the sender died mid-request (a SIGKILL test): nothing signed
                    self.close_connection = True
                    return
                with sink.lock:
                    pause = sink.delays.get(self.path, 0)
                if pause:
                    time.sleep(pause)
                status = sink._take(self.path, self.headers, raw)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def set_secret(self, path, secret):
        with self.lock:
            self.secrets[path] = secret

    def reject(self, path, n):
        with self.lock:
            self.rejections[path] = n

    def delay(self, path, seconds):
        with self.lock:
            self.delays[path] = seconds

    def _take(self, path, headers, raw):
        at = time.time()
        with self.lock:
            secret = self.secrets.get(path)
            why = verify(secret, headers, raw) if secret else "no secret for %s" % path
            if why:
                self.errors.append("%s: %s" % (path, why))
                return 400
            try:
                body = json.loads(raw)
            except ValueError as e:
                self.errors.append("%s: body is not JSON: %s" % (path, e))
                return 400
            status = 204
            if self.rejections.get(path, 0) > 0:
                self.rejections[path] -= 1
                status = 500
            self.received.append({"path": path, "id": headers.get("webhook-id"),
                                  "ts": int(headers.get("webhook-timestamp")), "status": status,
                                  "body": body, "raw": raw, "at": at})
            return status

    def delivered(self, path=None):
        with self.lock:
            return [r["id"] for r in self.received
                    if r["status"] < 300 and (path is None or r["path"] == path)]

    def records(self, path=None):
        with self.lock:
            return [r for r in self.received if path is None or r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    # The Standard Webhooks test vector (svix), as a self-check of sign().
    got = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
               1614265330, b'{"test": 2432232314}')
    print(got)
