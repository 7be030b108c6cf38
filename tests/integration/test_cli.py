#!/usr/bin/env python3
"""test_cli.py - runs the real `touchpoint` staff CLI ($TP_BUILD/touchpoint) against temp
databases: help and exit codes, every usage error (2) and rejected value (1, field named),
record (ids and seqs printed), stats as text and JSON against hand-computed numbers, export
(CSV parsed with the csv module: BOM, CRLF, header, rows; sha256 file; --new; JSON lines),
check on a healthy and on corrupt databases, prune. Prints TAP lines."""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402

BUILD = os.environ.get("TP_BUILD", "build")
TP = os.path.join(BUILD, "touchpoint")
ENV = dict(os.environ)
ENV.setdefault("TZ", "Asia/Ho_Chi_Minh")
ENV.pop("TOUCHPOINT_DB", None)
os.environ["TZ"] = ENV["TZ"]
time.tzset()

COLUMNS = ["seq", "answer_id", "session_id", "device_id", "epoch", "survey_id", "survey_version",
           "question_id", "kind", "value", "choice_id", "lang", "store_id", "touchpoint_id",
           "time_utc", "time_local", "clock_trusted", "flags", "sync_state"]
CRLF = b"\r\n"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def tp(*args, db=None, env=None):
    cmd = [TP] + (["--db", db] if db else []) + list(args)
    e = dict(ENV)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, timeout=120, env=e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


BASE = ["--survey", "checkout-nps", "--survey-version", "2", "--store", "hcm-01", "--lang", "vi"]


def record(db, touchpoint, *answers, extra=()):
    args = ["record"] + BASE + ["--touchpoint", touchpoint]
    for a in answers:
        args += ["--answer", a]
    return tp(*args, *extra, db=db)


def parse_record(out):
    lines = out.strip().splitlines()
    sess = lines[0].split() if lines else []
    ans = [l.split() for l in lines[1:]]
    return sess, ans


def check_help():
    rc, out, err = tp("--help")
    report(rc == 0 and "Commands:" in out and all(c in out for c in
           ("record", "stats", "export", "check", "prune")),
           "touchpoint --help lists the commands, exit 0", f"rc={rc} out={out[:200]}")
    for c in ("record", "stats", "export", "check", "prune"):
        rc, out, err = tp(c, "--help")
        report(rc == 0 and out.startswith("Usage: touchpoint") and c in out,
               f"touchpoint {c} --help prints its usage, exit 0", f"rc={rc} out={out[:120]}")
    rc, out, err = tp("help", "export")
    report(rc == 0 and "--out DIR" in out, "touchpoint help export", f"rc={rc}")


def check_usage_errors(db, outdir):
    cases = [
        ([], "no command", "Usage"),
        (["frobnicate"], "unknown command", "unknown command 'frobnicate'"),
        (["--bogus", "stats"], "unknown global option", "unknown option '--bogus'"),
        (["stats", "--weekly"], "unknown stats option", "unknown option '--weekly'"),
        (["stats", "--from"], "option without its value", "needs a value"),
        (["stats", "extra"], "stray argument", "unexpected argument 'extra'"),
        (["record"] + BASE + ["--answer", "recommend=nps:9"], "record without --touchpoint",
         "missing --touchpoint"),
        (["record", "--touchpoint", "exit", "--answer", "recommend=nps:9"],
         "record without --survey", "missing --survey"),
        (["record"] + BASE + ["--touchpoint", "exit"], "record without --answer",
         "missing --answer"),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "recommend"],
         "--answer without =KIND:VALUE", "expected QID=KIND:VALUE"),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "recommend=9"],
         "--answer without KIND:", "expected QID=KIND:VALUE"),
        (["export"], "export without --out", "missing --out"),
        (["export", "--out", outdir, "--all", "--new"], "export --all with --new",
         "exclude each other"),
        (["prune"], "prune without --older-than", "missing --older-than"),
        (["check", "now"], "check with a stray argument", "unexpected argument"),
    ]
    for args, what, needle in cases:
        rc, out, err = tp(*args, db=db)
        report(rc == 2 and needle in err and out == "",
               f"usage error -> exit 2 with message: {what}", f"rc={rc} err={err.strip()[:200]}")
    rc, out, err = tp("stats")
    report(rc == 2 and "--db" in err and "TOUCHPOINT_DB" in err,
           "no --db and no TOUCHPOINT_DB -> exit 2 naming both", f"rc={rc} err={err.strip()}")


