#!/usr/bin/env python3
"""test_kiosk.py - runs the real touchpoint-kiosk headless with scripts on the virtual clock and
checks both its --trace output and the database it wrote (read-only, through Python's sqlite3).

Covers every flow of the kiosk: each question kind, follow-up shown / not shown / skipped /
abandoned (idle timeout), the highlight in the first frame after a tap, language toggle and its
reset, the rapid-repeat flag, taps ignored during the thank-you, staff PIN success / wrong /
lockout for 5 minutes of virtual time, staff idle exit, switching survey and default language,
staff exit, quit keys ignored in fullscreen (and Escape quitting in windowed mode), storage
failure -> out-of-order screen with retries and recovery, SIGTERM exiting cleanly, and start-up
errors for a bad config or survey.

Prints TAP. Uses the build folder from $TP_BUILD (default build).
"""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402
from pinhash import pin_hash, pin_matches  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TP_BUILD", "build")
KIOSK = os.path.join(ROOT, BUILD, "touchpoint-kiosk") if not os.path.isabs(BUILD) else \
    os.path.join(BUILD, "touchpoint-kiosk")
SURVEYS = os.path.join(ROOT, "assets", "surveys")
PIN = "2468"
TIMEOUT = 120  # seconds per kiosk run (ASan builds are slower)

