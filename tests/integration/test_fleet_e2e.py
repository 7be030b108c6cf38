#!/usr/bin/env python3
"""test_fleet_e2e.py - issue 12 end to end with the real programs: the collector and its fleet
commands (touchpoint-collector node / device / survey), `touchpoint sync --daemon` and a headless
kiosk driven by `--script -` (virtual clock, --trace).

Checks: the kiosk runs the revision the center assigns; survey version 2 with a new prompt is
published and assigned to the store: a customer in the middle of a follow-up finishes on version 1,
the next customer after the sync round sees the new prompt and their answer carries version 2;
the running revision and apply errors reach the collector; a round in which nothing changed makes
no extra request; opening hours changed at the region node put the screen to sleep; the collector
down while a new revision is pending: the kiosk keeps the last good configuration; a configuration
that fails to load is not applied (last good stays, error reported); sync killed mid-download 20
times: never a partial remote-config.json in use.

Prints TAP. Uses the build folder from $TP_BUILD (default build).
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import synclib  # noqa: E402
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402
from pinhash import pin_hash  # noqa: E402

BUILD = synclib.build_dir()
COLLECTOR = os.path.join(BUILD, "touchpoint-collector")
CLI = os.path.join(BUILD, "touchpoint")
KIOSK = os.path.join(BUILD, "touchpoint-kiosk")
SURVEY = os.path.join(synclib.ROOT, "assets", "surveys", "checkout-nps.json")
ENV = dict(os.environ, SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy")
SLOW = 3 if synclib.is_asan() else 1
NEW_PROMPT_EN = "Would you recommend our new store to a friend?"
NODE = "vn/hcm/hcm-q1/checkout"
STORE_NODE = "vn/hcm/hcm-q1"
ALL_CLOSED = {d: "closed" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def fleet(store, *args):
    """Runs a collector subcommand on the store; returns stdout (raises on failure)."""
    r = subprocess.run([COLLECTOR] + list(args) + ["--store", store], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


def wait_for(pred, timeout):
    t_end = time.monotonic() + timeout * SLOW
    while time.monotonic() < t_end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def read_json(path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


class Kiosk:
    """touchpoint-kiosk --script - --trace; step() sends commands and an expect-screen."""

    def __init__(self, conf):
        self.trace = []
        self.proc = subprocess.Popen([KIOSK, "--config", conf, "--headless", "--script", "-",
                                      "--trace"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace",
                                     env=ENV)

    def step(self, cmds, want):
        start = len(self.trace)
        for c in cmds:
            self.proc.stdin.write(c + "\n")
        self.proc.stdin.write("expect-screen %s\n" % want)
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return False, self.trace[start:]
            e = json.loads(line)
            self.trace.append(e)
            if e["event"] == "expect":
                return e["ok"], self.trace[start:]

    def close(self):
        if self.proc.stderr.closed:
            return ""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.rc = self.proc.returncode
        return err


def events(tr, name):
    return [e for e in tr if e.get("event") == name]


def main():
    work = synclib.scratch_dir("tp_fleet_")
    store = "sqlite:" + os.path.join(work, "central.db")
    state = os.path.join(work, "state")
    os.makedirs(state)
    procs = []
    kiosk = None
    try:
        # The tree, the device, survey version 1 assigned to the store.
        fleet(store, "node", "set", "vn", "--settings",
              json.dumps({"languages": ["vi", "en"], "default_language": "en"}))
        for p in ("vn/hcm", STORE_NODE, NODE):
            fleet(store, "node", "set", p)
        token = fleet(store, "device", "add", "dev-1", "--node", NODE).strip().split()[-1]
        fleet(store, "survey", "publish", SURVEY)
        fleet(store, "survey", "assign", "checkout-nps@1", "--node", STORE_NODE)

        port = synclib.free_port()
        base = "http://127.0.0.1:%d" % port

        def start_collector():
            p = synclib.Proc([COLLECTOR, "--listen", "127.0.0.1:%d" % port, "--store", store],
                             os.path.join(work, "collector-%d.log" % len(procs)))
            procs.append(p)
            ok = wait_for(lambda: synclib.http_get(base + "/healthz", 2)[0] == 200, 30)
            return p if ok else None

        coll = start_collector()
        report(coll is not None, "collector with the fleet tree is up")
        conf = synclib.write_device_config(work, "dev-1", base, token, interval_s=5,
                                           db=os.path.join(state, "dev-1.db"))
        # The kiosk checks the PIN hash fully: a real one (synclib's is only well-formed).
        text = open(conf).read().replace(synclib.PIN_HASH, pin_hash("2468"))
        with open(conf, "w") as f:
            f.write(text + "\n[display]\nfullscreen = false\n")
        sync = synclib.Proc([CLI, "sync", "--config", conf, "--daemon", "--verbose"],
                            os.path.join(work, "sync.log"))
        procs.append(sync)
        rcfile = os.path.join(state, "remote-config.json")
        first = wait_for(lambda: read_json(rcfile), 20)
        report(first is not None and first["survey"]["version"] == 1 and
               first["device"]["store"] == "hcm-q1",
               "the sync daemon wrote remote-config.json (survey version 1, store from the tree)",
               repr(first)[:300] + sync.tail())

        kiosk = Kiosk(conf)
        ok, tr = kiosk.step(["advance 100"], "question")
        applied = events(tr, "config")
        report(ok and applied and applied[-1]["result"] == "applied" and
               applied[-1]["version"] == 1 and applied[-1]["store"] == "hcm-q1",
               "the kiosk runs the center's revision at start", repr(applied))
        rev1 = first["revision"] if first else ""
        st = wait_for(lambda: (read_json(os.path.join(state, "config-status.json")) or {})
                      .get("running_revision") == rev1, 5)
        report(st, "config-status.json names the running revision")

        # A customer starts: main answer, follow-up on screen.
        ok, _ = kiosk.step(["tap nps-3"], "followup")
        report(ok, "customer A is on the follow-up")
        # Version 2 with a new prompt, assigned to the store; the next round delivers it.
        doc = json.load(open(SURVEY, encoding="utf-8"))
        doc["version"] = 2
        doc["questions"][0]["prompt"]["en"] = NEW_PROMPT_EN
        v2 = os.path.join(work, "checkout-nps-v2.json")
        with open(v2, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        fleet(store, "survey", "publish", v2)
        fleet(store, "survey", "assign", "checkout-nps@2", "--node", STORE_NODE)
        sync.p.send_signal(signal.SIGUSR1)
        second = wait_for(lambda: (lambda j: j if j and j["survey"]["version"] == 2 else None)(
            read_json(rcfile)), 20)
        report(second is not None, "version 2 delivered after the next sync round",
               sync.tail())
        ok, tr = kiosk.step(["advance 1000"], "followup")
        report(ok and not events(tr, "config"),
               "not applied while a customer is on the follow-up", repr(events(tr, "config")))
        ok, tr = kiosk.step(["tap reason-wait"], "thanks")
        a_answers = events(tr, "answer")
        ok2, tr2 = kiosk.step(["advance 5000"], "question")
        applied = events(tr2, "config")
        report(ok and ok2 and applied and applied[-1]["version"] == 2 and
               applied[-1]["prompt"] == NEW_PROMPT_EN,
               "applied after the thank-you: the next customer sees the new prompt",
               repr(applied))
        ok, tr = kiosk.step(["tap nps-9"], "thanks")
        b_answers = events(tr, "answer")
        kiosk.step(["advance 5000"], "question")
        rows = synclib.dump_answers(os.path.join(state, "dev-1.db"))
        by_id = {r["id"]: r for r in rows}
        a_ver = [by_id[a["id"]]["survey_version"] for a in a_answers if a["id"] in by_id]
        b_ver = [by_id[a["id"]]["survey_version"] for a in b_answers if a["id"] in by_id]
        report(a_ver == ["1"] and len(events(kiosk.trace, "answer")) >= 3,
               "customer A finished the follow-up on version 1", repr(a_ver))
        report(b_ver == ["2"] and by_id[b_answers[0]["id"]]["store"] == "hcm-q1",
               "the next customer's answer carries version 2 and the tree's store",
               repr(b_ver))

        # No change: a round makes exactly one request (the batch), no GET /v1/config.
        r = subprocess.run([CLI, "sync", "--config", conf, "--once"], capture_output=True,
                           text=True, timeout=60)
        report(r.returncode == 0 and " in 1 requests" in r.stdout,
               "a round in which nothing changed makes no extra request", r.stdout + r.stderr)

        # Collector down while a new revision is pending: the last good configuration stays.
        running = (read_json(os.path.join(state, "config-status.json")) or {}).get(
            "running_revision")
        coll.stop()
        fleet(store, "node", "set", STORE_NODE, "--settings",
              json.dumps({"timing": {"thankyou_s": 2}}))
        sync.p.send_signal(signal.SIGUSR1)
        time.sleep(1.5 * SLOW)
        ok, tr = kiosk.step(["advance 1000", "tap nps-10"], "thanks")
        ok2, _ = kiosk.step(["advance 4000"], "question")
        st = read_json(os.path.join(state, "config-status.json")) or {}
        report(ok and ok2 and not events(tr, "config") and st.get("running_revision") == running
               and events(tr, "answer"),
               "collector down: the kiosk keeps the last good configuration and records",
               repr(st))
        coll = start_collector()

        # A configuration that fails to load is not applied; the error travels back.
        src = sync.stop()
        report(src == 0, "the sync daemon stops cleanly on SIGTERM (no leak under ASan)",
               "exit %r: %s" % (src, sync.tail()))
        bad = dict(read_json(rcfile))
        bad["revision"] = "bad-revision-1"
        bad["settings"] = {"languages": ["fr"]}  # not a language of the survey
        open(os.path.join(state, "remote-config.json.new"), "w").write(json.dumps(bad))
        os.rename(os.path.join(state, "remote-config.json.new"), rcfile)
        ok, tr = kiosk.step(["advance 1000"], "question")
        cfg_ev = events(tr, "config")
        st = read_json(os.path.join(state, "config-status.json")) or {}
        report(ok and cfg_ev and cfg_ev[-1]["result"] == "error" and
               st.get("running_revision") == running and st.get("error"),
               "a configuration that fails to load is not applied; the error is in "
               "config-status.json", repr(cfg_ev) + repr(st))
        r = subprocess.run([CLI, "sync", "--config", conf, "--once"], capture_output=True,
                           text=True, timeout=60)
        listing = fleet(store, "device", "list")
        report(r.returncode == 0 and running in listing and "fr" in listing,
               "the running revision and the apply error reach the collector", listing[:600])

        # Sync killed mid-download 20 times: remote-config.json is whole (or absent) each time.
        whole = True
        why = ""
        for i in range(20):
            fleet(store, "node", "set", STORE_NODE, "--settings",
                  json.dumps({"timing": {"thankyou_s": 3 + i % 2, "idle_timeout_s": 30 + i}}))
            p = subprocess.Popen([CLI, "sync", "--config", conf, "--once"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(random.uniform(0.0, 0.08) * SLOW)
            p.kill()
            p.wait()
            if os.path.exists(rcfile):
                j = read_json(rcfile)
                if not j or "survey" not in j or "revision" not in j:
                    whole = False
                    why = "iteration %d: partial file" % i
        ok, tr = kiosk.step(["advance 1000"], "question")
        bad_apply = [e for e in events(tr, "config") if e["result"] == "error" and
                     "fr" not in e.get("error", "")]
        report(whole and not bad_apply,
               "sync killed mid-download 20 times: never a partial remote-config.json in use",
               why + repr(bad_apply))
        leftovers = [n for n in os.listdir(state) if n.endswith(".tmp")]
        report(all(n.startswith(".remote-config.json.") for n in leftovers),
               "only hidden temp files may be left by a kill, never read", repr(leftovers))
        # Opening hours at the region node: every day closed -> the screen goes off.
        fleet(store, "node", "set", "vn/hcm", "--settings",
              json.dumps({"opening_hours": ALL_CLOSED}))
        rev_before = read_json(rcfile)["revision"]
        subprocess.run([CLI, "sync", "--config", conf, "--once"], capture_output=True,
                       timeout=60)
        third = wait_for(lambda: (lambda j: j if j and j["revision"] != rev_before else None)(
            read_json(rcfile)), 20)
        # Closed: the screen stays on dim_after_s (300 s) after the last touch, then goes off.
        ok, tr = kiosk.step(["advance 1000", "advance 301000"], "question")
        power = events(tr, "power")
        report(third is not None and power and power[-1]["level"] == "off",
               "opening hours changed at the region node put the screen to sleep",
               repr(power) + repr(events(tr, "config")))


        # A kiosk without a token: pairing screen with code and QR, approval, then it syncs.
        fleet(store, "node", "set", STORE_NODE + "/entrance")
        state2 = os.path.join(work, "state2")
        os.makedirs(state2)
        conf2 = synclib.write_device_config(work, "dev-2", base, "unused", interval_s=5,
                                            db=os.path.join(state2, "dev-2.db"))
        tok2 = os.path.join(work, "dev-2.token")
        os.unlink(tok2)  # no token: the kiosk must be paired
        text = open(conf2).read().replace(synclib.PIN_HASH, pin_hash("2468"))
        with open(conf2, "w") as f:
            f.write(text + "\n[display]\nfullscreen = false\n")
        kiosk2 = Kiosk(conf2)
        try:
            ok, tr = kiosk2.step(["advance 100"], "question")
            report(ok and events(tr, "pairing"), "a kiosk without a token shows the pairing screen",
                   repr(tr[-3:]))
            sync2 = synclib.Proc([CLI, "sync", "--config", conf2, "--daemon", "--verbose"],
                                 os.path.join(work, "sync2.log"))
            procs.append(sync2)
            pairing = wait_for(lambda: (lambda j: j if j and j.get("code") else None)(
                read_json(os.path.join(state2, "pairing.json"))), 20)
            code = pairing["code"] if pairing else ""
            shot = os.path.join(work, "pairing.png")
            ok, tr = kiosk2.step(["advance 1000", "screenshot " + shot, "tap-at 400 400",
                                  "tap-at 100 300"], "question")
            pev = [e for e in events(tr, "pairing") if e.get("code") == code]
            report(ok and code and len(code) == 9 and code[4] == "-" and pev and
                   pev[-1]["qr_size"] >= 21 and not events(tr, "answer"),
                   "the pairing screen shows the sync process's code and its QR; taps do nothing",
                   repr(pairing) + repr(events(tr, "pairing")))
            z = subprocess.run(["zbarimg", "--quiet", "--raw", shot], capture_output=True,
                               text=True, timeout=60) if shutil.which("zbarimg") else None
            report(z is not None and z.stdout.strip() == "touchpoint-pair:%s:dev-2" % code,
                   "zbarimg reads the code from the screen's QR",
                   (z.stdout + z.stderr) if z else "zbarimg not installed (zbar-tools)")
            # No --id: the sync process sent the configured id (dev-2) with its code.
            out = json.loads(fleet(store, "device", "approve", code, "--node",
                                   STORE_NODE + "/entrance"))
            report(out.get("id") == "dev-2",
                   "device approve CODE without --id takes the id the device sent", repr(out))
            got = wait_for(lambda: os.path.exists(tok2), 20)
            mode = os.stat(tok2).st_mode & 0o777 if got else None
            report(got and mode == 0o600, "approved: the token file is written mode 0600",
                   "mode %r; %s" % (mode, sync2.tail()))
            rc2 = wait_for(lambda: read_json(os.path.join(state2, "remote-config.json")), 20)
            ok, tr = kiosk2.step(["advance 1000"], "question")
            paired = [e for e in events(tr, "pairing") if e.get("status") == "paired"]
            ok2, tr2 = kiosk2.step(["tap nps-9"], "thanks")
            report(ok and paired and rc2 and ok2 and events(tr2, "answer"),
                   "after pairing the kiosk shows the survey and records", repr(tr[-4:]))
            sync2.p.send_signal(signal.SIGUSR1)
            listing = wait_for(lambda: (lambda t: t if "dev-2" in t and rc2 and
                                        rc2["revision"] in t else None)(
                fleet(store, "device", "list")), 20)
            report(listing, "the paired kiosk syncs: the collector sees its running revision",
                   sync2.tail())
            err2 = kiosk2.close()
            report(kiosk2.rc == 0, "the paired kiosk exits cleanly at the script's end",
                   "exit %r: %s" % (kiosk2.rc, err2[-1500:]))
        finally:
            err2 = kiosk2.close()
            if n_fail:
                sys.stdout.write("# kiosk 2 stderr: %s\n" % err2.strip()[-1500:].replace("\n", "\n# "))
    except Exception as e:  # a failed set-up step is a failed test, with its cause
        report(False, "fleet end to end ran to the end", repr(e))
    finally:
        if kiosk:
            err = kiosk.close()
            report(kiosk.rc == 0, "the kiosk exits cleanly at the script's end (no leak under ASan)",
                   "exit %r" % kiosk.rc)
            if n_fail:
                sys.stdout.write("# kiosk stderr: %s\n" % err.strip()[-1500:].replace("\n", "\n# "))
        for p in procs:
            p.stop()
        if not n_fail:
            shutil.rmtree(work, ignore_errors=True)
        else:
            sys.stdout.write("# work folder kept: %s\n" % work)
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