def check_bad_values(db, outdir):
    cases = [
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "recommend=nps:11"],
         "nps 11", ["--answer", "recommend=nps:11", "0..10"]),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "q=csat:0"], "csat 0",
         ["--answer", "1..5"]),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "q=ces:8"], "ces 8",
         ["--answer", "1..7"]),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "q=smiley4:x"],
         "smiley4 not a number", ["--answer", "1..4"]),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "q=stars:5"], "unknown kind",
         ["unknown kind 'stars'"]),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "q=choice:wait time"],
         "choice id with a space", ["choice id 'wait time'"]),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "bad q=nps:5"],
         "question id with a space", ["question id 'bad q'"]),
        (["record", "--survey", "a b", "--survey-version", "2", "--store", "hcm-01", "--lang",
          "vi", "--touchpoint", "exit", "--answer", "q=nps:5"], "survey id", ["--survey:"]),
        (["record"] + BASE[:2] + ["--survey-version", "0", "--store", "s", "--lang", "vi",
                                  "--touchpoint", "exit", "--answer", "q=nps:5"],
         "survey version 0", ["--survey-version"]),
        (["record"] + BASE[:4] + ["--store", "hcm/01", "--lang", "vi", "--touchpoint", "exit",
                                  "--answer", "q=nps:5"], "store id", ["--store:"]),
        (["record"] + BASE[:6] + ["--lang", "v", "--touchpoint", "exit", "--answer", "q=nps:5"],
         "language", ["--lang:"]),
        (["record"] + BASE + ["--touchpoint", "", "--answer", "q=nps:5"], "empty touchpoint",
         ["--touchpoint:"]),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "q=nps:5", "--flag", "fast"],
         "unknown flag", ["--flag", "fast"]),
        (["record"] + BASE + ["--touchpoint", "exit", "--answer", "q=nps:5", "--session", "xyz"],
         "session not a UUID", ["--session"]),
        (["stats", "--by", "week"], "stats --by week", ["--by", "week"]),
        (["stats", "--from", "2026-13-01"], "stats --from month 13", ["--from", "2026-13-01"]),
        (["stats", "--to", "yesterday"], "stats --to word", ["--to", "yesterday"]),
        (["stats", "--from", "2026-11-10", "--to", "2026-11-01"], "stats from after to",
         ["--from 2026-11-10 is after --to 2026-11-01"]),
        (["export", "--out", outdir, "--format", "xml"], "export --format xml",
         ["--format", "xml"]),
        (["export", "--out", outdir, "--format", "csv,csv"], "export --format csv,csv",
         ["--format", "csv,csv"]),
        (["export", "--out", outdir, "--format", "csv,"], "export --format csv,",
         ["--format", "csv,"]),
        (["export", "--out", outdir, "--device", "kiosk 1"], "export --device with a space",
         ["--device"]),
        (["prune", "--older-than", "-1"], "prune -1 days", ["--older-than", "-1"]),
        (["prune", "--older-than", "ten"], "prune ten days", ["--older-than", "ten"]),
    ]
    for args, what, needles in cases:
        rc, out, err = tp(*args, db=db)
        report(rc == 1 and all(n in err for n in needles) and out == "",
               f"bad value -> exit 1 naming the field: {what}", f"rc={rc} err={err.strip()[:200]}")
    # A well-formed but unknown session: the store refuses it, nothing is stored.
    rc, out, err = tp(*(["record"] + BASE + ["--touchpoint", "exit", "--answer", "q=nps:5",
                                             "--session",
                                             "01a20000-0000-7000-8000-000000000001"]), db=db)
    report(rc == 1 and out == "" and err.strip() != "",
           "record with an unknown session id -> exit 1, nothing printed", f"rc={rc} err={err}")


