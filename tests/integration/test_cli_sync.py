#!/usr/bin/env python3
"""test_cli_sync.py - the staff CLI's commands that need synced answers, end to end with the real
collector: `touchpoint check` after a real `touchpoint sync` (counts by state, last sync, a
quarantined answer with the collector's seq_conflict reason), and `touchpoint prune` (keeps
answers that are not exported or not synced, deletes synced + exported ones, no seq gap, seq
never reused, stats and export no longer see pruned answers), and the sync daemon's pid file and
database lock (a pid file path naming a config file is refused and left byte-identical; a second
daemon on the same pid file or the same database refuses, naming the first one's pid; the first
one's pid file stays; on exit the file is removed only if it still holds our pid). The collector
runs on a free loopback port (tests/support/synclib.py) and is always stopped. Prints TAP
lines."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import synclib  # noqa: E402
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402

BUILD = synclib.build_dir()
TP = os.path.join(BUILD, "touchpoint")
ENV = dict(os.environ)
ENV.setdefault("TZ", "Asia/Ho_Chi_Minh")
ENV.pop("TOUCHPOINT_DB", None)


def tp(db, *args):
    p = subprocess.run([TP, "--db", db] + list(args), capture_output=True, timeout=120, env=ENV)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def record(db, value):
    rc, out, err = tp(db, "record", "--survey", "checkout-nps", "--survey-version", "2",
                      "--store", "hcm-01", "--touchpoint", "exit", "--lang", "vi", "--answer",
                      f"recommend=nps:{value}")
    m = re.search(r"^answer (\S+) seq (\d+) ", out, re.M)
    if rc != 0 or not m:
        raise RuntimeError(f"record failed: rc={rc} out={out} err={err}")
    return m.group(1), int(m.group(2))


def field(out, label):
    m = re.search(r"^" + re.escape(label) + r"\s+(.*)$", out, re.M)
    return m.group(1) if m else ""


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def wait_for(cond, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


class Daemon:
    """touchpoint sync --daemon [--pid-file PATH], always stopped."""

    def __init__(self, db, conf, pid_file=None):
        args = [TP, "--db", db, "sync", "--config", conf, "--daemon"]
        if pid_file:
            args += ["--pid-file", pid_file]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=ENV)

    def refused(self, timeout=20):
        """Waits for the process to end. Returns (rc, stderr); rc None when still running."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, ""
        return self.proc.returncode, err.decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()
        return self.proc.returncode


def test_daemon_pid_file(work, db, conf):
    """Issue 10 item 7: the pid file is ours or refused, one daemon per pid file and database."""
    # A pid file path that names (a copy of) the config: refused, the file untouched.
    victim = os.path.join(work, "kiosk-copy.ini")
    shutil.copyfile(conf, victim)
    before = open(victim, "rb").read()
    mtime = os.stat(victim).st_mtime_ns
    d = Daemon(db, conf, victim)
    rc, err = d.refused()
    if rc is None:
        d.stop()
    report(rc == 1 and "is not a pid file" in err and "refusing to touch it" in err and
           open(victim, "rb").read() == before and os.stat(victim).st_mtime_ns == mtime,
           "--pid-file naming a copy of the config: refused, the file byte-identical",
           f"rc={rc} {err.strip()[:300]}")

    pid_file = os.path.join(work, "sync.pid")
    first = Daemon(db, conf, pid_file)
    try:
        mine = str(first.proc.pid)
        ok = wait_for(lambda: (read_text(pid_file) or "").strip() == mine)
        report(ok, "the first daemon holds the pid file with its pid",
               f"file={read_text(pid_file)!r} pid={mine}")

        # Same pid file (and database): refused, naming the holder.
        second = Daemon(db, conf, pid_file)
        rc, err = second.refused()
        if rc is None:
            second.stop()
        report(rc == 1 and f"process {mine}" in err and "another sync daemon is running" in err,
               "a second daemon on the same pid file refuses with the first one's pid",
               f"rc={rc} {err.strip()[:300]}")
        report((read_text(pid_file) or "").strip() == mine and first.proc.poll() is None,
               "after the second daemon exits, the first one's pid file is still there and "
               "it still runs", f"file={read_text(pid_file)!r}")

        # Same database, another pid file or none: refused by the lock beside the database.
        other = os.path.join(work, "other.pid")
        for label, pf in (("another pid file", other), ("no pid file", None)):
            third = Daemon(db, conf, pf)
            rc, err = third.refused()
            if rc is None:
                third.stop()
            report(rc == 1 and f"process {mine}" in err and "on this database" in err and
                   (pf is None or not os.path.exists(pf)),
                   f"a second daemon on the same database with {label} refuses "
                   "(lock beside the database), naming the first one's pid",
                   f"rc={rc} {err.strip()[:300]}")
        report((read_text(pid_file) or "").strip() == mine,
               "the first daemon's pid file survives the refused daemons",
               f"file={read_text(pid_file)!r}")
    finally:
        rc = first.stop()
    report(rc == 0 and not os.path.exists(pid_file) and
           not os.path.exists(db + ".sync.lock"),
           "SIGTERM: the daemon exits 0 and removes its pid file and database lock",
           f"rc={rc} exists={os.path.exists(pid_file)}")

    # Removed only if it still holds our pid: a file rewritten meanwhile stays.
    d = Daemon(db, conf, pid_file)
    try:
        ok = wait_for(lambda: (read_text(pid_file) or "").strip() == str(d.proc.pid))
        with open(pid_file, "r+") as f:  # someone else's pid now (the same inode)
            f.write("999999\n")
            f.truncate()
    finally:
        rc = d.stop()
    report(ok and rc == 0 and read_text(pid_file) == "999999\n",
           "on exit a pid file that no longer holds our pid is left alone",
           f"rc={rc} file={read_text(pid_file)!r}")
    # A stale file of a dead daemon (only a pid, nobody holds it) is taken over.
    d = Daemon(db, conf, pid_file)
    try:
        ok = wait_for(lambda: (read_text(pid_file) or "").strip() == str(d.proc.pid))
    finally:
        rc = d.stop()
    report(ok and rc == 0 and not os.path.exists(pid_file),
           "a stale pid file (only a pid, not locked) is taken over and removed on exit",
           f"rc={rc} file={read_text(pid_file)!r}")


