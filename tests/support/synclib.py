"""synclib.py - shared pieces of the sync end-to-end test and the sync benchmarks (stdlib only).

Starts and stops the real programs of a build: touchpoint-collector (on a free loopback port,
waiting for /healthz), the device side (`touchpoint --db DB sync --config CONF --once`), and
tests/gen_answers (device databases). Every process started here is stopped by stop() / the
context managers, also when the caller fails: callers use try/finally.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SUPPORT = os.path.join(ROOT, "tests", "support")
# A syntactically valid PIN hash: the sync command loads the kiosk config but never checks a PIN.
PIN_HASH = "pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"


def build_dir():
    """The build folder under test (env TP_BUILD, default build), absolute."""
    return os.path.join(ROOT, os.environ.get("TP_BUILD", "build"))


def is_asan():
    return "asan" in os.environ.get("TP_BUILD", "")


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_dir(prefix):
    """A fresh folder on /dev/shm when there is one (fsync is cheap there), else in TMPDIR."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


def http_get(url, timeout=10):
    """Returns (status, body bytes); status 0 when there was no HTTP reply."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def http_request(port, method, path, body=None, token=None, headers=None):
    """One HTTP request to the collector on 127.0.0.1:port. body: a dict or list is sent as JSON
    (Content-Type set unless headers has one), anything else as is; token: Bearer
    authorization. Returns (status, headers with lower-case names, parsed JSON or None when the
    body is empty or not JSON, body bytes)."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        try:
            js = json.loads(data) if data else None
        except ValueError:
            js = None
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), js, data
    finally:
        conn.close()


class Proc:
    """A child process with its output in a log file; stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, args, log_path, env=None):
        self.args = args
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env)

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=15):
        """Stops the process. Returns its exit status (negative: killed by that signal)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def tail(self, n=20):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""


def add_device(devices_file, dev_id, build=None):
    """Registers dev_id with `touchpoint-collector add-device`; returns its token."""
    exe = os.path.join(build or build_dir(), "touchpoint-collector")
    r = subprocess.run([exe, "add-device", dev_id, "--devices", devices_file],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("add-device %s: exit %d: %s" % (dev_id, r.returncode,
                                                          (r.stderr or r.stdout).strip()))
    token = r.stdout.strip().split()[-1] if r.stdout.strip() else ""
    if len(token) < 32:
        raise RuntimeError("add-device %s printed no token: %r" % (dev_id, r.stdout))
    return token


class Collector:
    """touchpoint-collector on a free loopback port. start() waits until /healthz answers 200.
    devices_file None: no --devices (the devices live in the store: see Fleet below)."""

    def __init__(self, store_url, devices_file, workdir, build=None, extra=(), env=None,
                 name="collector"):
        self.exe = os.path.join(build or build_dir(), "touchpoint-collector")
        self.store_url = store_url
        self.devices_file = devices_file
        self.workdir = workdir
        self.extra = list(extra)
        self.env = env
        self.name = name
        self.port = None
        self.proc = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=30, port=None):
        """Starts it on a free port, or on `port` (a restart where clients expect it)."""
        last = ""
        for _attempt in range(3):  # a free port can be taken by someone else meanwhile
            self.port = port or free_port()
            devices = ["--devices", self.devices_file] if self.devices_file else []
            self.proc = Proc([self.exe, "--listen", "127.0.0.1:%d" % self.port, "--store",
                              self.store_url] + devices + self.extra,
                             os.path.join(self.workdir, "%s-%d.log" % (self.name, self.port)),
                             env=self.env)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.alive():
                st, _ = http_get(self.base + "/healthz", timeout=2)
                if st == 200:
                    return self
                time.sleep(0.1)
            last = self.proc.tail()
            self.proc.stop()
        raise RuntimeError("collector did not become healthy: %s" % last)

    def crash_and_restart(self):
        """SIGKILLs the collector (no clean shutdown) and starts it again on the same port.
        Returns the killed process's exit status (-9)."""
        self.proc.p.kill()
        rc = self.proc.p.wait()
        self.proc.log.close()
        self.start(port=self.port)
        return rc

    def get_json(self, path, timeout=30):
        st, body = http_get(self.base + path, timeout=timeout)
        if st != 200:
            raise RuntimeError("GET %s: status %d: %r" % (path, st, body[:200]))
        return json.loads(body)

    def metrics(self):
        """The /metrics text as {sample name with labels: value}."""
        st, body = http_get(self.base + "/metrics")
        out = {}
        for line in body.decode("utf-8", "replace").splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
        return out

    def stop(self):
        return self.proc.stop() if self.proc else None