def check_record_and_stats(db, outdir):
    # Hand-made data (all today): per kind the expected figures are computed below by hand.
    sessions = [
        ("exit", ["recommend=nps:10", "reason=choice:wait_time"]),
        ("exit", ["recommend=nps:9", "reason=choice:wait_time"]),
        ("exit", ["recommend=nps:9", "reason=choice:price"]),
        ("exit", ["recommend=nps:8"]),
        ("exit", ["recommend=nps:7"]),
        ("checkout", ["recommend=nps:6"]),
        ("checkout", ["recommend=nps:0"]),
        ("checkout", ["recommend=nps:10"]),
        ("checkout", ["satisfied=csat:5", "effort=ces:7", "mood=smiley4:4"]),
        ("checkout", ["satisfied=csat:4", "effort=ces:5", "mood=smiley4:3"]),
        ("checkout", ["satisfied=csat:3", "effort=ces:3", "mood=smiley4:1"]),
        ("checkout", ["satisfied=csat:1", "effort=ces:6"]),
    ]
    seqs = []
    all_ok = True
    detail = ""
    for touch, answers in sessions:
        rc, out, err = record(db, touch, *answers)
        sess, ans = parse_record(out)
        ok = (rc == 0 and len(sess) == 2 and sess[0] == "session" and UUID_RE.match(sess[1])
              and len(ans) == len(answers))
        for a, want in zip(ans, answers):
            ok = ok and len(a) == 6 and a[0] == "answer" and UUID_RE.match(a[1]) and \
                a[2] == "seq" and a[4] == "question" and a[5] == want.split("=")[0]
            if ok:
                seqs.append(int(a[3]))
        if not ok:
            all_ok = False
            detail = f"rc={rc} out={out!r} err={err!r}"
    report(all_ok, "record prints 'session ID' and one 'answer ID seq N question Q' per answer",
           detail)
    report(seqs == list(range(1, len(seqs) + 1)),
           "seqs are 1, 2, 3, ... with no gap and no repeat", f"seqs={seqs}")
    # One rapid repeat (excluded from stats by default).
    rc, out, err = record(db, "exit", "recommend=nps:0", extra=["--flag", "rapid_repeat"])
    report(rc == 0 and "seq 23" in out, "record --flag rapid_repeat", f"rc={rc} out={out}")
    total_answers = 23

    # Hand computation (flagged excluded): nps 10,9,9,8,7,6,0,10 -> 4 promoters, 2 detractors of 8
    exp = {"n": 22, "nps": 25.0, "csat_pct": 50.0, "ces_mean": 5.25, "ces_pct_5_7": 75.0,
           "smiley4_pct_happy": 200.0 / 3}
    rc, out, err = tp("stats", "--json", db=db)
    try:
        j = json.loads(out)
        t = j["total"]
        ok = rc == 0 and t["n"] == exp["n"] and all(
            abs(t[k] - v) < 1e-6 for k, v in exp.items() if k != "n")
        ok = ok and t["dist"]["nps"] == [1, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2]
        ok = ok and t["dist"]["csat"] == [1, 0, 1, 1, 1] and t["dist"]["ces"] == [0, 0, 1, 0, 1,
                                                                                    1, 1]
        ok = ok and t["dist"]["smiley4"] == [1, 0, 1, 1]
        ok = ok and t["n_by_kind"] == {"nps": 8, "csat": 4, "ces": 4, "smiley4": 3, "choice": 3}
        ok = ok and t["choices"] == [{"id": "wait_time", "n": 2}, {"id": "price", "n": 1}]
        report(ok, "stats --json totals equal the hand-computed n, NPS 25, CSAT 50%, CES 5.25 / "
               "75%, smiley 66.7%, distributions, choices", f"rc={rc} total={t}")
    except (ValueError, KeyError, TypeError) as e:
        report(False, "stats --json parses", f"{e}: rc={rc} out={out[:300]} err={err}")

    rc, out, err = tp("stats", "--json", "--all", db=db)
    try:
        t = json.loads(out)["total"]
        report(rc == 0 and t["n"] == 23 and abs(t["nps"] - (4 - 3) / 9 * 100) < 1e-6,
               "stats --all counts the rapid repeat: n 23, NPS 11.1", f"total={t}")
    except (ValueError, KeyError) as e:
        report(False, "stats --all --json parses", f"{e}: {out[:200]}")

    today = time.strftime("%Y-%m-%d", time.localtime())
    rc, out, err = tp("stats", "--json", "--by", "day", db=db)
    try:
        j = json.loads(out)
        rows = j["rows"]
        report(rc == 0 and len(rows) == 1 and rows[0]["key"] == today and rows[0]["n"] == 22
               and j["to"] == today and j["by"] == "day",
               "stats --by day: one row for today (local date)", f"rows={rows} to={j.get('to')}")
    except (ValueError, KeyError) as e:
        report(False, "stats --by day --json parses", f"{e}: {out[:200]}")

    rc, out, err = tp("stats", "--json", "--by", "touchpoint", db=db)
    try:
        rows = {r["key"]: r for r in json.loads(out)["rows"]}
        # exit: nps 10,9,9,8,7 (3 promoters of 5 -> +60) + 3 choices; checkout: the rest
        ok = rc == 0 and set(rows) == {"exit", "checkout"} and rows["exit"]["n"] == 8 and \
            abs(rows["exit"]["nps"] - 60.0) < 1e-6 and rows["checkout"]["n"] == 14 and \
            abs(rows["checkout"]["nps"] - (1 - 2) / 3 * 100) < 1e-6 and \
            rows["exit"]["csat_pct"] is None
        report(ok, "stats --by touchpoint: exit n 8 NPS +60, checkout n 14 NPS -33.3, null where "
               "no answer", f"rows={ {k: (v['n'], v['nps']) for k, v in rows.items()} }")
    except (ValueError, KeyError) as e:
        report(False, "stats --by touchpoint --json parses", f"{e}: {out[:200]}")

    rc, out, err = tp("stats", "--json", "--by", "question", db=db)
    try:
        rows = {r["key"]: r["n"] for r in json.loads(out)["rows"]}
        report(rows == {"recommend": 8, "reason": 3, "satisfied": 4, "effort": 4, "mood": 3},
               "stats --by question counts per question", f"rows={rows}")
    except (ValueError, KeyError) as e:
        report(False, "stats --by question --json parses", f"{e}: {out[:200]}")

    rc, out, err = tp("stats", db=db)
    lines = [l for l in out.splitlines() if l.startswith("total")]
    ok = rc == 0 and len(lines) == 1 and lines[0].split()[1:] == ["22", "+25.0", "50.0", "5.25",
                                                                   "75.0", "66.7"]
    report(ok and "nps" in out and "9:2" in out and "wait_time:2" in out,
           "stats text table: total row n 22, NPS +25.0, CSAT 50.0, CES 5.25, 75.0, smiley 66.7, "
           "distribution lines", f"rc={rc} out={out}")

    rc, out, err = tp("stats", "--json", "--from", "2020-01-01", "--to", "2020-01-31", db=db)
    try:
        j = json.loads(out)
        report(rc == 0 and j["rows"] == [] and j["total"]["n"] == 0 and j["total"]["nps"] is None,
               "stats over an empty range: no rows, n 0, NPS null", f"{j}")
    except (ValueError, KeyError) as e:
        report(False, "stats empty range parses", f"{e}: {out[:200]}")
    rc, out, err = tp("stats", "--from", "2020-01-01", "--to", "2020-01-31", db=db)
    report(rc == 0 and "no answers" in out, "stats text over an empty range says 'no answers'",
           out)
    rc, out, err = tp("stats", "--json", env={"TOUCHPOINT_DB": db})
    report(rc == 0 and json.loads(out or "{}").get("total", {}).get("n") == 22,
           "TOUCHPOINT_DB is used when --db is absent", f"rc={rc} err={err}")
    return total_answers


