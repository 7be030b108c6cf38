#!/usr/bin/env python3
"""test_kiosk_xvfb.py - the kiosk on a real X server (Xvfb) that goes away under it (issue 10,
item 9): `xvfb-run -a make run` and Ctrl+C end the X server and the kiosk together, and a lost
display used to end the kiosk with SIGSEGV (status 139) in Xlib's exit(). Now it ends with a
clear message and its own exit status (4), also when the X server simply dies.

Skipped when Xvfb is not installed (board/deps.sh installs xvfb). Prints TAP. Uses the build
folder from $TP_BUILD (default build).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from bench_kiosk import start_xvfb  # noqa: E402  (Xvfb -displayfd: a free display number)
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402
from test_kiosk import KIOSK, Kiosk  # noqa: E402


def run_case(what, send_sigint):
    k = Kiosk()
    x, disp = start_xvfb()
    if not x:
        report(False, "%s: Xvfb did not start" % what)
        k.close()
        return
    proc = None
    try:
        env = dict(os.environ, DISPLAY=disp, SDL_VIDEODRIVER="x11", SDL_AUDIODRIVER="dummy")
        proc = subprocess.Popen([KIOSK, "--config", k.conf, "--windowed", "--trace"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        first = None
        deadline = time.time() + 60
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            e = json.loads(line)
            if e.get("event") == "frame":
                first = e
                break
        x.terminate()  # the X server ends first, as under xvfb-run with Ctrl+C
        if send_sigint:
            proc.send_signal(signal.SIGINT)
        x.wait()
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        rc = proc.returncode
        report(first is not None, "%s: the kiosk drew its first frame on Xvfb %s" % (what, disp))
        report(rc != -signal.SIGSEGV and rc != 139,
               "%s: no SIGSEGV (status %s)" % (what, rc))
        report(rc == 4 and "connection to the X server was lost" in err,
               "%s: a clear message and exit status 4 (status %s, stderr %r)"
               % (what, rc, err.strip()[-200:]))
        report('"display_lost"' in out, "%s: the trace says why it exited" % what)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        if x.poll() is None:
            x.kill()
            x.wait()
        k.close()


def main():
    if not os.path.exists(KIOSK):
        print("1..0 # SKIP %s not built" % KIOSK)
        return 0
    if not shutil.which("Xvfb"):
        print("1..0 # SKIP Xvfb not installed (board/deps.sh installs xvfb)")
        return 0
    run_case("X server killed, then Ctrl+C (SIGINT)", True)
    run_case("X server killed under a running kiosk", False)
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