def write_device_config(workdir, dev_id, url, token, batch_max=500, gzip=True, store="hcm-01",
                        interval_s=5, backoff_max_s=2, db=None):
    """Writes DEV.token and DEV.ini (a complete kiosk config whose [sync] points at url) into
    workdir. Returns the config path."""
    tok = os.path.join(workdir, dev_id + ".token")
    with open(tok, "w") as f:
        f.write(token + "\n")
    os.chmod(tok, 0o600)
    conf = os.path.join(workdir, dev_id + ".ini")
    survey = os.path.join(ROOT, "assets", "surveys", "checkout-nps.json")
    with open(conf, "w") as f:
        f.write("[device]\nid = %s\nstore = %s\ntouchpoint = checkout\n\n"
                "[survey]\nfile = %s\n\n"
                "[storage]\ndatabase = %s\n\n"
                "[staff]\npin_hash = %s\n\n"
                "[sync]\nurl = %s\ntoken_file = %s\ninterval_s = %d\nbatch_max = %d\n"
                "gzip = %s\nconnect_timeout_s = 5\nlow_speed_time_s = 10\nbackoff_max_s = %d\n"
                % (dev_id, store, survey, db or os.path.join(workdir, dev_id + ".db"), PIN_HASH,
                   url, tok, interval_s, batch_max, "true" if gzip else "false",
                   backoff_max_s))
    return conf