def read_csv(path):
    raw = open(path, "rb").read()
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return raw, rows


def check_export(db, outdir, total):
    rc, out, err = tp("export", "--out", outdir, "--device", "kiosk-01", db=db)
    m = re.match(r"exported (\d+) answers \(seq (\d+)\.\.(\d+), (\d+) bytes\) to (\S+)\n", out)
    if not report(rc == 0 and m is not None, "export --out writes a file and says so",
                  f"rc={rc} out={out} err={err}"):
        return
    path = m.group(5)
    name = os.path.basename(path)
    today = time.strftime("%Y-%m-%d", time.localtime())
    report(name == f"touchpoint-kiosk-01-{today}-{today}.csv" and
           os.path.dirname(path) == outdir.rstrip("/"),
           "file name touchpoint-<device>-<from>-<to>.csv with local dates", name)
    raw, rows = read_csv(path)
    report(raw[:3] == b"\xef\xbb\xbf", "CSV starts with the UTF-8 BOM", repr(raw[:8]))
    report(raw.count(b"\r\n") == total + 1 and raw.count(b"\n") == total + 1,
           "every line ends with CRLF (RFC 4180)", f"crlf={raw.count(CRLF)}")
    try:
        raw.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    report(utf8, "the file is valid UTF-8")
    report(rows[0] == COLUMNS, "header row has the documented columns", f"{rows[0]}")
    body = rows[1:]
    report(len(body) == total and [int(r[0]) for r in body] == list(range(1, total + 1)),
           "one row per answer, in seq order", f"{len(body)} rows")
    by = {int(r[0]): dict(zip(COLUMNS, r)) for r in body}
    r1, r2 = by[1], by[2]
    ok = (r1["kind"] == "nps" and r1["value"] == "10" and r1["choice_id"] == "" and
          r2["kind"] == "choice" and r2["value"] == "" and r2["choice_id"] == "wait_time" and
          r1["lang"] == "vi" and r1["device_id"] == "kiosk-01" and r1["store_id"] == "hcm-01" and
          r1["touchpoint_id"] == "exit" and r1["survey_version"] == "2" and
          r1["sync_state"] == "pending" and r1["session_id"] == r2["session_id"] and
          r1["time_utc"].endswith("Z") and r1["time_local"].endswith("+07:00") and
          by[23]["flags"] == "rapid_repeat" and r1["flags"] == "")
    report(ok, "CSV fields: nps value / choice id, lang vi, device, UTC Z and +07:00 local time, "
           "flags", f"{r1} {r2}")
    sha_path = path + ".sha256"
    want = hashlib.sha256(raw).hexdigest() + "  " + name + "\n"
    got = open(sha_path, encoding="ascii").read() if os.path.exists(sha_path) else ""
    report(got == want, ".sha256 file matches hashlib.sha256 in sha256sum format", got)
    p = subprocess.run(["sha256sum", "-c", name + ".sha256"], cwd=outdir, capture_output=True)
    report(p.returncode == 0, "sha256sum -c accepts it", p.stdout.decode() + p.stderr.decode())
    report(not [f for f in os.listdir(outdir) if f.endswith(".tmp")], "no temp file left")

    rc, out, err = tp("check", db=db)
    report(f"export cursor    {total} (0 answers not exported)" in out,
           "check shows the cursor at the last exported seq", out)

    # Two new answers: --new has only them.
    rc1, out1, _ = record(db, "exit", "recommend=nps:3")
    rc2, out2, _ = record(db, "exit", "recommend=nps:4")
    rc, out, err = tp("export", "--out", outdir, "--new", "--device", "kiosk-01", db=db)
    m = re.match(r"exported (\d+) answers \(seq (\d+)\.\.(\d+), (\d+) bytes\) to (\S+)\n", out)
    if report(rc == 0 and m is not None and m.group(1) == "2", "second export --new: 2 answers",
              f"rc={rc} out={out} err={err}"):
        raw2, rows2 = read_csv(m.group(5))
        report([int(r[0]) for r in rows2[1:]] == [total + 1, total + 2] and
               [r[9] for r in rows2[1:]] == ["3", "4"] and
               m.group(5).endswith(f"-{today}-2.csv"),
               "the --new file has only the new rows, under the -2 name",
               f"{m.group(5)} {rows2[1:]}")
    rc, out, err = tp("export", "--out", outdir, db=db)
    report(rc == 0 and out.startswith("nothing new to export"),
           "a third export has nothing new, exit 0", f"rc={rc} out={out}")

    rc, out, err = tp("export", "--out", outdir, "--all", "--format", "jsonl", db=db)
    m = re.search(r" to (\S+\.jsonl)\n", out)
    if report(rc == 0 and m is not None, "export --all --format jsonl", f"rc={rc} {out} {err}"):
        lines = open(m.group(1), encoding="utf-8").read().splitlines()
        objs = [json.loads(l) for l in lines]
        report(len(objs) == total + 2 and objs[1]["choice_id"] == "wait_time" and
               objs[1]["value"] is None and objs[0]["value"] == 10 and
               objs[22]["flags"] == ["rapid_repeat"] and objs[0]["lang"] == "vi",
               "JSON lines: one object per answer, null value for a choice", f"{len(objs)}")

    before = open(path, "rb").read()
    missing = os.path.join(outdir, "no-such-stick")
    rc, out, err = tp("export", "--out", missing, "--all", db=db)
    report(rc == 1 and missing in err and "no such folder" in err,
           "export to a missing folder -> exit 1 naming it", f"rc={rc} err={err}")
    report(open(path, "rb").read() == before, "earlier exports are never rewritten")
    rc, out, err = tp("check", db=db)
    report(f"export cursor    {total + 2} (0 answers not exported)" in out,
           "a failed export leaves the cursor where it was", out)


