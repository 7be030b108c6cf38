#!/usr/bin/env python3
"""bench_usb.py - USB export speed: 100,000 answers exported to a real FAT stick (a mkfs.vfat image
mounted with fusefat under a temporary mount root), through the kiosk's path (usb detection +
usb_export in $TP_BUILD/tests/usb_export_driver) and through `touchpoint export --out`.
Target (issue 5): under 10 s. Prints `figure:` lines for tests/bench/run.sh. Stdlib only.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import fatimage  # noqa: E402

BUILD = os.environ.get("TP_BUILD", "build")
B = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
TP = os.path.join(B, "touchpoint")
DRV = os.path.join(B, "tests", "usb_export_driver")
ANSWERS = 100000
TARGET_S = 10.0


def main():
    why = fatimage.fuse_problem()
    if why:
        print("bench_usb: cannot mount FAT images here: %s" % why)
        return 1
    env = dict(os.environ, TZ=os.environ.get("TZ", "Asia/Ho_Chi_Minh"))
    work = tempfile.mkdtemp(prefix="tp-bench-usb-", dir=fatimage.scratch_dir())
    db = os.path.join(work, "answers.db")
    try:
        t = time.monotonic()
        r = subprocess.run([DRV, "seed", "--db", db, "--device", "kiosk-01", "--sessions",
                            str(ANSWERS // 2)], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            print("bench_usb: seeding failed: %s" % r.stderr)
            return 1
        print("# seeded %d answers in %.1f s" % (ANSWERS, time.monotonic() - t))
        with fatimage.FatStick(size_kb=128 * 1024, name="touchpoint-usb-bench") as st:
            t = time.monotonic()
            r = subprocess.run([DRV, "export", "--db", db, "--device", "kiosk-01",
                                "--mount-root", st.mount_root, "--all"],
                               capture_output=True, text=True, env=env)
            wall = time.monotonic() - t
            out = {}
            for line in r.stdout.splitlines():
                if ": " in line:
                    k, v = line.split(": ", 1)
                    out.setdefault(k, v)  # the first "file:" is the data file
            if r.returncode != 0 or out.get("rows") != str(ANSWERS):
                print("bench_usb: kiosk-path export failed: %s %s" % (r.stdout, r.stderr))
                return 1
            job = int(out["elapsed_ms"]) / 1000.0
            name = out["file"]
            with open(os.path.join(st.mount_point, name), "rb") as f:
                lines = sum(1 for _ in f)
            if lines != ANSWERS + 1:
                print("bench_usb: %s has %d lines, want %d" % (name, lines, ANSWERS + 1))
                return 1
            size = os.path.getsize(os.path.join(st.mount_point, name))
            print("figure: %.2f s to export %d answers to a fusefat FAT stick, kiosk path "
                  "(usb_export: count, write, fsync, read-back SHA-256, rename, syncfs) "
                  "(target: < %.0f s; %s)" % (job, ANSWERS, TARGET_S,
                                              "met" if job < TARGET_S else "MISSED"))
            print("figure: %.2f s for the same with process start, stick detection and database "
                  "open (target: < %.0f s; %s)" % (wall, TARGET_S,
                                                   "met" if wall < TARGET_S else "MISSED"))
            print("figure: %d bytes per answer in the CSV (%.1f MB file) (target: none)"
                  % (size // ANSWERS, size / 1e6))
            t = time.monotonic()
            r = subprocess.run([TP, "--db", db, "export", "--out", st.mount_point, "--all"],
                               capture_output=True, text=True, env=env)
            cli = time.monotonic() - t
            if r.returncode != 0:
                print("bench_usb: touchpoint export failed: %s" % r.stderr)
                return 1
            print("figure: %.2f s for `touchpoint export --all` of %d answers to the same stick "
                  "(target: < %.0f s; %s)" % (cli, ANSWERS, TARGET_S,
                                              "met" if cli < TARGET_S else "MISSED"))
    finally:
        subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
