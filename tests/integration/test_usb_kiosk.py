#!/usr/bin/env python3
"""test_usb_kiosk.py - the kiosk's staff "Export to USB" end to end, on real FAT file systems: the
real touchpoint-kiosk runs headless with a script read from stdin (`--script -`, virtual clock,
--trace), a FAT image made by mkfs.vfat is mounted with fusefat under a temporary folder that is
the kiosk's `[usb] mount_root`, and the test reaches the export screen as staff do (3 s hold, PIN
pad, "Export to USB") against a temporary database seeded by $TP_BUILD/tests/gen_answers.

Cases:
  - normal: "new since last export" writes a CSV that Python's csv module reads with exactly the
    database's rows (compared field by field with `gen_answers --dump`), UTF-8 with BOM, the
    documented header, a matching .sha256, the trace says "Done: N answers, safe to remove", the
    export cursor moves; answers recorded afterwards (`touchpoint record`, while the kiosk runs)
    are the only rows of the next "new" export; a third "new" says nothing new; "everything"
    writes every row. The stick's mount point has a Vietnamese name with a space. One screenshot
    of the done screen is saved (TP_USB_KIOSK_SHOT=PATH keeps a copy), and one of the progress
    state half-way (the kiosk's TP_KIOSK_EXPORT_SHOT hook; TP_USB_KIOSK_PROGRESS_SHOT=PATH keeps a
    copy); the trace has bounded export_progress events (every 2 %) rising to done == total; the
    staff screen (Vietnamese by default) shows "Xong: N câu trả lời, có thể rút USB ra an toàn.".
  - failures, each in its own kiosk with a fresh copy of the database: a 1 MB stick that fills
    up mid-export, a read-only mount, the stick unmounted (fusermount -uz) mid-export, an
    existing file and (on a bind-mounted plain folder, since FAT has no symlinks) planted
    symlinks at the target name. Each ends with its documented message, leaves no partial file,
    leaves the export cursor unmoved (`touchpoint check`), and the next export on a good stick
    plugged into the same running kiosk succeeds.
  - cancel: "export-cancel" tapped half-way through (the kiosk's TP_KIOSK_EXPORT_CANCEL hook taps
    it at a row count, through the real tap path) ends "cancelled" with "Đã hủy xuất." shown,
    leaves nothing on the stick, the cursor unmoved, and the next export works.
  - [usb] staff_key = true: a stick holding touchpoint-staff.key opens the staff export screen
    without typing the PIN (from the PIN pad, and directly when plugged in on the survey screen;
    the idle timeout returns to the survey), and the export from there works (with [usb] formats
    = csv,jsonl: JSON Lines too); a key with another PIN's hash opens nothing.

"Mid-export" is made deterministic without timing: in script mode the kiosk runs the export
inline, so the test watches /proc/PID/fd for the export's temp file (open for writing, some bytes
written), stops the kiosk with SIGSTOP, fills / unmounts the stick, and lets it go on (SIGCONT).

Prints TAP lines. Stdlib only. Build folder from $TP_BUILD (default build).
"""
import csv
import hashlib
import io
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import fatimage  # noqa: E402
from tap import check as tap, count, failed  # noqa: E402
from pinhash import pin_hash  # noqa: E402

BUILD = os.environ.get("TP_BUILD", "build")
B = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
KIOSK = os.path.join(B, "touchpoint-kiosk")
TP = os.path.join(B, "touchpoint")
GEN = os.path.join(B, "tests", "gen_answers")
SURVEYS = os.path.join(ROOT, "assets", "surveys")
ENV = dict(os.environ, TZ=os.environ.get("TZ", "Asia/Ho_Chi_Minh"), SDL_VIDEODRIVER="offscreen",
           SDL_AUDIODRIVER="dummy")
DEVICE = "kiosk-01"
PIN = "4826"
N_SEED = 2500  # about 610 KB of CSV: fits a fresh 1 MB FAT image, not one filled meanwhile
WAIT = 180     # seconds for one kiosk reply (ASan, shared machine)

COLUMNS = ["seq", "answer_id", "session_id", "device_id", "epoch", "survey_id", "survey_version",
           "question_id", "kind", "value", "choice_id", "lang", "store_id", "touchpoint_id",
           "time_utc", "time_local", "clock_trusted", "flags", "sync_state"]
DONE = "Done: %d answers, safe to remove"
DONE_VI = "Xong: %d câu trả lời, có thể rút USB ra an toàn."
NOT_MARKED_VI = "Chưa có câu trả lời nào được đánh dấu là đã xuất."