def check_export_both_formats(tmp):
    """--format csv,jsonl: both files over the same answers, the cursor moved once."""
    db = os.path.join(tmp, "both.db")
    outdir = os.path.join(tmp, "both-out")
    os.mkdir(outdir)
    for v in (7, 8, 9):
        record(db, "exit", "recommend=nps:%d" % v)
    cur = 0
    for want in ((1, 3), (4, 5)):
        if want[0] == 4:
            record(db, "exit", "recommend=nps:1", "reason=choice:wait_time")
        rc, out, err = tp("export", "--out", outdir, "--new", "--format", "csv,jsonl",
                          "--device", "kiosk-01", db=db)
        files = re.findall(
            r"exported (\d+) answers \(seq (\d+)\.\.(\d+), \d+ bytes\) to (\S+)\n", out)
        rng = (str(want[1] - want[0] + 1), str(want[0]), str(want[1]))
        ok = (rc == 0 and len(files) == 2 and files[0][3].endswith(".csv") and
              files[1][3].endswith(".jsonl") and all(f[:3] == rng for f in files) and
              f"export cursor {cur} -> {want[1]}\n" in out)
        if not report(ok, "export --new --format csv,jsonl: a CSV and a JSON Lines file, seq "
                      f"{want[0]}..{want[1]} in both, cursor {cur} -> {want[1]} once",
                      f"rc={rc} {out} {err}"):
            return
        _, crows = read_csv(files[0][3])
        jrows = [json.loads(l) for l in open(files[1][3], encoding="utf-8").read().splitlines()]
        report([int(r[0]) for r in crows[1:]] == [o["seq"] for o in jrows] ==
               list(range(want[0], want[1] + 1)) and
               [r[1] for r in crows[1:]] == [o["answer_id"] for o in jrows],
               f"seq {want[0]}..{want[1]}: both files hold the same answers (seq and answer id)",
               f"{crows} {jrows}")
        for f in files:
            p = subprocess.run(["sha256sum", "-c", os.path.basename(f[3]) + ".sha256"],
                               cwd=outdir, capture_output=True)
            report(p.returncode == 0, f"sha256sum -c accepts {os.path.basename(f[3])}.sha256")
        cur = want[1]
    rc, out, err = tp("export", "--out", outdir, "--format", "csv,jsonl", db=db)
    report(rc == 0 and out.startswith("nothing new to export") and len(os.listdir(outdir)) == 8,
           "export --format csv,jsonl with nothing new writes nothing", f"rc={rc} {out}")


