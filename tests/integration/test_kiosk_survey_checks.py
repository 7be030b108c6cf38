#!/usr/bin/env python3
"""test_kiosk_survey_checks.py - the kiosk refuses a survey it cannot show, before any customer
sees it:

  - at start, [language] available names a language the survey lacks: exit 2, and the message
    names the config file, the key and the survey file;
  - at start, a survey text holds a character the font lacks (an emoji, U+1F600): exit 2, and the
    message names the survey file, the JSON path of the text and U+1F600;
  - in staff mode, switching to such a survey is refused: the staff screen comes back with the
    reason as its note (traced as an "error" event), and the running survey stays.

Prints TAP. Uses the build folder from $TP_BUILD (default build).
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402
from test_kiosk import PIN, SURVEYS, Kiosk, check_run, events, pin_taps  # noqa: E402

EMOJI = "\U0001F600"


def use_survey(k, path, directory=None):
    """Points k's config at the survey file path (and the survey directory at directory)."""
    with open(k.conf) as f:
        text = f.read()
    text = text.replace("file = %s\n" % os.path.join(SURVEYS, "checkout-nps.json"),
                        "file = %s\n" % path)
    if directory:
        text = text.replace("directory = %s\n" % SURVEYS, "directory = %s\n" % directory)
    with open(k.conf, "w") as f:
        f.write(text)


def emoji_survey(dst):
    """Writes service-csat with an emoji in its first prompt (vi) to dst."""
    with open(os.path.join(SURVEYS, "service-csat.json"), encoding="utf-8") as f:
        doc = json.load(f)
    doc["questions"][0]["prompt"]["vi"] += " " + EMOJI
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)


def test_missing_language():
    k = Kiosk(extra="[language]\navailable = vi,en,fr\n")
    try:
        rc, tr, err = k.run("expect-screen question\n")
        survey = os.path.join(SURVEYS, "checkout-nps.json")
        report(rc == 2 and k.conf in err and "[language] available" in err and "'fr'" in err and
               survey in err and not events(tr, "answer"),
               "[language] available lists 'fr', which the survey lacks: exit 2, the message "
               "names the config file, the key and the survey (%s)" % err.strip())
    finally:
        k.close()


def test_emoji_at_start():
    k = Kiosk()
    try:
        bad = os.path.join(k.dir, "emoji.json")
        emoji_survey(bad)
        use_survey(k, bad)
        rc, tr, err = k.run("expect-screen question\n")
        report(rc == 2 and "%s: $.questions[0].prompt.vi: character U+1F600" % bad in err,
               "a survey text with an emoji the font lacks: exit 2, the message names the file, "
               "the JSON path and U+1F600 (%s)" % err.strip())
    finally:
        k.close()


def test_emoji_staff_switch():
    k = Kiosk()
    try:
        d = os.path.join(k.dir, "surveys")
        os.mkdir(d)
        good = os.path.join(d, "checkout-nps.json")
        shutil.copy(os.path.join(SURVEYS, "checkout-nps.json"), good)
        emoji_survey(os.path.join(d, "emoji.json"))
        use_survey(k, good, d)
        idx = sorted(f for f in os.listdir(d) if f.endswith(".json")).index("emoji.json")
        rc, tr, err = k.run(
            "hold 5 5 3000\n" + pin_taps(PIN) + "tap staff-survey\nexpect-screen staff_survey\n"
            "tap survey-%d\nexpect-screen staff\ntap staff-back\nexpect-screen question\n"
            "tap nps-9\nexpect-screen thanks\n" % idx)
        errs = [e.get("message", "") for e in events(tr, "error")]
        report(check_run("switch", rc, tr, err) and any("emoji.json: $.questions[0].prompt.vi: character U+1F600" in m
                               for m in errs) and not events(tr, "survey"),
               "staff switch to a survey with an emoji: refused, the staff screen shows the reason "
               "(%s)" % errs)
        db = k.answers()
        report(len(db) == 1 and db[0]["survey"] == "checkout-nps" and db[0]["kind"] == "nps",
               "after the refused switch the running survey stays (%s)" % db)
    finally:
        k.close()


def test_brand_refused():
    """[brand]: an accent too pale to read stops the kiosk at start with exit 2 and a message
    naming the config file and the cause; a logo that is missing or not a picture is said the
    same way on stderr, and the kiosk runs without it (a picture must not keep customers from
    the survey)."""
    k = Kiosk()
    try:
        junk = os.path.join(k.dir, "logo.png")
        with open(junk, "w") as f:
            f.write("not a picture\n")
        for extra, want, want_rc, what in (
                ("[brand]\nlogo = %s\n" % os.path.join(k.dir, "missing.svg"),
                 "[brand] logo: ui: logo %s: cannot decode" % os.path.join(k.dir, "missing.svg"),
                 0, "a missing logo: said, then the kiosk runs without it"),
                ("[brand]\nlogo = %s\n" % junk, "[brand] logo: ui: logo %s: cannot decode" % junk,
                 0, "a logo that is no picture: said, then the kiosk runs without it"),
                ("[brand]\naccent = #A0E0E0\n", "[brand]: ui: accent #A0E0E0 reads", 2,
                 "a pale accent: exit 2")):
            with open(k.conf) as f:
                base = f.read().split("[brand]")[0]
            with open(k.conf, "w") as f:
                f.write(base + extra)
            rc, tr, err = k.run("expect-screen question\n")
            report(rc == want_rc and "%s: %s" % (k.conf, want) in err and
                   (want_rc != 0 or [e["ok"] for e in events(tr, "expect")] == [True]),
                   "%s; the message names the config, the file and the cause (%s)" %
                   (what, err.strip()))
    finally:
        k.close()


def main():
    test_missing_language()
    test_emoji_at_start()
    test_emoji_staff_switch()
    test_brand_refused()
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