def shown(ev):
    """The sentence the staff screen showed, its no-break spaces (U+00A0) read as spaces."""
    return ev.get("shown", "").replace("\u00a0", " ")
NOTHING = "No new answers since the last export. Nothing was written; safe to remove."
NOT_MARKED = "Nothing was marked as exported."


def run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout, **kw)


HASH = pin_hash(PIN)


def pin_taps(pin):
    return ["tap pin-%s" % d for d in pin] + ["tap pin-ok"]


TO_EXPORT = ["hold 5 5 3000"] + pin_taps(PIN) + ["tap staff-export"]


# ---- the database side -------------------------------------------------------------------------

def dump(db):
    """Every answer as the store holds it (gen_answers --dump), keyed by seq."""
    r = run([GEN, "--dump", "--db", db])
    if r.returncode != 0:
        raise RuntimeError("gen_answers --dump: " + r.stderr)
    out = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        out[int(f[0])] = f
    return out


def cursor(db):
    """The export cursor as `touchpoint check` reports it (a read-only look), or None."""
    r = run([TP, "--db", db, "check"])
    m = re.search(r"^export cursor\s+(\d+)", r.stdout, re.M)
    return int(m.group(1)) if m else None


def utc_text(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def flags_text(bits):
    names = []
    if bits & 1:
        names.append("rapid_repeat")
    if bits & 2:
        names.append("button")
    return ";".join(names)


def row_problems(rows, want):
    """Compares CSV rows with dump() lines; returns a list of differences (empty when equal)."""
    bad = []
    if [r[0] for r in rows] != [str(s) for s in sorted(want)]:
        return ["seqs %s.. != %s.." % ([r[0] for r in rows][:5], sorted(want)[:5])]
    for r in rows:
        d = want[int(r[0])]
        (seq, aid, sess, survey, ver, q, kind, value, choice, lang, store, tpid, wall,
         trusted, _mono, _boot, flags, state) = d[:18]
        got = {"answer_id": r[1], "session_id": r[2], "device_id": r[3], "survey_id": r[5],
               "survey_version": r[6], "question_id": r[7], "kind": r[8], "value": r[9],
               "choice_id": r[10], "lang": r[11], "store_id": r[12], "touchpoint_id": r[13],
               "time_utc": r[14], "clock_trusted": r[16], "flags": r[17], "sync_state": r[18]}
        exp = {"answer_id": aid, "session_id": sess, "device_id": DEVICE, "survey_id": survey,
               "survey_version": ver, "question_id": q, "kind": kind, "value": value,
               "choice_id": choice, "lang": lang, "store_id": store, "touchpoint_id": tpid,
               "time_utc": utc_text(int(wall)), "clock_trusted": "true" if trusted == "1"
               else "false", "flags": flags_text(int(flags)), "sync_state": state}
        for k in exp:
            if got[k] != exp[k]:
                bad.append("seq %s %s: %r != %r" % (seq, k, got[k], exp[k]))
        if len(r) != len(COLUMNS):
            bad.append("seq %s has %d fields" % (seq, len(r)))
        if len(bad) > 5:
            break
    return bad


def read_csv(raw):
    """(has_bom, header, rows) of an export file; raises UnicodeDecodeError on bad UTF-8."""
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return raw.startswith(b"\xef\xbb\xbf"), rows[0] if rows else [], rows[1:]


def export_name_for(db, work):
    """The file name a "new" export of db gets: asked from the same core through a scratch copy
    of the database and `touchpoint export --out` into a scratch folder."""
    d = tempfile.mkdtemp(prefix="name-", dir=work)
    shutil.copy(db, os.path.join(d, "copy.db"))
    out = os.path.join(d, "out")
    os.mkdir(out)
    r = run([TP, "--db", os.path.join(d, "copy.db"), "export", "--out", out, "--new"])
    names = [n for n in os.listdir(out) if n.endswith(".csv")]
    shutil.rmtree(d, ignore_errors=True)
    if r.returncode != 0 or len(names) != 1:
        raise RuntimeError("touchpoint export for the name: " + r.stderr)
    return names[0]


# ---- the kiosk ---------------------------------------------------------------------------------

class Kiosk:
    """A running touchpoint-kiosk --headless --script - --trace with its own config."""

    def __init__(self, work, db, mount_root, extra="", env=None):
        self.dir = tempfile.mkdtemp(prefix="kiosk-", dir=work)
        self.conf = os.path.join(self.dir, "kiosk.conf")
        with open(self.conf, "w") as f:
            f.write("[device]\nid = %s\nstore = hcm-01\ntouchpoint = exit\n"
                    "[survey]\nfile = %s\ndirectory = %s\n"
                    "[storage]\ndatabase = %s\nmin_free_mb = 1\n"
                    "[display]\nfullscreen = false\nwidth = 800\nheight = 480\n"
                    "[staff]\npin_hash = %s\n"
                    "[usb]\nmount_root = %s\n%s"
                    % (DEVICE, os.path.join(SURVEYS, "checkout-nps.json"), SURVEYS, db, HASH,
                       mount_root, extra))
        self.errpath = os.path.join(self.dir, "stderr")
        self.err = open(self.errpath, "w")
        self.p = subprocess.Popen([KIOSK, "--config", self.conf, "--headless", "--script", "-",
                                   "--trace"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, text=True, env=dict(ENV, **(env or {})))
        self.trace = []
        self.q = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            try:
                self.q.put(json.loads(line))
            except ValueError:
                self.q.put({"event": "unparsable", "line": line})
        self.q.put(None)

    def send(self, cmds):
        for c in cmds:
            self.p.stdin.write(c + "\n")
        self.p.stdin.flush()

    def wait_for(self, pred):
        """Reads trace events until pred(event); returns the events read (the last matched), or
        raises RuntimeError when the kiosk ends or says nothing for WAIT seconds."""
        got = []
        while True:
            try:
                e = self.q.get(timeout=WAIT)
            except queue.Empty:
                raise RuntimeError("the kiosk said nothing for %d s" % WAIT)
            if e is None:
                raise RuntimeError("the kiosk ended (rc %s): %s" % (self.p.wait(), self.stderr()))
            got.append(e)
            self.trace.append(e)
            if pred(e):
                return got

    def step(self, cmds, want):
        """Runs cmds then `expect-screen want`; returns (ok, events of the step)."""
        self.send(list(cmds) + ["expect-screen %s" % want])
        ev = self.wait_for(lambda e: e.get("event") == "expect")
        return ev[-1].get("ok") is True, ev

    def export(self, button="export-new"):
        """Taps an export button on the export screen; returns the usb_export trace event."""
        self.send(["tap " + button])
        return self.wait_for(lambda e: e.get("event") in ("usb_export", "error"))[-1]

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.errpath, errors="replace") as f:
            return f.read()[-3000:]

    def close(self):
        """Ends the script (EOF) and returns the exit code."""
        rc = None
        try:
            if self.p.poll() is None:
                self.p.stdin.close()
                rc = self.p.wait(timeout=WAIT)
            else:
                rc = self.p.returncode
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.p.poll() is None:
                try:
                    os.kill(self.p.pid, signal.SIGCONT)
                except OSError:
                    pass
                self.p.kill()
                self.p.wait()
            self.reader.join(timeout=10)
            self.p.stdout.close()
            self.err.close()
        return rc


def events(trace, name):
    return [e for e in trace if e.get("event") == name]


def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def stop_mid_write(pid, mount_point, min_pos, deadline_s=WAIT):
    """Waits until process pid has the export's temp file below mount_point open for writing
    with at least min_pos bytes written, then stops it (SIGSTOP) and returns the position; None
    when the export never got there (finished, failed or the process ended first)."""
    prefix = os.path.join(os.path.realpath(mount_point), ".touchpoint-export-")
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            return None
        for fd in fds:
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(prefix):
                    continue
                with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                    info = dict(line.split(":", 1) for line in f.read().splitlines()
                                if ":" in line)
            except (OSError, ValueError):
                continue
            pos = int(info.get("pos", "0").strip())
            flags = int(info.get("flags", "0").strip(), 8)
            if flags & os.O_ACCMODE != os.O_RDONLY and pos >= min_pos:
                os.kill(pid, signal.SIGSTOP)
                for _ in range(500):
                    if proc_state(pid) in ("T", "t"):
                        break
                    time.sleep(0.01)
                # still writing that temp file after the stop?
                if not os.path.exists("/proc/%d/fd/%s" % (pid, fd)):
                    os.kill(pid, signal.SIGCONT)
                    return None
                return pos
        time.sleep(0.0005)
    return None


def data_files(names):
    return sorted(n for n in names if n.endswith(".csv") or n.endswith(".jsonl"))


def leftovers(names, keep=()):
    return [n for n in names if (n.startswith("touchpoint-") or n.startswith(".")) and
            n not in keep]


def open_export_screen(k, label):
    ok, ev = k.step(TO_EXPORT, "staff_export")
    tap(ok, "%s: hold 3 s, PIN, 'Export to USB' opens the export screen" % label,
        k.stderr())
    return ok


def failure_checks(label, ev, outcome, words, db, cur0, names, keep=()):
    msg = ev.get("message", "")
    tap(ev.get("event") == "usb_export" and ev.get("outcome") == outcome,
        "%s: outcome %s" % (label, outcome), repr(ev))
    tap(all(w in msg for w in words) and NOT_MARKED in msg,
        "%s: the kiosk says %r ... '%s'" % (label, words[0], NOT_MARKED), msg)
    tap(ev.get("lang") == "vi" and NOT_MARKED_VI in shown(ev) and
        shown(ev).startswith("USB"),
        "%s: the staff screen shows it in Vietnamese" % label, shown(ev))
    tap(cursor(db) == cur0, "%s: export cursor unmoved (%d)" % (label, cur0), cursor(db))
    left = leftovers(names, keep)
    tap(not left, "%s: no partial or temp file left on the stick" % label, repr(names))


def good_stick_after(k, root, db, want_rows, label):
    """Plugs a good stick into the same running kiosk (same mount root) and exports "new" again:
    it must succeed with want_rows answers and move the cursor to the highest seq."""
    with fatimage.FatStick(size_kb=16384, name="touchpoint-usb-good", mount_root=root) as st:
        ok, _ = k.step([], "staff_export")  # the kiosk sees the stick before the next command
        ev = k.export("export-new")
        csvs = data_files(st.files())
        rows = len(read_csv(st.read(csvs[0]))[2]) if len(csvs) == 1 else -1
        hi = max(dump(db))
        tap(ok and ev.get("outcome") == "done" and ev.get("message") == DONE % want_rows and
            rows == want_rows and cursor(db) == hi,
            "%s: the next export on a good stick succeeds with %d answers, cursor -> %d"
            % (label, want_rows, hi), "%r rows %d cursor %s" % (ev, rows, cursor(db)))


# ---- cases -------------------------------------------------------------------------------------

def case_normal(work, template):
    db = os.path.join(work, "normal.db")
    shutil.copy(template, db)
    want = dump(db)
    root = os.path.join(work, "media-normal")
    name = "touchpoint-usb-Thẻ nhớ"  # Vietnamese label with a space (\040 in mountinfo)
    with fatimage.FatStick(size_kb=8192, name=name, mount_root=root) as st:
        pshot = os.path.join(work, "export-progress.png")
        k = Kiosk(work, db, root, env={"TP_KIOSK_EXPORT_SHOT": "%s@%d" % (pshot, N_SEED // 2)})
        try:
            if not open_export_screen(k, "normal"):
                return
            usb = events(k.trace, "usb")
            tap(usb and usb[0].get("change") == "added" and usb[0].get("name") == name and
                usb[0].get("readonly") is False,
                "the fusefat stick under [usb] mount_root is detected by its Vietnamese name",
                repr(usb))
            ev = k.export("export-new")
            tap(ev.get("outcome") == "done" and ev.get("rows") == N_SEED and
                ev.get("message") == DONE % N_SEED,
                "'new since last export': the kiosk says '%s'" % (DONE % N_SEED), repr(ev))
            tap(ev.get("lang") == "vi" and shown(ev) == DONE_VI % N_SEED,
                "the Vietnamese staff screen shows '%s'" % (DONE_VI % N_SEED), shown(ev))
            prog = [(e.get("done"), e.get("total")) for e in events(k.trace, "export_progress")]
            tap(prog and prog[-1] == (N_SEED, N_SEED) and 10 <= len(prog) <= 52 and
                all(t == N_SEED for _, t in prog) and
                all(a < b for (a, _), (b, _) in zip(prog, prog[1:])),
                "export_progress events: rising, bounded (%d, every >= 2 %%), ending at %d / %d"
                % (len(prog), N_SEED, N_SEED), repr(prog))
            tap(os.path.exists(pshot) and os.path.getsize(pshot) > 1000,
                "screenshot of the export screen half-way (progress bar) written")
            if os.environ.get("TP_USB_KIOSK_PROGRESS_SHOT") and os.path.exists(pshot):
                shutil.copy(pshot, os.environ["TP_USB_KIOSK_PROGRESS_SHOT"])
            shot = os.path.join(k.dir, "export-done.png")
            ok, _ = k.step(["screenshot " + shot], "staff_export")
            tap(ok and os.path.exists(shot) and os.path.getsize(shot) > 1000,
                "screenshot of the export screen after 'Done' written")
            if os.environ.get("TP_USB_KIOSK_SHOT") and os.path.exists(shot):
                shutil.copy(shot, os.environ["TP_USB_KIOSK_SHOT"])
            names = st.files()
            csvs = data_files(names)
            tap(len(csvs) == 1 and sorted(names) == sorted([csvs[0], csvs[0] + ".sha256"]) and
                ev.get("files") == [csvs[0], csvs[0] + ".sha256"],
                "the stick holds exactly the CSV and its .sha256 (no temp file), as traced",
                repr(names) + repr(ev.get("files")))
            if len(csvs) != 1:
                return
            raw = st.read(csvs[0])
            try:
                bom, header, rows = read_csv(raw)
            except UnicodeDecodeError as e:
                tap(False, "the CSV is UTF-8", e)
                return
            tap(bom and header == COLUMNS,
                "the CSV starts with a UTF-8 BOM, decodes as UTF-8, has the documented header",
                repr(header))
            bad = row_problems(rows, want)
            tap(not bad, "csv module reads exactly the %d database rows, field by field" % N_SEED,
                bad)
            tap({r[11] for r in rows} == {"vi", "en"} and
                all(r[15].endswith("+07:00") for r in rows),
                "Vietnamese and English answers, local time column in +07:00",
                repr({r[11] for r in rows}))
            tap(re.fullmatch(r"touchpoint-%s-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv" % DEVICE,
                             csvs[0]) is not None and csvs[0] == export_name_for(template, work),
                "file name touchpoint-<device>-<from>-<to>.csv, the CLI's name", csvs[0])
            sha = st.read(csvs[0] + ".sha256").decode()
            tap(sha == "%s  %s\n" % (hashlib.sha256(raw).hexdigest(), csvs[0]),
                "the .sha256 matches hashlib's SHA-256 of the CSV", sha)
            tap(cursor(db) == N_SEED, "the export cursor moved to %d" % N_SEED, cursor(db))

            # answers recorded while the kiosk runs: the next "new" export has only those
            for lang, v, extra in (("vi", 9, []), ("en", 3, ["--answer", "reason=choice:wait"]),
                                   ("vi", 0, ["--answer", "reason=choice:price"])):
                r = run([TP, "--db", db, "record", "--survey", "checkout-nps", "--survey-version",
                         "2", "--store", "hcm-01", "--touchpoint", "exit", "--lang", lang,
                         "--answer", "recommend=nps:%d" % v] + extra)
                if r.returncode != 0:
                    tap(False, "touchpoint record", r.stderr)
            want2 = {s: f for s, f in dump(db).items() if s > N_SEED}
            ev = k.export("export-new")
            new = [n for n in data_files(st.files()) if n not in csvs]
            rows2 = read_csv(st.read(new[0]))[2] if len(new) == 1 else []
            bad = row_problems(rows2, want2)
            tap(ev.get("outcome") == "done" and ev.get("message") == DONE % 5 and not bad,
                "a second 'new' export holds exactly the 5 answers recorded since",
                "%r %r %s" % (ev, new, bad))
            tap(cursor(db) == N_SEED + 5, "the cursor moved to %d" % (N_SEED + 5), cursor(db))
            before = st.files()
            ev = k.export("export-new")
            tap(ev.get("outcome") == "nothing_new" and ev.get("message") == NOTHING and
                st.files() == before,
                "a third 'new' export says '%s' and writes nothing" % NOTHING, repr(ev))
            ev = k.export("export-all")
            alls = [n for n in data_files(st.files()) if n not in before]
            rows3 = read_csv(st.read(alls[0]))[2] if len(alls) == 1 else []
            bad = row_problems(rows3, dump(db))
            tap(ev.get("outcome") == "done" and ev.get("message") == DONE % (N_SEED + 5) and
                not bad and cursor(db) == N_SEED + 5,
                "'everything' exports all %d rows (a free name next to the first file), cursor "
                "stays" % (N_SEED + 5), "%r %r %s" % (ev, alls, bad))
            ok, _ = k.step(["tap staff-back"], "staff")
            tap(ok, "after the export, Back returns to the staff screen")
        finally:
            rc = k.close()
            tap(rc == 0, "normal: the kiosk exits 0 at the end of the script", k.stderr())


def case_fills_up(work, template):
    db = os.path.join(work, "fill.db")
    shutil.copy(template, db)
    root = os.path.join(work, "media-fill")
    label = "1 MB stick filled up mid-export"
    k = None
    try:
        with fatimage.FatStick(size_kb=1024, name="touchpoint-usb-small", mount_root=root) as st:
            k = Kiosk(work, db, root)
            if not open_export_screen(k, label):
                return
            k.send(["tap export-new"])
            pos = stop_mid_write(k.p.pid, st.mount_point, 64 * 1024)
            if pos is not None:
                filler = os.path.join(st.mount_point, "photos.bin")
                with open(filler, "wb") as f:
                    try:
                        while True:
                            f.write(b"\0" * 16384)
                            f.flush()
                    except OSError:
                        pass
                os.kill(k.p.pid, signal.SIGCONT)
            tap(pos is not None, "%s: the kiosk was stopped while writing its temp file (%s "
                "bytes in) and the stick filled meanwhile" % (label, pos))
            ev = k.wait_for(lambda e: e.get("event") in ("usb_export", "error"))[-1]
            names = st.files()
            failure_checks(label, ev, "stick_full", ["The USB stick is full", "free space"], db, 0,
                           names)
            tap("photos.bin" in names, "%s: the other file on the stick is untouched" % label)
        good_stick_after(k, root, db, N_SEED, label)
    finally:
        if k:
            k.close()


def case_readonly(work, template):
    db = os.path.join(work, "ro.db")
    shutil.copy(template, db)
    root = os.path.join(work, "media-ro")
    label = "read-only stick"
    k = None
    try:
        with fatimage.FatStick(size_kb=4096, name="touchpoint-usb-locked", mount_root=root,
                               readonly=True) as st:
            k = Kiosk(work, db, root)
            if not open_export_screen(k, label):
                return
            usb = events(k.trace, "usb")
            tap(usb and usb[0].get("readonly") is True,
                "read-only mount: detected read-only and still offered", repr(usb))
            ev = k.export("export-new")
            failure_checks(label, ev, "read_only", ["The USB stick is read-only (write-protected)"],
                           db, 0, st.files())
        good_stick_after(k, root, db, N_SEED, label)
    finally:
        if k:
            k.close()


def case_pulled(work, template):
    db = os.path.join(work, "pull.db")
    shutil.copy(template, db)
    root = os.path.join(work, "media-pull")
    label = "stick unmounted (fusermount -uz) mid-export"
    k = None
    try:
        with fatimage.FatStick(size_kb=16384, name="touchpoint-usb-pulled", mount_root=root) as st:
            k = Kiosk(work, db, root)
            if not open_export_screen(k, label):
                return
            k.send(["tap export-new"])
            pos = stop_mid_write(k.p.pid, st.mount_point, 16 * 1024)
            if pos is not None:
                st.unmount(lazy=True)
                os.kill(k.p.pid, signal.SIGCONT)
            tap(pos is not None and not st.is_mounted,
                "%s: the kiosk was stopped while writing its temp file (%s bytes in) and the "
                "stick detached" % (label, pos))
            ev = k.wait_for(lambda e: e.get("event") in ("usb_export", "error"))[-1]
            names = st.files()  # mounts the image again (read-only, elsewhere) to look
            failure_checks(label, ev, "removed", ["The USB stick was removed before the export "
                                                  "finished", "Plug it in again"], db, 0, names)
            ok, _ = k.step([], "staff_export")
            gone = [e for e in events(k.trace, "usb") if e.get("change") == "removed"]
            tap(ok and gone, "%s: the kiosk notices the stick is gone" % label, repr(gone))
        good_stick_after(k, root, db, N_SEED, label)
    finally:
        if k:
            k.close()


def case_existing_file(work, template):
    db = os.path.join(work, "exist.db")
    shutil.copy(template, db)
    root = os.path.join(work, "media-exist")
    label = "existing file with the target name"
    name = export_name_for(db, work)
    k = None
    try:
        with fatimage.FatStick(size_kb=4096, name="touchpoint-usb-names", mount_root=root) as st:
            with open(os.path.join(st.mount_point, name), "w") as f:
                f.write("keep me\n")
            k = Kiosk(work, db, root)
            if not open_export_screen(k, label):
                return
            ev = k.export("export-new")
            files = st.files()
            other = name.replace(".csv", "-2.csv")
            rows = len(read_csv(st.read(other))[2]) if other in files else -1
            tap(ev.get("outcome") == "done" and ev.get("message") == DONE % N_SEED and
                st.read(name) == b"keep me\n" and rows == N_SEED and
                sorted(files) == sorted([name, other, other + ".sha256"]),
                "%s: the file is kept, the export takes '-2' and says Done" % label,
                "%r %r" % (ev, files))
            tap(cursor(db) == N_SEED, "%s: cursor moved after the verified export" % label,
                cursor(db))
    finally:
        if k:
            k.close()


def case_symlink(work, template):
    """FAT has no symlinks: a plain folder bind-mounted under the mount root stands for a stick
    with another file system (as test_usb_export.py does)."""
    label = "planted symlinks at the target names"
    db = os.path.join(work, "link.db")
    shutil.copy(template, db)
    name = export_name_for(db, work)
    victim = os.path.join(work, "victim.txt")
    with open(victim, "w") as f:
        f.write("secret\n")
    plain = os.path.join(work, "plainstick")
    root = os.path.join(work, "media-link")
    mp = os.path.join(root, "touchpoint-usb-ext")
    os.makedirs(plain)
    os.makedirs(mp)
    os.symlink(victim, os.path.join(plain, name))
    os.symlink(victim, os.path.join(plain, name + ".sha256"))
    os.symlink(victim, os.path.join(plain, name.replace(".csv", "-2.csv")))
    if run(["mount", "--bind", plain, mp]).returncode != 0:
        tap(True, "# SKIP %s: bind mount not permitted here" % label)
        return
    k = None
    try:
        k = Kiosk(work, db, root)
        if not open_export_screen(k, label):
            return
        ev = k.export("export-new")
        files = sorted(os.listdir(mp))
        third = name.replace(".csv", "-3.csv")
        with open(victim) as f:
            intact = f.read() == "secret\n"
        tap(ev.get("outcome") == "done" and ev.get("message") == DONE % N_SEED and intact and
            all(os.path.islink(os.path.join(mp, n)) for n in
                (name, name + ".sha256", name.replace(".csv", "-2.csv"))) and
            third in files and third + ".sha256" in files and not leftovers(
                files, (name, name + ".sha256", name.replace(".csv", "-2.csv"), third,
                        third + ".sha256")),
            "%s: neither followed nor replaced, the export takes '-3', the target of the links "
            "is untouched" % label, "%r %r" % (ev, files))
        tap(cursor(db) == N_SEED, "%s: cursor moved after the verified export" % label,
            cursor(db))
    finally:
        if k:
            k.close()
        run(["umount", mp])


def case_cancel(work, template):
    db = os.path.join(work, "cancel.db")
    shutil.copy(template, db)
    root = os.path.join(work, "media-cancel")
    label = "cancel"
    with fatimage.FatStick(size_kb=8192, name="touchpoint-usb-cancel", mount_root=root) as st:
        k = Kiosk(work, db, root, env={"TP_KIOSK_EXPORT_CANCEL": str(N_SEED // 2)})
        try:
            if not open_export_screen(k, label):
                return
            ev = k.export("export-all")
            prog = [e.get("done") for e in events(k.trace, "export_progress")]
            tap(ev.get("outcome") == "cancelled" and ev.get("rows") == 0 and
                events(k.trace, "usb_export_cancel") and prog and
                N_SEED // 2 <= prog[-1] < N_SEED and
                ev.get("message", "").startswith("Export cancelled.") and
                shown(ev).startswith("Đã hủy xuất.") and
                not events(k.trace, "error"),
                "%s: export-cancel half-way ends 'cancelled', 'Đã hủy xuất.' shown, not an "
                "error" % label, "%r %r" % (ev, prog))
            tap(not leftovers(st.files()) and cursor(db) == 0,
                "%s: nothing left on the stick, cursor unmoved" % label, repr(st.files()))
            ok, _ = k.step([], "staff_export")
            ev = k.export("export-new")
            tap(ok and ev.get("outcome") == "done" and ev.get("message") == DONE % N_SEED and
                cursor(db) == N_SEED,
                "%s: the next export works" % label, repr(ev))
        finally:
            k.close()


def case_staff_key(work, template):
    db = os.path.join(work, "key.db")
    shutil.copy(template, db)
    root = os.path.join(work, "media-key")
    label = "[usb] staff_key = true"
    k = None
    with fatimage.FatStick(size_kb=4096, name="touchpoint-usb-key", mount_root=root) as st:
        with open(os.path.join(st.mount_point, "touchpoint-staff.key"), "w") as f:
            f.write(HASH + "\n")
        try:
            k = Kiosk(work, db, root, extra="staff_key = true\nformats = csv,jsonl\n")
            ok, _ = k.step(["hold 5 5 3000"], "staff_export")
            pins = [e.get("result") for e in events(k.trace, "pin")]
            tap(ok and pins == ["usb_key"],
                "%s: the stick's touchpoint-staff.key opens the staff export screen without "
                "typing the PIN" % label, "%s %r" % (pins, k.stderr()))
            ev = k.export("export-new")
            tap(ok and ev.get("outcome") == "done" and ev.get("message") == DONE % N_SEED and
                cursor(db) == N_SEED,
                "%s: the export started from there writes all %d answers" % (label, N_SEED),
                repr(ev))
            files = st.files()
            jl = [n for n in files if n.endswith(".jsonl")]
            lines = st.read(jl[0]).decode("utf-8").splitlines() if len(jl) == 1 else []
            seqs = [json.loads(x)["seq"] for x in lines]
            tap(len(ev.get("files", [])) == 4 and jl and jl[0] + ".sha256" in files and
                seqs == list(range(1, N_SEED + 1)) and
                st.read(jl[0] + ".sha256").decode().split()[0] ==
                hashlib.sha256(st.read(jl[0])).hexdigest(),
                "[usb] formats = csv,jsonl: the kiosk also writes JSON Lines (seq 1..%d) with "
                "a matching .sha256" % N_SEED, repr(files))
            tap("touchpoint-staff.key" in st.files() and
                st.read("touchpoint-staff.key") == (HASH + "\n").encode(),
                "%s: the key file is left as it was" % label)
        finally:
            if k:
                k.close()
    # a key stick plugged in while the survey is up opens the export screen directly
    db2 = os.path.join(work, "key2.db")
    shutil.copy(template, db2)
    k = None
    try:
        k = Kiosk(work, db2, root, extra="staff_key = true\n")
        ok0, _ = k.step(["tap nps-9", "advance 5000"], "question")
        with fatimage.FatStick(size_kb=4096, name="touchpoint-usb-key2", mount_root=root) as st:
            with open(os.path.join(st.mount_point, "touchpoint-staff.key"), "w") as f:
                f.write(HASH + "\n")
            ok, _ = k.step([], "staff_export")
            tap(ok0 and ok and [e.get("result") for e in events(k.trace, "pin")] == ["usb_key"],
                "%s: a key stick plugged in on the survey screen opens the export screen "
                "directly (no PIN pad)" % label, k.stderr())
            ev = k.export("export-new")
            tap(ev.get("outcome") == "done" and ev.get("message") == DONE % (N_SEED + 1) and
                cursor(db2) == N_SEED + 1,
                "%s: the export from there writes all %d answers" % (label, N_SEED + 1),
                repr(ev))
            ok, _ = k.step(["advance 200000"], "question")
            tap(ok, "%s: the staff idle timeout returns to the survey" % label, k.stderr())
    finally:
        if k:
            k.close()
    # a key with another PIN's hash does not open anything
    with fatimage.FatStick(size_kb=4096, name="touchpoint-usb-badkey", mount_root=root) as st:
        with open(os.path.join(st.mount_point, "touchpoint-staff.key"), "w") as f:
            f.write(pin_hash("1111") + "\n")
        k = None
        try:
            k = Kiosk(work, db, root, extra="staff_key = true\n")
            ok, _ = k.step(["hold 5 5 3000"], "pin")
            tap(ok and not events(k.trace, "pin"),
                "%s: a key file with another PIN's hash leaves the PIN pad up" % label,
                k.stderr())
        finally:
            if k:
                k.close()


def main():
    print("# build: %s" % B)
    for exe in (KIOSK, TP, GEN):
        if not os.access(exe, os.X_OK):
            tap(False, "%s is built" % exe)
            print("1..%d" % count)
            return 1
    why = fatimage.fuse_problem()
    if why:
        tap(True, "# SKIP kiosk USB export on FAT images: %s" % why)
        print("1..%d" % count)
        return 0
    work = tempfile.mkdtemp(prefix="tp-usbkiosk-", dir=fatimage.scratch_dir())
    try:
        template = os.path.join(work, "template.db")
        r = run([GEN, "--db", template, "--device", DEVICE, "--answers", str(N_SEED),
                 "--seed", "7", "--days", "3"])
        if not tap(r.returncode == 0, "seeded %d answers with gen_answers" % N_SEED, r.stderr):
            print("1..%d" % count)
            return 1
        for case in (case_normal, case_fills_up, case_readonly, case_pulled, case_existing_file,
                     case_symlink, case_cancel, case_staff_key):
            try:
                case(work, template)
            except Exception as e:  # a crash in one case must not hide the others
                tap(False, "%s ran to the end" % case.__name__, "%s: %s" % (type(e).__name__, e))
    finally:
        subprocess.run(["rm", "-rf", work])
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