def check_check_and_prune(tmp, db):
    rc, out, err = tp("check", db=db)
    ok = (rc == 0 and "integrity        ok" in out and "highest seq      25" in out and
          "seq gaps         none" in out and "25 pending, 0 synced, 0 rejected" in out and
          "last sync        never" in out and re.search(r"epoch\s+[0-9a-f-]{36}", out))
    report(ok, "check on a healthy database: exit 0, counts, highest seq, no gaps, epoch",
           f"rc={rc} out={out} err={err}")

    rc, out, err = tp("prune", "--older-than", "0", db=db)
    report(rc == 0 and "pruned 0 answers" in out,
           "prune keeps answers that are not synced (exit 0, 0 pruned)", f"rc={rc} {out} {err}")
    rc, out, err = tp("check", db=db)
    report("25 pending" in out and "highest seq      25" in out, "nothing lost after prune",
           out)

    # Not a database at all.
    bad = os.path.join(tmp, "garbage.db")
    with open(bad, "wb") as f:
        f.write(b"this is not an SQLite database, just a text file\n" * 200)
    rc, out, err = tp("check", db=bad)
    report(rc == 1 and bad in err and "corrupt" in err.lower(),
           "check on a non-database file: exit 1, names the file and 'corrupt'",
           f"rc={rc} err={err}")
    report(os.path.exists(bad) and not [f for f in os.listdir(tmp) if ".corrupt-" in f],
           "check is read-only: the corrupt file is not moved aside")

    # A real database with damaged pages: copy the healthy one, then overwrite its middle.
    dmg = os.path.join(tmp, "damaged.db")
    rc, _, _ = tp("check", db=db)  # the healthy db is closed again; copy main file only
    shutil.copyfile(db, dmg)
    size = os.path.getsize(dmg)
    with open(dmg, "r+b") as f:
        for off in range(4096, size, 4096):
            f.seek(off + 16)
            f.write(b"\xde\xad\xbe\xef" * 64)
    rc, out, err = tp("check", db=dmg)
    report(rc == 1 and dmg in err and "corrupt" in (err + out).lower(),
           "check on a database with damaged pages: exit 1 with the file and cause",
           f"rc={rc} out={out[-300:]} err={err}")

    # Recording into the garbage file recovers: the file is moved aside, a new epoch starts,
    # and check reports the recovery. Its seq sidecar marks it as a store of ours (a damaged
    # one); without it the file is refused untouched (check_not_ours).
    with open(bad + ".seqmark", "w") as f:
        f.write("touchpoint-seqmark 1\n0\n")
    rc, out, err = record(bad, "exit", "recommend=nps:9")
    moved = [f for f in os.listdir(tmp) if f.startswith("garbage.db.corrupt-")]
    report(rc == 0 and "seq 1 " in out and len(moved) == 1,
           "record on a corrupt file recovers: old file moved aside, recording works",
           f"rc={rc} out={out} err={err} moved={moved}")
    rc, out, err = tp("check", db=bad)
    events = out.split("events (newest first):")[-1]
    report(rc == 0 and "recovered from" in out and "garbage.db.corrupt-" in out and
           "moved aside" in events,
           "check reports the recovery (recovered from ..., and the event in the log)",
           f"rc={rc} out={out}")


def check_failures_name_the_file(tmp):
    path = os.path.join(tmp, "no", "such", "dir", "answers.db")
    rc, out, err = record(path, "exit", "recommend=nps:9")
    report(rc == 1 and path in err and out == "",
           "an unopenable database -> exit 1, the message names the file", f"rc={rc} err={err}")
    rc, out, err = tp("stats", db=os.path.join(tmp, "absent.db"))
    report(rc == 1 and "absent.db" in err, "stats on a missing database -> exit 1 naming it",
           f"rc={rc} err={err}")


def snapshot(folder):
    """Every name in folder (recursively) with its bytes and mtime, to prove nothing changed."""
    snap = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            data = b""
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as f:
                    data = f.read()
            snap[os.path.relpath(p, folder)] = (st.st_mtime_ns, st.st_size,
                                                hashlib.sha256(data).hexdigest())
    return snap


def check_not_ours(tmp):
    """Issue 10.5: a file that was never a Touchpoint store is refused, untouched."""
    folder = os.path.join(tmp, "notours")
    os.mkdir(folder)
    victim = os.path.join(folder, "passwd")
    shutil.copyfile("/etc/passwd", victim)
    before = snapshot(folder)
    rc, out, err = record(victim, "exit", "recommend=nps:9")
    report(rc == 1 and victim in err and
           "is not a Touchpoint database; refusing to touch it" in err and out == "",
           "record --db <a copy of /etc/passwd>: exit 1, 'is not a Touchpoint database; "
           "refusing to touch it' naming the file", f"rc={rc} out={out} err={err}")
    report(snapshot(folder) == before,
           "the text file is byte-identical and nothing was renamed or created beside it",
           f"{before} -> {snapshot(folder)}")
    for cmd in (["check"], ["check", "--quick"], ["stats"], ["stats", "--json"]):
        rc, out, err = tp(*cmd, db=victim)
        report(rc == 1 and victim in err and snapshot(folder) == before,
               f"{' '.join(cmd)} on it: exit 1 naming it, and nothing created or changed "
               "(no .suspect, -wal, -shm)", f"rc={rc} err={err} {snapshot(folder)}")