ENV = dict(os.environ, SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy")


HASH = pin_hash(PIN)


class Kiosk:
    """One temporary kiosk set-up: a config, a database path and helpers to run scripts."""

    def __init__(self, survey="checkout-nps.json", fullscreen=False, extra="", db_dir=None):
        self.dir = tempfile.mkdtemp(prefix="tp_kiosk_")
        self.db = os.path.join(db_dir or self.dir, "answers.db")
        self.conf = os.path.join(self.dir, "kiosk.conf")
        with open(self.conf, "w") as f:
            f.write("[device]\nid = test-kiosk\nstore = hcm-q1\ntouchpoint = checkout\n"
                    "[survey]\nfile = %s\ndirectory = %s\n"
                    "[storage]\ndatabase = %s\nmin_free_mb = 1\n"
                    "[display]\nfullscreen = %s\nwidth = 800\nheight = 480\n"
                    "[staff]\npin_hash = %s\n%s"
                    % (os.path.join(SURVEYS, survey), SURVEYS, self.db,
                       "true" if fullscreen else "false", HASH, extra))

    def run(self, script, env=None, args=()):
        path = os.path.join(self.dir, "t.script")
        with open(path, "w") as f:
            f.write(script)
        p = subprocess.run([KIOSK, "--config", self.conf, "--headless", "--script", path,
                            "--trace"] + list(args), capture_output=True, text=True,
                           timeout=TIMEOUT, env=dict(ENV, **(env or {})))
        return p.returncode, parse_trace(p.stdout), p.stderr

    def answers(self):
        """Every answer in the database, read-only, with names resolved."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            names = dict(con.execute("SELECT id, name FROM names"))
            rows = con.execute(
                "SELECT a.seq, a.kind, a.val, a.flags, a.q, a.lang, s.uuid, s.survey "
                "FROM answers a JOIN sessions s ON s.id = a.sess ORDER BY a.seq").fetchall()
        finally:
            con.close()
        kinds = ["nps", "csat", "ces", "smiley4", "choice"]
        out = []
        for seq, kind, val, flags, q, lang, sess, surv in rows:
            k = kinds[kind]
            out.append({"seq": seq, "kind": k, "value": None if k == "choice" else val,
                        "choice": names[val] if k == "choice" else None, "flags": flags,
                        "question": names[q], "lang": names[lang],
                        "session": str(uuid.UUID(bytes=bytes(sess))), "survey": names[surv]})
        return out

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def parse_trace(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append({"event": "unparsable", "line": line})
    return out


def events(trace, name):
    return [e for e in trace if e.get("event") == name]


def screens(trace):
    return [e["screen"] for e in events(trace, "screen")]


class Stdin:
    """A kiosk fed by `--script -`, so a test can act between commands (hold a lock, fill a
    disk). step() sends commands and an expect-screen, collects the trace into self.trace up to
    that expectation, and returns whether it held."""

    def __init__(self, k):
        self.trace = []
        self.proc = subprocess.Popen([KIOSK, "--config", k.conf, "--headless", "--script", "-",
                                      "--trace"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=ENV)

    def step(self, cmds, want):
        for c in cmds:
            self.proc.stdin.write(c + "\n")
        self.proc.stdin.write("expect-screen %s\n" % want)
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return False
            e = json.loads(line)
            self.trace.append(e)
            if e["event"] == "expect":
                return e["ok"]

    def finish(self):
        """Ends the script (EOF) and returns (exit status, stderr)."""
        self.proc.stdin.close()
        self.proc.wait(timeout=TIMEOUT)
        return self.proc.returncode, self.proc.stderr.read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def check_run(what, rc, trace, err, want_rc=0):
    ok = rc == want_rc and not events(trace, "unparsable")
    if not ok:
        sys.stdout.write("# %s: rc %d\n# stderr: %s\n" % (what, rc, err.strip()[:2000]))
    return ok


# ---- Flows ------------------------------------------------------------------------------------

def test_followup_shown_and_highlight():
    k = Kiosk()
    try:
        rc, tr, err = k.run("expect-screen question\n"
                            "tap nps-3\nexpect-screen followup\n"
                            "tap reason-wait\nexpect-screen thanks\n"
                            "advance 4000\nexpect-screen question\n")
        report(check_run("followup", rc, tr, err), "nps 3: script runs to the end, exit 0")
        ans = events(tr, "answer")
        report(len(ans) == 2 and ans[0]["value"] == 3 and ans[1]["choice"] == "wait" and
               ans[0]["session"] == ans[1]["session"] and ans[1]["seq"] == ans[0]["seq"] + 1,
               "nps 3 then reason 'wait': two answers with consecutive seqs in one session")
        report(screens(tr) == ["followup", "thanks", "question"],
               "screens: question -> followup -> thanks -> question (got %s)" % screens(tr))
        # The first frame after the tap shows the highlight, and it comes before the write.
        idx_ans = tr.index(ans[0])
        frames_before = [e for e in tr[:idx_ans] if e["event"] == "frame"]
        report(frames_before and frames_before[-1].get("highlight") == "nps-3",
               "the frame right after tapping nps-3 has nps-3 highlighted, before the write")
        db = k.answers()
        report(len(db) == 2 and db[0]["kind"] == "nps" and db[0]["value"] == 3 and
               db[1]["kind"] == "choice" and db[1]["choice"] == "wait" and
               db[1]["question"] == "reason" and db[0]["session"] == db[1]["session"] ==
               ans[0]["session"] and [a["seq"] for a in db] == [a["seq"] for a in ans],
               "database: nps 3 and choice 'wait' in the traced session with the traced seqs")
        thanks_i = [i for i, e in enumerate(tr) if e.get("event") == "screen" and
                    e["screen"] == "thanks"][0]
        report(all(tr.index(a) < thanks_i for a in ans),
               "the thank-you comes only after both answers are recorded")
    finally:
        k.close()


def test_followup_not_shown_and_skip():
    k = Kiosk()
    try:
        rc, tr, err = k.run("tap nps-7\nexpect-screen thanks\nadvance 4000\n"
                            "tap nps-10\nexpect-screen thanks\nadvance 4000\n"
                            "tap nps-6\nexpect-screen followup\ntap reason-skip\n"
                            "expect-screen thanks\nadvance 4000\nexpect-screen question\n")
        report(check_run("skip", rc, tr, err), "nps 7 / 10 / 6+skip script passes")
        db = k.answers()
        report([a["value"] for a in db] == [7, 10, 6] and all(a["kind"] == "nps" for a in db),
               "nps 7 and 10 go straight to thanks; nps 6 shows the follow-up; skip stores "
               "nothing more (db values %s)" % [a["value"] for a in db])
        report(len(events(tr, "skip")) == 1, "skip is traced")
    finally:
        k.close()


def test_each_kind():
    cases = [("service-csat.json", "csat", "csat-5", 5, None),
             ("service-csat.json", "csat", "csat-1", 1, "improve-wait"),
             ("purchase-ces.json", "ces", "ces-6", 6, None),
             ("exit-smiley.json", "smiley4", "smiley4-4", 4, None),
             ("exit-smiley.json", "smiley4", "smiley4-1", 1, None),
             ("checkout-nps.json", "nps", "nps-0", 0, "reason-other")]
    for survey, kind, tap, value, follow in cases:
        k = Kiosk(survey=survey)
        try:
            script = "tap %s\n" % tap
            if follow:
                script += "expect-screen followup\ntap %s\n" % follow
            script += "expect-screen thanks\nadvance 4000\nexpect-screen question\n"
            rc, tr, err = k.run(script)
            db = k.answers()
            ok = check_run(kind, rc, tr, err) and db and db[0]["kind"] == kind and \
                db[0]["value"] == value and len(db) == (2 if follow else 1)
            if follow:
                ok = ok and db[1]["choice"] == follow.split("-", 1)[1]
            report(ok, "%s: tap %s%s records %s %d%s" % (
                survey, tap, " + " + follow if follow else "", kind, value,
                " and the choice" if follow else ", no follow-up"))
        finally:
            k.close()


def test_smiley_unhappiest_left():
    """smiley4 runs like every scale of the product: very unhappy (1) on the left, very happy (4)
    on the right at 800x480; very unhappy first (top-left) in the 2x2 grid of a 1080x1920
    portrait panel. Taps by position record the value under the finger."""
    for w, h, left, right in ((800, 480, (170, 340), (630, 340)),
                              (1080, 1920, (370, 1040), (710, 1380))):
        k = Kiosk(survey="exit-smiley.json")
        try:
            with open(k.conf) as f:
                text = f.read().replace("width = 800\nheight = 480", "width = %d\nheight = %d"
                                        % (w, h))
            with open(k.conf, "w") as f:
                f.write(text)
            rc, tr, err = k.run("tap-at %d %d\nadvance 4000\ntap-at %d %d\nadvance 4000\n"
                                "expect-screen question\n" % (left + right))
            vals = [a["value"] for a in k.answers()]
            report(check_run("smiley order", rc, tr, err) and vals == [1, 4],
                   "smiley4 at %dx%d: the %s face records 1 (very unhappy), the %s one 4 (%s)"
                   % (w, h, "left" if w > h else "top-left", "right" if w > h else
                      "bottom-right", vals))
        finally:
            k.close()


def test_followup_timeout():
    k = Kiosk()
    try:
        rc, tr, err = k.run("tap lang-en\ntap nps-2\nexpect-screen followup\nadvance 29000\n"
                            "expect-screen followup\nadvance 1000\nexpect-screen question\n"
                            "tap nps-9\nexpect-screen thanks\n")
        report(check_run("timeout", rc, tr, err),
               "abandoned follow-up: still shown at 29 s, question again at 30 s (idle timeout)")
        db = k.answers()
        report(len(db) == 2 and db[0]["value"] == 2 and db[0]["lang"] == "en" and
               db[1]["value"] == 9 and db[1]["lang"] == "vi" and
               db[0]["session"] != db[1]["session"] and "thanks" not in screens(tr)[:2],
               "abandoned follow-up: main answer kept, no thanks, language back to vi, next "
               "customer gets a new session")
    finally:
        k.close()


def test_language_toggle():
    k = Kiosk()
    try:
        rc, tr, err = k.run("tap lang-en\nscreenshot %s/en.png\ntap nps-8\nexpect-screen thanks\n"
                            "advance 4000\ntap nps-8\nadvance 4000\n"
                            "tap lang-en\nadvance 30000\nexpect-screen question\n"
                            "advance 10000\ntap nps-9\n" % k.dir)
        report(check_run("lang", rc, tr, err), "language script passes")
        db = k.answers()
        report([a["lang"] for a in db] == ["en", "vi", "vi"],
               "lang-en applies to that customer only; reset to vi after the thank-you and "
               "after 30 s idle on the question (langs %s)" % [a["lang"] for a in db])
        langs = [e["lang"] for e in events(tr, "lang")]
        report(langs == ["en", "vi", "en", "vi"], "language changes traced: %s" % langs)
        report(os.path.getsize(os.path.join(k.dir, "en.png")) > 1000,
               "screenshot of the English question written")
    finally:
        k.close()


def test_repeat_flag_and_ignored_taps():
    k = Kiosk()
    try:
        rc, tr, err = k.run("tap nps-9\nexpect-screen thanks\n"
                            "tap-at 400 240\ntap-at 10 470\n"  # ignored during the thank-you
                            "advance 4000\nexpect-screen question\n"
                            "advance 4900\ntap nps-10\nexpect-screen thanks\n"   # 4.9 s: flagged
                            "advance 4000\nadvance 5000\ntap nps-7\n"            # 5.0 s: not
                            "advance 4000\n")
        report(check_run("repeat", rc, tr, err), "repeat script passes")
        db = k.answers()
        report([a["value"] for a in db] == [9, 10, 7],
               "taps during the thank-you stored nothing (values %s)" % [a["value"] for a in db])
        report([a["flags"] & 1 for a in db] == [0, 1, 0],
               "rating 4.9 s after the thank-you flagged rapid_repeat, at 5.0 s not (flags %s)"
               % [a["flags"] for a in db])
        ans = events(tr, "answer")
        report([a["flags"] for a in ans] == [[], ["rapid_repeat"], []],
               "trace shows the rapid_repeat flag")
        report(len(events(tr, "ignored")) == 2, "both taps during the thank-you traced as ignored")
    finally:
        k.close()


def pin_taps(pin):
    return "".join("tap pin-%s\n" % d for d in pin) + "tap pin-ok\n"


def test_staff_pin():
    k = Kiosk()
    try:
        rc, tr, err = k.run(
            "tap nps-9\nadvance 4000\n"
            "hold 5 5 2900\nexpect-screen question\n"          # too short
            "hold 5 5 3000\nexpect-screen pin\n" + pin_taps("1111") +
            "expect-screen pin\n" + pin_taps(PIN) + "expect-screen staff\n"
            "screenshot " + k.dir + "/staff.png\n"
            "tap staff-back\nexpect-screen question\n"
            "hold 5 5 3000\n" + pin_taps(PIN) + "advance 59000\nexpect-screen staff\n"
            "advance 1000\nexpect-screen question\n")
        report(check_run("staff", rc, tr, err),
               "staff: 2.9 s hold does nothing, 3 s opens the PIN pad, wrong PIN stays, right "
               "PIN opens staff, back returns, 60 s idle leaves by itself")
        pins = [e["result"] for e in events(tr, "pin")]
        report(pins == ["wrong", "ok", "ok"], "PIN results traced: %s" % pins)
        report(len(k.answers()) == 1, "staff mode recorded no answers")
    finally:
        k.close()


def test_pin_lockout():
    k = Kiosk()
    try:
        script = "hold 5 5 3000\n" + pin_taps("0000") * 5 + "expect-screen pin\n" + \
            pin_taps(PIN) + "expect-screen pin\n" + \
            "advance 60000\nexpect-screen question\n" + \
            "advance 230000\nhold 5 5 3000\n" + pin_taps(PIN) + "expect-screen pin\n" + \
            "tap pin-cancel\nexpect-screen question\n" + \
            "advance 7000\nhold 5 5 3000\n" + pin_taps(PIN) + "expect-screen staff\n"
        rc, tr, err = k.run(script)
        report(check_run("lockout", rc, tr, err),
               "lockout: 5 wrong PINs lock the pad; the right PIN is refused at 0 s and at "
               "4 min 53 s, accepted after 5 min (virtual clock)")
        pins = [e["result"] for e in events(tr, "pin")]
        report(pins[:5] == ["wrong"] * 4 + ["lockout"] and pins.count("locked") >= 2 and
               pins[-1] == "ok", "PIN results: 4 wrong, lockout, locked..., ok (%s)" % pins)
        lock = events(tr, "pin")[4]
        report(lock.get("until", 0) - lock["t"] == 300000, "lockout lasts 300000 ms")
    finally:
        k.close()


def test_staff_switch_survey_and_language():
    k = Kiosk()
    try:
        names = sorted(f for f in os.listdir(SURVEYS) if f.endswith(".json"))
        idx = names.index("service-csat.json")
        rc, tr, err = k.run(
            "hold 5 5 3000\n" + pin_taps(PIN) + "tap staff-survey\nexpect-screen staff_survey\n"
            "screenshot %s/surveys.png\n"
            "tap survey-%d\nexpect-screen staff\ntap staff-lang\ntap staff-back\n"
            "expect-screen question\ntap csat-4\nexpect-screen thanks\n" % (k.dir, idx))
        report(check_run("switch", rc, tr, err), "staff: switch survey and default language")
        db = k.answers()
        report(len(db) == 1 and db[0]["kind"] == "csat" and db[0]["survey"] == "service-csat" and
               db[0]["lang"] == "en",
               "after switching to service-csat and default language en, a tap records csat in "
               "en (%s)" % db)
    finally:
        k.close()


def test_staff_exit():
    k = Kiosk(fullscreen=True)
    try:
        rc, tr, err = k.run("hold 5 5 3000\n" + pin_taps(PIN) + "tap staff-exit\n"
                            "expect-screen staff_exit\ntap staff-back\nexpect-screen staff\n"
                            "tap staff-exit\nexpect-screen staff_exit\n")
        report(rc == 0 and not [e for e in events(tr, "exit") if e.get("reason") == "staff"] and
               [e["ok"] for e in events(tr, "expect")] == [True, True, True],
               "staff 'exit kiosk' asks first: a confirmation screen, whose 'back' returns to "
               "the staff screen without ending")
        rc, tr, err = k.run("hold 5 5 3000\n" + pin_taps(PIN) + "tap staff-exit\n"
                            "expect-screen staff_exit\ntap exit-confirm\n"
                            "expect-screen question\n")
        ex = events(tr, "exit")
        report(rc == 0 and ex and ex[-1]["reason"] == "staff" and
               len(events(tr, "expect")) == 1,
               "staff 'exit kiosk', confirmed, ends the program cleanly (exit 0) even in "
               "fullscreen")
    finally:
        k.close()


def test_quit_keys():
    k = Kiosk(fullscreen=True)
    try:
        rc, tr, err = k.run("key escape\nkey alt+f4\nkey ctrl+q\nkey quit\nkey close\n"
                            "expect-screen question\ntap nps-9\nexpect-screen thanks\n")
        keys = events(tr, "key")
        report(check_run("lockdown", rc, tr, err) and len(keys) == 5 and
               all(e["action"] == "ignored" for e in keys) and len(k.answers()) == 1 and
               events(tr, "exit")[-1]["reason"] == "script_end",
               "fullscreen lockdown: Escape, Alt+F4, Ctrl+Q, SDL_QUIT and window close are "
               "ignored and the kiosk keeps working")
        start = events(tr, "start")[0]
        report(start["fullscreen"] is True, "lockdown run was fullscreen")
    finally:
        k.close()
    k = Kiosk(fullscreen=False)
    try:
        rc, tr, err = k.run("key escape\nexpect-screen question\n")
        report(rc == 0 and events(tr, "key")[0]["action"] == "quit" and not events(tr, "expect"),
               "windowed developer mode: Escape quits")
    finally:
        k.close()


def test_out_of_order_full_database():
    """A database that cannot grow (max_page_count) fails the write: out-of-order, no thanks."""
    k = Kiosk()
    try:
        rc, tr, err = k.run("tap nps-9\nadvance 4000\n")
        ok = rc == 0
        con = sqlite3.connect("file:%s?mode=ro" % k.db, uri=True)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.close()
        rc, tr, err = k.run("tap nps-9\n" + "advance 4000\ntap nps-9\n" * 150 +
                            "advance 4000\n", env={"TP_KIOSK_MAX_PAGE_COUNT": str(pages)})
        errs = [e for e in events(tr, "error") if e.get("during") == "record"]
        sc = screens(tr)
        ooo_i = sc.index("out_of_order") if "out_of_order" in sc else -1
        report(ok and rc == 3 and errs and errs[0]["code"] == "disk_full" and ooo_i >= 0 and
               "thanks" not in sc[ooo_i:],
               "database at its size cap: the failing tap shows out-of-order (disk_full), never "
               "the thank-you, and the screen has no rating to tap (rc %d)" % rc)
        n_ok = len(events(tr, "answer"))
        report(len(k.answers()) == 1 + n_ok, "every traced answer is in the database (%d)"
               % (1 + n_ok))
        retries = [e for e in events(tr, "error") if e.get("during") == "record"]
        report(len(retries) >= 1, "failed write traced as an error with its code")
    finally:
        k.close()


def test_out_of_order_recovery():
    """Disk full on a real (tmpfs) filesystem, then space freed: retries recover."""
    mnt = tempfile.mkdtemp(prefix="tp_kiosk_fs_")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                             capture_output=True).returncode == 0
    if not mounted:
        os.rmdir(mnt)
        report(True, "# SKIP out-of-order recovery: cannot mount a tmpfs (needs root)")
        return
    k = Kiosk(db_dir=mnt)
    ks = None
    try:
        ks = Stdin(k)
        tr = ks.trace
        step = ks.step

        ok = step(["tap nps-9"], "thanks") and step(["advance 4000"], "question")
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, free - 256 * 1024))
        n_before = len(tr)
        ok = ok and step(["tap nps-4"], "out_of_order")
        ok = ok and step(["advance 5000"], "out_of_order") and step(["advance 5000"],
                                                                      "out_of_order")
        errs = [e for e in tr[n_before:] if e["event"] == "error"]
        no_thanks = not [e for e in tr[n_before:] if e["event"] == "screen" and
                         e["screen"] == "thanks"]
        report(ok and len(errs) >= 3 and errs[0]["code"] == "disk_full" and no_thanks,
               "disk full: tap -> out-of-order (disk_full), retried every 5 s, no thank-you")
        os.unlink(filler)
        n_before = len(tr)
        ok2 = step(["advance 5000"], "question")
        rec = [e for e in tr[n_before:] if e["event"] in ("answer", "recovered")]
        report(ok2 and [e["event"] for e in rec] == ["answer", "recovered"] and
               rec[0]["value"] == 4,
               "space freed: the next retry stores the pending nps 4 and returns to the question")
        ok3 = step(["tap nps-10"], "thanks")
        rc, _ = ks.finish()
        db = k.answers()
        report(ok3 and rc == 0 and [a["value"] for a in db] == [9, 4, 10],
               "database holds 9, 4 (the retried answer) and 10 (%s)"
               % [a["value"] for a in db])
    finally:
        if ks:
            ks.close()
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)
        k.close()


def test_database_unopenable():
    """A database that cannot be opened: out-of-order from the start, retried."""
    k = Kiosk(db_dir="/proc/tp-no-such-dir")
    try:
        rc, tr, err = k.run("expect-screen out_of_order\ntap-at 400 300\nadvance 10000\n"
                            "expect-screen out_of_order\nscreenshot %s/ooo.png\n" % k.dir)
        opens = [e for e in events(tr, "error") if e.get("during") == "open"]
        report(rc == 0 and len(opens) >= 3 and not events(tr, "answer"),
               "unopenable database: starts out-of-order, retries the open every 5 s (%d tries)"
               % len(opens))
    finally:
        k.close()


def test_sigterm():
    k = Kiosk(fullscreen=True)
    proc = None
    try:
        proc = subprocess.Popen([KIOSK, "--config", k.conf, "--headless", "--trace"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=ENV)
        first = proc.stdout.readline()
        while first and json.loads(first)["event"] != "frame":
            first = proc.stdout.readline()
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=TIMEOUT)
        tr = parse_trace(out)
        ex = events(tr, "exit")
        report(proc.returncode == 0 and ex and ex[-1].get("signal") == "SIGTERM",
               "SIGTERM in fullscreen: clean exit 0 with an exit trace (rc %s)" % proc.returncode)
        con = sqlite3.connect("file:%s?mode=ro" % k.db, uri=True)
        qc = con.execute("PRAGMA quick_check").fetchone()[0]
        con.close()
        report(qc == "ok", "database sound after SIGTERM")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.communicate()
        k.close()


def test_start_errors():
    k = Kiosk(extra="[display]\nrotation = 45\n")
    try:
        rc, tr, err = k.run("expect-screen question\n")
        report(rc == 2 and "%s:" % k.conf in err and "[display] rotation" in err,
               "bad config value: exit 2, message names file, line and key (%s)" % err.strip())
    finally:
        k.close()
    k = Kiosk()
    try:
        bad = os.path.join(k.dir, "bad.json")
        with open(os.path.join(SURVEYS, "checkout-nps.json")) as f:
            doc = json.load(f)
        del doc["questions"][1]["options"][2]["label"]["vi"]
        with open(bad, "w") as f:
            json.dump(doc, f)
        with open(k.conf) as f:
            text = f.read().replace(os.path.join(SURVEYS, "checkout-nps.json"), bad)
        with open(k.conf, "w") as f:
            f.write(text)
        rc, tr, err = k.run("expect-screen question\n")
        report(rc == 2 and "%s: $.questions[1].options[2].label.vi: missing" % bad in err,
               "bad survey: exit 2 naming the file and JSON path (%s)" % err.strip())
        rc, tr, err = k.run("tap nps-3\nfly away\n")
        report(rc == 2 and ":2: unknown command 'fly'" in err and not events(tr, "answer"),
               "bad script: refused with its line number before anything runs")
    finally:
        k.close()


def test_usb_export():
    """Staff screen "Export to USB" onto a real (tmpfs) mount below the configured mount root."""
    root = tempfile.mkdtemp(prefix="tp_kiosk_media_")
    stick = os.path.join(root, "touchpoint-usb-1")
    os.mkdir(stick)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", stick],
                      capture_output=True).returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        report(True, "# SKIP USB export: cannot mount a tmpfs stick (needs root)")
        return
    k = Kiosk(extra="[usb]\nmount_root = %s\n" % root)
    try:
        rc, tr, err = k.run(
            "tap nps-9\nadvance 4000\ntap nps-3\ntap reason-wait\nadvance 4000\n"
            "hold 5 5 3000\n" + pin_taps(PIN) + "tap staff-export\nexpect-screen staff_export\n"
            "tap export-new\nscreenshot " + k.dir + "/export.png\ntap export-new\n"
            "tap staff-back\nexpect-screen staff\n")
        usb = events(tr, "usb")
        report(check_run("usb", rc, tr, err) and usb and usb[0]["change"] == "added" and
               usb[0]["name"] == "touchpoint-usb-1",
               "a stick mounted below [usb] mount_root is detected and offered on the staff "
               "screen")
        ex = events(tr, "usb_export")
        report(len(ex) == 2 and ex[0]["outcome"] == "done" and ex[0]["rows"] == 3 and
               "safe to remove" in ex[0]["message"] and ex[1]["outcome"] == "nothing_new",
               "export-new writes the 3 answers, a second export-new has nothing new (%s)"
               % [(e["outcome"], e["rows"]) for e in ex])
        files = sorted(os.listdir(stick))
        csvs = [f for f in files if f.endswith(".csv")]
        ok = len(csvs) == 1 and csvs[0] + ".sha256" in files
        if ok:
            with open(os.path.join(stick, csvs[0]), "rb") as f:
                data = f.read()
            with open(os.path.join(stick, csvs[0] + ".sha256")) as f:
                ok = f.read().split()[0] == hashlib.sha256(data).hexdigest()
            import csv
            import io
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            ok = ok and len(rows) == 4
        report(ok, "the stick holds one CSV (header + 3 rows) and its matching .sha256 (%s)"
               % files)
        prog = events(tr, "export_progress")
        report(prog and prog[-1]["done"] == 3 and prog[-1]["total"] == 3 and
               tr.index(prog[-1]) < tr.index(ex[0]),
               "the export traces export_progress events ending at done == total == 3 before "
               "its outcome (%s)" % [(e["done"], e["total"]) for e in prog])
        report(ex[0].get("lang") == "vi" and
               ex[0].get("shown", "").replace("\u00a0", " ") ==
               "Xong: 3 câu trả lời, có thể rút USB ra an toàn." and
               ex[1].get("shown", "").replace("\u00a0", " ").startswith(
                   "Không có câu trả lời mới"),
               "the staff screen says the outcome in its language (vi): %r / %r"
               % (ex[0].get("shown"), ex[1].get("shown")))
        # Cancel during the export: the hook taps export-cancel at the first progress report.
        before = sorted(os.listdir(stick))
        rc, tr, err = k.run(
            "hold 5 5 3000\n" + pin_taps(PIN) + "tap staff-export\ntap export-all\n"
            "expect-screen staff_export\ntap staff-back\nexpect-screen staff\n",
            env={"TP_KIOSK_EXPORT_CANCEL": "0"})
        ex = events(tr, "usb_export")
        report(check_run("usb cancel", rc, tr, err) and len(ex) == 1 and
               ex[0]["outcome"] == "cancelled" and ex[0]["rows"] == 0 and
               events(tr, "usb_export_cancel") and
               ex[0]["message"].startswith("Export cancelled.") and
               ex[0]["shown"].startswith("Đã hủy xuất.") and "error" not in
               [e["event"] for e in tr] and sorted(os.listdir(stick)) == before,
               "export-cancel during 'everything' stops it: outcome cancelled, 'Đã hủy xuất.' "
               "shown (not a failure), nothing new on the stick (%s)"
               % [(e["outcome"], e.get("shown")) for e in ex])
        # [usb] staff_key: a stick holding the staff key opens staff mode from the PIN pad.
        with open(os.path.join(stick, "touchpoint-staff.key"), "w") as f:
            f.write(HASH + "\n")
        rc, tr, err = k.run("hold 5 5 3000\nexpect-screen staff\n")
        report(rc == 2 or events(tr, "expect")[0]["ok"] is False,
               "without [usb] staff_key = true the key file is not used")
        with open(k.conf, "a") as f:
            f.write("staff_key = true\n")
        rc, tr, err = k.run("hold 5 5 3000\nexpect-screen staff_export\n"
                            "tap staff-back\nexpect-screen staff\n")
        report(check_run("usb key", rc, tr, err) and
               [e["result"] for e in events(tr, "pin")] == ["usb_key"],
               "with [usb] staff_key = true the stick's touchpoint-staff.key opens the staff "
               "export screen from the PIN pad")
    finally:
        subprocess.run(["umount", stick])
        shutil.rmtree(root, ignore_errors=True)
        k.close()


def test_cli_pin_hash():
    """`touchpoint pin-hash` makes a hash that hashlib verifies and the kiosk accepts."""
    cli = os.path.join(os.path.dirname(KIOSK), "touchpoint")
    if not os.access(cli, os.X_OK):
        report(True, "# SKIP touchpoint pin-hash: %s is not built" % cli)
        return
    p = subprocess.run([cli, "pin-hash", "--iterations", "1000"], input="1357\n",
                       capture_output=True, text=True, timeout=TIMEOUT)
    h = p.stdout.strip()
    parts = h.split("$")
    ok = p.returncode == 0 and len(parts) == 4 and parts[0] == "pbkdf2-sha256" and \
        parts[1] == "1000"
    if ok:
        ok = pin_matches("1357", h)
    report(ok, "touchpoint pin-hash prints pbkdf2-sha256$1000$SALT$HASH that hashlib verifies")
    p2 = subprocess.run([cli, "pin-hash"], input="12ab\n", capture_output=True, text=True,
                        timeout=TIMEOUT)
    report(p2.returncode == 1 and "4 to 12 digits" in p2.stderr and not p2.stdout,
           "touchpoint pin-hash refuses a PIN that is not 4-12 digits")
    if not ok:
        return
    k = Kiosk()
    try:
        with open(k.conf) as f:
            text = f.read().replace(HASH, h)
        with open(k.conf, "w") as f:
            f.write(text)
        rc, tr, err = k.run("hold 5 5 3000\n" + pin_taps("1357") + "expect-screen staff\n")
        report(check_run("cli pin", rc, tr, err), "the kiosk accepts PIN 1357 with that hash")
    finally:
        k.close()


def main():
    if not os.access(KIOSK, os.X_OK):
        print("1..1\nnot ok 1 - %s is not built" % KIOSK)
        return 1
    tests = [test_followup_shown_and_highlight, test_followup_not_shown_and_skip, test_each_kind,
             test_smiley_unhappiest_left,
             test_followup_timeout, test_language_toggle, test_repeat_flag_and_ignored_taps,
             test_staff_pin, test_pin_lockout, test_staff_switch_survey_and_language,
             test_staff_exit, test_quit_keys, test_out_of_order_full_database,
             test_out_of_order_recovery, test_database_unopenable, test_sigterm,
             test_start_errors, test_cli_pin_hash, test_usb_export]
    for t in tests:
        try:
            t()
        except Exception as e:  # a crash in one flow is a failure, not the end of the run
            report(False, "%s raised %s: %s" % (t.__name__, type(e).__name__, e))
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