def gen_answers(db, dev_id, n, seed=1, days=7, tail=0, build=None):
    """Makes a device database with n answers (tests/gen_answers). Returns its summary line."""
    exe = os.path.join(build or build_dir(), "tests", "gen_answers")
    args = [exe, "--db", db, "--device", dev_id, "--answers", str(n), "--seed", str(seed),
            "--days", str(days)]
    if tail:
        args += ["--untrusted-tail", str(tail)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("gen_answers %s: %s" % (db, r.stderr.strip()))
    return r.stdout.strip()


DUMP_FIELDS = ("seq", "id", "session", "survey", "survey_version", "question", "kind", "value",
               "choice", "lang", "store", "touchpoint", "wall_ms", "clock_trusted", "mono_ms",
               "boot_id", "flags", "state", "reject_code")


def dump_answers(db, build=None):
    """Every answer of a device database as a list of dicts (tests/gen_answers --dump)."""
    exe = os.path.join(build or build_dir(), "tests", "gen_answers")
    r = subprocess.run([exe, "--dump", "--db", db], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("gen_answers --dump %s: %s" % (db, r.stderr.strip()))
    out = []
    for line in r.stdout.splitlines():
        out.append(dict(zip(DUMP_FIELDS, line.split("\t"))))
    return out


def copy_db(src, dst):
    """Copies a closed device database and its side files (-wal, .seqmark) to dst."""
    shutil.copyfile(src, dst)
    for ext in ("-wal", ".seqmark"):
        if os.path.exists(src + ext):
            shutil.copyfile(src + ext, dst + ext)


def sync_once_killed(db, conf, after_s, build=None, held=None):
    """Starts `touchpoint ... sync --once` and SIGKILLs it (a power cut or OOM kill mid-batch):
    once `held` (a faultproxy hold_next() Event: the collector has stored a batch whose reply is
    held back) is set, or after after_s seconds. Returns its exit status (-9 when killed)."""
    exe = os.path.join(build or build_dir(), "touchpoint")
    p = subprocess.Popen([exe, "--db", db, "sync", "--config", conf, "--once"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_end = time.monotonic() + after_s
    while p.poll() is None and time.monotonic() < t_end:
        if held is not None and held.wait(0.02):
            break
        if held is None:
            time.sleep(0.02)
    if p.poll() is None:
        p.kill()
    return p.wait()


def sync_once(db, conf, build=None, timeout=120, env=None):
    """Runs `touchpoint --db DB sync --config CONF --once`. Returns (exit status, output)."""
    exe = os.path.join(build or build_dir(), "touchpoint")
    try:
        r = subprocess.run([exe, "--db", db, "sync", "--config", conf, "--once"],
                           capture_output=True, text=True, timeout=timeout, env=env)
        return r.returncode, (r.stdout + r.stderr)
    except subprocess.TimeoutExpired as e:
        return -1, "timeout after %d s: %s" % (timeout, e.stdout or "")


def load_pgserver():
    """Imports tests/support/pgserver.py (the collector helper's PostgreSQL harness) or returns
    None when it is not there."""
    if not os.path.exists(os.path.join(SUPPORT, "pgserver.py")):
        return None
    if SUPPORT not in sys.path:
        sys.path.insert(0, SUPPORT)
    import pgserver  # noqa: E402
    return pgserver


# ---- Fleet (issue 12): the tree, devices and surveys in the collector's store -------------------

def fleet_cli(store_url, *args, build=None, check=True, timeout=60):
    """Runs `touchpoint-collector ARGS... --store URL`. Returns (exit status, stdout, stderr);
    check: raise RuntimeError unless the exit status is 0."""
    exe = os.path.join(build or build_dir(), "touchpoint-collector")
    r = subprocess.run([exe] + [str(a) for a in args] + ["--store", store_url],
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("touchpoint-collector %s: exit %d: %s"
                           % (" ".join(map(str, args)), r.returncode, r.stderr.strip()))
    return r.returncode, r.stdout, r.stderr


def fleet_json(store_url, *args, build=None):
    """A fleet subcommand's JSON output (node list, device list, audit list, ...)."""
    return json.loads(fleet_cli(store_url, *args, build=build)[1])


def fleet_token(store_url, *args, build=None):
    """The token a subcommand prints once (device add, device rotate-token, admin-token add)."""
    out = fleet_cli(store_url, *args, build=build)[1].strip()
    if len(out) < 32:
        raise RuntimeError("no token from %s: %r" % (" ".join(map(str, args)), out))
    return out


def fleet_setup(store_url, devices, node="vn/hcm/hcm-q1/checkout", survey_file=None,
                settings=None, build=None):
    """A fleet in the store at store_url: node (and its ancestors) with settings (a dict for the
    node's parent region, e.g. opening hours), survey_file (default: the kiosk's
    assets/surveys/checkout-nps.json) published and assigned to the store node (depth 3), and
    each id of devices added at node. Returns {device id: token}."""
    survey_file = survey_file or os.path.join(ROOT, "assets", "surveys", "checkout-nps.json")
    with open(survey_file, encoding="utf-8") as f:
        doc = json.load(f)
    fleet_cli(store_url, "node", "set", node, build=build)
    if settings:
        region = "/".join(node.split("/")[:2])
        fleet_cli(store_url, "node", "set", region, "--settings", json.dumps(settings),
                  build=build)
    fleet_cli(store_url, "survey", "publish", survey_file, build=build)
    store_node = "/".join(node.split("/")[:3])
    fleet_cli(store_url, "survey", "assign", "%s@%d" % (doc["id"], doc["version"]), "--node",
              store_node, build=build)
    return {d: fleet_token(store_url, "device", "add", d, "--node", node, build=build)
            for d in devices}


def fleet_collector(store_url, workdir, devices=(), build=None, extra=(), name="collector",
                    **setup):
    """fleet_setup() then a started Collector without a devices file. Returns (collector,
    {device id: token}); stop the collector when done."""
    tokens = fleet_setup(store_url, devices, build=build, **setup) if devices else {}
    c = Collector(store_url, None, workdir, build=build, extra=extra, name=name).start()
    return c, tokens


def fleet_publish(store_url, doc, workdir, assign_node=None, devices=None, build=None):
    """Publishes the survey document doc (a dict, e.g. a copy of checkout-nps.json with another
    version and prompt) and, when given, assigns it to assign_node or to the device ids in
    devices. Returns (exit status, stderr) of the publish; assigns only when it worked."""
    path = os.path.join(workdir, "survey-%s-%s.json" % (doc.get("id"), doc.get("version")))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    rc, _, err = fleet_cli(store_url, "survey", "publish", path, build=build, check=False)
    if rc == 0 and (assign_node or devices):
        target = ["--node", assign_node] if assign_node else ["--devices", ",".join(devices)]
        fleet_cli(store_url, "survey", "assign", "%s@%d" % (doc["id"], doc["version"]), *target,
                  build=build)
    return rc, err


def fleet_approve(store_url, code, node, dev_id=None, build=None):
    """Approves a pairing code (`device approve`); returns the device id it got."""
    args = ["device", "approve", code, "--node", node] + (["--id", dev_id] if dev_id else [])
    return json.loads(fleet_cli(store_url, *args, build=build)[1])["id"]