def check_readonly_commands_change_nothing(tmp, db):
    """Issue 10.6: check and stats are read-only: the folder listing, every file's bytes and
    mtime stay as they were (the store's -wal and -shm included)."""
    folder = os.path.dirname(db)
    time.sleep(0.05)  # mtimes are ns: any write from here on shows
    before = snapshot(folder)
    for cmd in (["check"], ["check", "--quick"], ["stats"], ["stats", "--json"],
                ["stats", "--by", "day"]):
        rc, out, err = tp(*cmd, db=db)
        after = snapshot(folder)
        changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
                   if before.get(k) != after.get(k)}
        report(rc == 0 and not changed,
               f"{' '.join(cmd)} on a healthy store creates and changes nothing",
               f"rc={rc} err={err} changed={changed}")
    # A store folder holding only the main file (the -wal, -shm not copied): still nothing made.
    copy = os.path.join(tmp, "copy-main-only")
    os.mkdir(copy)
    shutil.copyfile(db, os.path.join(copy, "answers.db"))
    before = snapshot(copy)
    rc, out, err = tp("check", db=os.path.join(copy, "answers.db"))
    report(rc == 0 and snapshot(copy) == before,
           "check on a store without its -wal and -shm creates neither",
           f"rc={rc} err={err} {sorted(snapshot(copy))}")


def check_missing_wal(tmp):
    """Issue 10.9: a store whose data is only in its -wal, copied without it: check says the WAL
    file is missing (not "not an initialised Touchpoint store")."""
    import sqlite3
    folder = os.path.join(tmp, "walonly")
    os.mkdir(folder)
    db = os.path.join(folder, "answers.db")
    # Another connection keeps the store open, as a running kiosk does, so the recording
    # process is not the last to close and its commits stay in the -wal.
    held = sqlite3.connect(db)
    held.execute("PRAGMA journal_mode = WAL").fetchall()
    held.execute("SELECT count(*) FROM sqlite_master").fetchall()
    rc, out, err = record(db, "exit", "recommend=nps:9")
    copy = os.path.join(tmp, "walonly-copy")
    os.mkdir(copy)
    shutil.copyfile(db, os.path.join(copy, "answers.db"))
    shutil.copyfile(db + ".seqmark", os.path.join(copy, "answers.db.seqmark"))
    held.close()
    before = snapshot(copy)
    rc, out, err = tp("check", db=os.path.join(copy, "answers.db"))
    report(rc == 1 and "answers.db-wal is missing" in err and "WAL file" in err,
           "check on a store whose data is only in a missing -wal: exit 1, 'the WAL file "
           "...-wal is missing'", f"rc={rc} out={out} err={err}")
    report(snapshot(copy) == before, "... and creates nothing (no -wal, -shm)",
           f"{sorted(snapshot(copy))}")


def on_tmpfs(tmp, name, options, what, check):
    """Runs check(mount point) on a fresh tmpfs mounted with options, then unmounts it. Mounting
    needs root: without it the check is reported as a TAP skip, never as a pass."""
    mnt = os.path.join(tmp, name)
    os.mkdir(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", mnt],
                       capture_output=True)
    if p.returncode != 0:
        report(True, f"{what} # SKIP a tmpfs ({options}) is not mountable here (needs root)")
        return
    try:
        check(mnt)
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def check_missing_folder_on_readonly_fs(tmp):
    """Issue 10.9: a database folder missing on a read-only file system says read-only, not
    "not found"."""
    def check(mnt):
        path = os.path.join(mnt, "touchpoint", "answers.db")
        rc, out, err = record(path, "exit", "recommend=nps:9")
        report(rc == 1 and "read-only" in err and "not found" not in err and
               os.path.join(mnt, "touchpoint") in err,
               "record into a missing folder on a read-only file system: exit 1, says "
               "read-only (not 'not found') and names the folder", f"rc={rc} err={err}")
    on_tmpfs(tmp, "rofs", "ro,size=1m", "missing folder on a read-only file system", check)