def main():
    for exe in (TP, os.path.join(BUILD, "touchpoint-collector")):
        if not os.access(exe, os.X_OK):
            report(False, f"{exe} is built", "build it first (make BUILD=... all)")
            print(f"1..{n_test}")
            return 1
    work = synclib.scratch_dir("test_cli_sync.")
    collector = None
    try:
        db = os.path.join(work, "kiosk.db")
        twin = os.path.join(work, "twin.db")
        usb = os.path.join(work, "usb")
        os.mkdir(usb)
        devices = os.path.join(work, "devices")
        token = synclib.add_device(devices, "kiosk-01")
        collector = synclib.Collector("sqlite:" + os.path.join(work, "central.db"), devices,
                                      work).start()
        conf = synclib.write_device_config(work, "kiosk-01", collector.base, token, db=db)
        conf_twin = synclib.write_device_config(work, "kiosk-01", collector.base, token, db=twin)

        for v in (10, 9, 3, 7, 0):
            record(db, v)
        # A copy with the same epoch and seqs: its next answer will clash with the original's.
        synclib.copy_db(db, twin)
        rc, out = synclib.sync_once(db, conf)
        report(rc == 0 and "5 accepted" in out, "touchpoint sync --once uploads 5 answers",
               f"rc={rc} {out}")

        rc, out, err = tp(db, "check")
        report(rc == 0 and field(out, "answers").startswith("0 pending, 5 synced, 0 rejected") and
               " ok (HTTP 200, sent 5, accepted 5" in field(out, "last sync") and
               field(out, "device") == "kiosk-01",
               "check after sync: 5 synced, last sync ok with its counts, device id",
               f"rc={rc} {out} {err}")

        # seq 6 in both copies with different answer ids: the collector quarantines the twin's.
        id6, seq6 = record(db, 8)
        tid6, tseq6 = record(twin, 2)
        synclib.sync_once(db, conf)
        rc, out = synclib.sync_once(twin, conf_twin)
        rc, out, err = tp(twin, "check")
        m = re.search(r"^  seq 6  (\S+)  recommend=nps  (\S+): (.+)$", out, re.M)
        report(seq6 == tseq6 == 6 and "1 rejected" in field(out, "answers") and m is not None and
               m.group(1) == tid6 and m.group(2) == "seq_conflict" and
               "quarantined answers" in out,
               "check lists the quarantined answer with the collector's code and reason",
               f"rc={rc} {out}")

        # prune: synced but not exported answers stay.
        rc, out, err = tp(db, "prune", "--older-than", "0")
        report(rc == 0 and "pruned 0 answers" in out,
               "prune keeps synced answers that were never exported", f"rc={rc} {out} {err}")
        rc, out, err = tp(db, "export", "--out", usb, "--device", "kiosk-01")
        report(rc == 0 and "exported 6 answers" in out, "export the 6 answers", f"{out} {err}")
        id7, seq7 = record(db, 5)  # pending, not exported
        rc, out, err = tp(db, "prune", "--older-than", "1")
        report(rc == 0 and "pruned 0 answers" in out,
               "prune --older-than 1 keeps today's answers", f"rc={rc} {out} {err}")
        time.sleep(0.01)
        rc, out, err = tp(db, "prune", "--older-than", "0")
        report(rc == 0 and "pruned 6 answers" in out,
               "prune --older-than 0 deletes the 6 synced and exported answers",
               f"rc={rc} {out} {err}")
        rc, out, err = tp(db, "check")
        report(rc == 0 and field(out, "answers").startswith("1 pending, 0 synced") and
               field(out, "highest seq") == "7" and field(out, "seq gaps") == "none",
               "after prune: the pending answer stays, highest seq 7, no seq gap reported",
               f"rc={rc} {out} {err}")
        id8, seq8 = record(db, 6)
        report(seq8 == 8, "the next answer gets seq 8: seqs are never reused after a prune",
               f"seq={seq8}")
        rc, out, err = tp(db, "stats", "--json")
        try:
            total = json.loads(out)["total"]["n"]
        except (ValueError, KeyError):
            total = None
        report(rc == 0 and total == 2, "stats counts only the 2 answers still stored",
               f"rc={rc} total={total} {err}")
        rc, out, err = tp(db, "export", "--out", usb, "--all", "--format", "jsonl")
        report(rc == 0 and "exported 2 answers (seq 7..8," in out,
               "export --all after prune has the 2 remaining answers", f"{out} {err}")

        test_daemon_pid_file(work, db, conf)
    except Exception as e:  # a broken helper program: one failure with the cause, not a crash
        report(False, "the sync + prune scenario ran", repr(e))
    finally:
        if collector:
            collector.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"1..{n_test}")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