def check_reserve_floor(tmp):
    """Issue 10.9: with no reserve configured (the CLI; the kiosk's min_free_mb = 0) the store
    keeps its 1 MiB minimum and says so."""
    def check(mnt):
        rc, out, err = record(os.path.join(mnt, "answers.db"), "exit", "recommend=nps:9")
        report(rc == 1 and "below the reserve of 1048576" in err and
               "minimum, kept even when the configured reserve is 0" in err,
               "no reserve configured on a disk with < 1 MiB free: refused, and the message "
               "says the 1 MiB minimum is kept even for a reserve of 0", f"rc={rc} err={err}")
    on_tmpfs(tmp, "tiny", "size=1m", "the 1 MiB minimum reserve", check)


def check_strict_arguments(tmp):
    """Issue 10 item 9: export --out "" says so once, a value with a space is refused, and an
    option given twice is a usage error in every command (one helper, cli_getopt)."""
    db = os.path.join(tmp, "strict.db")
    rc, out, err = record(db, "exit", "recommend=nps:9")
    rc, out, err = tp("export", "--out", "", db=db)
    report(rc == 2 and err.count("no output folder given") == 1 and "export: export:" not in err
           and out == "", 'export --out "": usage error saying "no output folder given" once',
           f"rc={rc} err={err!r}")
    for value in (" 5", "+5", "5 "):
        rc, out, err = record(db, "exit", f"recommend=nps:{value}")
        report(rc == 1 and "is not a whole number" in err and out == "",
               f"--answer recommend=nps:{value!r} is refused", f"rc={rc} out={out} err={err}")
    rc, out, err = tp("check", db=db)
    report("highest seq      1" in out, "the refused answers stored nothing", out)
    conf = os.path.join(tmp, "none.conf")
    twice = [
        ("global --db", ["--db", db], []),
        ("record --survey", ["record", "--survey", "a", "--survey", "b", "--survey-version",
                             "1", "--store", "s", "--touchpoint", "t", "--lang", "vi",
                             "--answer", "q=nps:1"], []),
        ("stats --from", ["stats", "--from", "2026-01-01", "--from", "2026-01-02"], []),
        ("stats --json", ["stats", "--json", "--json"], []),
        ("export --out", ["export", "--out", tmp, "--out", tmp], []),
        ("export --all", ["export", "--out", tmp, "--all", "--all"], []),
        ("check --quick", ["check", "--quick", "--quick"], []),
        ("prune --older-than", ["prune", "--older-than", "0", "--older-than", "5"], []),
        ("sync --config", ["sync", "--config", conf, "--config", conf], []),
        ("pin-hash --iterations", ["pin-hash", "--iterations", "20000", "--iterations",
                                   "30000"], []),
    ]
    for label, args, _ in twice:
        rc, out, err = tp(*args, db=db)
        report(rc == 2 and "given twice" in err and out == "",
               f"{label} given twice: usage error (exit 2) naming the option",
               f"rc={rc} out={out[:200]} err={err[:300]}")
    rc, out, err = record(db, "exit", "recommend=nps:3", "reason=choice:wait",
                          extra=("--flag", "button", "--flag", "rapid_repeat"))
    report(rc == 0 and out.count("\nanswer ") == 2,
           "--answer and --flag may still be given several times", f"rc={rc} {out} {err}")


def check_readme_text_limit():
    """Issue 10 item 9: the README gives the length limit of survey texts (prompts), the same
    number survey.h enforces and survey.c's message states."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(root, "sync", "survey.h"), encoding="utf-8") as f:
        m = re.search(r"#define SURVEY_TEXT_MAX (\d+)", f.read())
    limit = m.group(1) if m else "?"
    with open(os.path.join(root, "sync", "survey.c"), encoding="utf-8") as f:
        survey_c = f.read()
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme.split("### Surveys", 1)[-1].split("\n### ", 1)[0]
    report(m is not None and f"{limit} bytes" in section and "prompt" in section and
           f"at most {limit} bytes" in survey_c,
           f"the README's survey section gives the text length limit ({limit} bytes)",
           f"limit={limit}")


def main():
    if not os.access(TP, os.X_OK):
        report(False, f"{TP} exists", "build it first (make BUILD=... all)")
        print(f"1..{n_test}")
        return 1
    tmp = tempfile.mkdtemp(prefix="test_cli.")
    try:
        db = os.path.join(tmp, "answers.db")
        outdir = os.path.join(tmp, "usb")
        os.mkdir(outdir)
        check_help()
        check_usage_errors(db, outdir)
        check_bad_values(db, outdir)
        report(not os.path.exists(db) or tp("check", db=db)[1].find("highest seq      0") >= 0,
               "rejected commands stored nothing")
        total = check_record_and_stats(db, outdir)
        check_export(db, outdir, total)
        check_export_both_formats(tmp)
        check_check_and_prune(tmp, db)
        check_failures_name_the_file(tmp)
        check_not_ours(tmp)
        check_readonly_commands_change_nothing(tmp, db)
        check_missing_wal(tmp)
        check_missing_folder_on_readonly_fs(tmp)
        check_reserve_floor(tmp)
        check_strict_arguments(tmp)
        check_readme_text_limit()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{n_test}")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
