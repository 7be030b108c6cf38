#!/usr/bin/env python3
"""test_kiosk_gpio.py - runs the real touchpoint-kiosk headless with the simulated GPIO backend
([gpio] backend = sim) and scripts on the virtual clock (`press NAME` / `release NAME` lines), and
checks its --trace output, stderr, the database and a fake sysfs backlight folder.

Covers: a button press records the mapped value with the "button" flag (same path as a tap: the
highlight frame comes first) and pulses the ack line; a bounce inside the debounce window counts
once; a stuck (held) button counts once, is reported in the journal and on the staff screen and
cleared on release; the staff key switch opens the PIN pad; the status LED goes green, amber
(answers waiting longer than amber_after_s) and red (out of order); a missing chip or a busy line
leaves touch working with the error on the staff screen; and the screen power schedule (dim after
idle, the wake-up tap records nothing, PIR wakes it, off after closing time).

Prints TAP. Uses the build folder from $TP_BUILD (default build).
"""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import test_kiosk as tk  # noqa: E402  (the Kiosk harness: config, run, database reader)
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402

PIN = tk.PIN
TP_FLAG_BUTTON = 0x2

GPIO = ("[gpio]\nbackend = sim\nbuttons = GPIO17:10, GPIO27:9, 22:3\nstaff_key_line = 5\n"
        "pir_line = 6\nled_green = 12\nled_amber = 13\nled_red = 16\nack_line = 19\n"
        "stuck_s = 10\namber_after_s = 60\n")


events = tk.events


def gpio_events(tr, what):
    return [e for e in events(tr, "gpio") if e.get("what") == what]


def test_press_records_mapped_value():
    k = tk.Kiosk(extra=GPIO)
    try:
        rc, tr, err = k.run("press 1\nrelease 1\nexpect-screen thanks\nadvance 10000\n"
                            "press GPIO27\nadvance 80\nrelease GPIO27\nexpect-screen thanks\n"
                            "advance 4000\nexpect-screen question\n")
        report(tk.check_run("press", rc, tr, err), "press/release script runs to the end, exit 0")
        ans = events(tr, "answer")
        report([a["value"] for a in ans] == [10, 9] and
               all(a["flags"] == ["button"] for a in ans),
               "button 1 -> nps 10, button GPIO27 -> nps 9, both flagged 'button' (%s)" %
               [(a["value"], a["flags"]) for a in ans])
        db = k.answers()
        report([(a["value"], a["flags"] & 0x7f) for a in db] ==
               [(10, TP_FLAG_BUTTON), (9, TP_FLAG_BUTTON)],
               "database: two answers with only TP_FLAG_BUTTON of the answer flags (%s)" %
               [(a["value"], a["flags"]) for a in db])
        first = tr.index(ans[0])
        frames = [e for e in tr[:first] if e["event"] == "frame"]
        report(frames and frames[-1].get("highlight") == "nps-10",
               "same path as a tap: the frame before the write highlights nps-10")
        acks = events(tr, "ack")
        report(len(acks) == 2 and tr.index(acks[0]) > first,
               "an acknowledgement pulse follows each recorded answer (%d)" % len(acks))
        presses = gpio_events(tr, "press")
        report([p["button"] for p in presses] == [1, 2] and
               presses[0]["input"] == "button 1 (GPIO17)",
               "gpio press events traced with button number and line")
    finally:
        k.close()


def test_followup_and_ignored():
    k = tk.Kiosk(extra=GPIO)
    try:
        # nps 3 (button 3, offset 22) opens the follow-up; there button 1 (value 10) is no option
        # of 4 (ignored), then a tap picks the reason. During the thank-you a button is ignored.
        rc, tr, err = k.run("press 22\nrelease 22\nexpect-screen followup\n"
                            "press 1\nrelease 1\nexpect-screen followup\n"
                            "tap reason-wait\nexpect-screen thanks\n"
                            "press 2\nrelease 2\nexpect-screen thanks\nadvance 4000\n")
        report(tk.check_run("followup", rc, tr, err), "follow-up script exit 0")
        ans = events(tr, "answer")
        report(len(ans) == 2 and ans[0]["value"] == 3 and ans[0]["flags"] == ["button"] and
               ans[1]["choice"] == "wait" and ans[1]["flags"] == [],
               "button 3 -> nps 3 flagged button; the touched follow-up is not flagged button")
        btn = events(tr, "button")
        report([b["accepted"] for b in btn] == [True, False, False],
               "button events accepted / ignored on the follow-up (value 10 no option) and "
               "thanks (%s)" % [b["accepted"] for b in btn])
    finally:
        k.close()


def test_bounce_counts_once():
    k = tk.Kiosk(extra=GPIO)
    try:
        rc, tr, err = k.run("press 2\nrelease 2\npress 2\nadvance 5\nrelease 2\nadvance 5\n"
                            "press 2\nadvance 500\nrelease 2\nadvance 3\npress 2\nadvance 3\n"
                            "release 2\nadvance 4000\nexpect-screen question\n")
        report(tk.check_run("bounce", rc, tr, err), "bounce script exit 0")
        report(len(k.answers()) == 1 and len(gpio_events(tr, "press")) == 1,
               "press bouncing 4 times within 30 ms, and its release bouncing: one answer "
               "(%d answers)" % len(k.answers()))
    finally:
        k.close()


def test_stuck_button():
    k = tk.Kiosk(extra=GPIO)
    try:
        rc, tr, err = k.run("press 1\nadvance 4000\nexpect-screen question\nadvance 60000\n"
                            "press 2\nrelease 2\nadvance 4000\n"
                            "press staff\nexpect-screen pin\n" + tk.pin_taps(PIN) +
                            "expect-screen staff\nrelease 1\nrelease staff\n")
        report(tk.check_run("stuck", rc, tr, err), "stuck script exit 0")
        ans = events(tr, "answer")
        report([a["value"] for a in ans] == [10, 9],
               "a button held 64 s counts once; another button still works (%s)" %
               [a["value"] for a in ans])
        stuck = gpio_events(tr, "stuck")
        report(len(stuck) == 1 and stuck[0]["input"] == "button 1 (GPIO17)" and
               stuck[0]["t"] - gpio_events(tr, "press")[0]["t"] == 10000,
               "reported stuck once, exactly 10 s after the press")
        report("button 1 (GPIO17) held for 10 s" in err, "the journal (stderr) names the stuck button")
        lines = events(tr, "staff_lines")
        report(lines and any("stuck: button 1 (GPIO17)" in ln for ln in lines[0]["lines"]),
               "the staff screen shows the stuck button (%s)" % (lines[0]["lines"] if lines else []))
        statuses = [e["text"] for e in events(tr, "hw_status")]
        report(statuses and statuses[-1] == "" and len(gpio_events(tr, "unstuck")) == 1,
               "released: unstuck traced and the staff line cleared (%s)" % statuses)
        report([e["result"] for e in events(tr, "staff_key")] == ["pin"],
               "the staff key switch opened the PIN pad")
    finally:
        k.close()


def test_leds():
    k = tk.Kiosk(extra=GPIO)
    try:
        rc, tr, err = k.run("advance 1000\ntap nps-9\nadvance 4000\nadvance 130000\n")
        report(tk.check_run("leds", rc, tr, err), "LED script exit 0")
        leds = [e["state"] for e in events(tr, "led")]
        report(leds[:2] == ["green", "amber"],
               "status LED: green at start, amber once an answer waits > 60 s (%s)" % leds)
        amber = [e for e in events(tr, "led") if e["state"] == "amber"]
        ans = events(tr, "answer")[0]
        report(amber and 60000 < amber[0]["t"] - ans["t"] <= 125000,
               "amber came 60..125 s after the answer (%d ms)" %
               (amber[0]["t"] - ans["t"] if amber else -1))
    finally:
        k.close()
    k = tk.Kiosk(extra=GPIO, db_dir="/proc/tp-no-such-dir")
    try:
        rc, tr, err = k.run("expect-screen out_of_order\nadvance 6000\n")
        leds = [e["state"] for e in events(tr, "led")]
        report(rc == 0 and leds == ["red"], "storage failure / out of order: status LED red (%s)"
               % leds)
    finally:
        k.close()


def test_gpio_start_errors():
    for chip_or_line, what in (("chip = missing\n", "chip missing"),
                               ("led_green_busy", "line busy")):
        extra = GPIO
        if chip_or_line == "led_green_busy":
            extra = extra.replace("led_green = 12", "led_green = busy")
        else:
            extra = extra + chip_or_line
        k = tk.Kiosk(extra=extra)
        try:
            rc, tr, err = k.run("tap nps-8\nadvance 4000\nhold 5 5 3000\n" + tk.pin_taps(PIN) +
                                "expect-screen staff\n")
            report(rc == 0 and [a["value"] for a in k.answers()] == [8],
                   "%s: the kiosk starts and touch still records" % what)
            opens = [e for e in events(tr, "error") if e.get("during") == "gpio_open"]
            report(opens and what.split()[0] in opens[0]["message"] and
                   "buttons and lights are off" in err,
                   "%s: a clear error in the trace and the journal (%s)" %
                   (what, err.strip()[:200]))
            lines = events(tr, "staff_lines")
            report(lines and any("gpio:" in ln and what.split()[1] in ln
                                 for ln in lines[0]["lines"]),
                   "%s: the error is on the staff screen" % what)
        finally:
            k.close()
    k = tk.Kiosk()
    try:
        rc, tr, err = k.run("press 1\n")
        report(rc == 3 and "no GPIO input '1'" in err,
               "press without the sim backend: exit 3 naming the input")
    finally:
        k.close()


def backlight(dirname):
    bl = os.path.join(dirname, "backlight", "panel")
    os.makedirs(bl)
    with open(os.path.join(bl, "max_brightness"), "w") as f:
        f.write("200\n")
    with open(os.path.join(bl, "brightness"), "w") as f:
        f.write("200\n")
    return os.path.join(dirname, "backlight")


def read_brightness(root):
    with open(os.path.join(root, "panel", "brightness")) as f:
        return int(f.read())


def test_screen_power():
    # Open from an hour ago until 10 minutes from now (local time, as the kiosk sees it).
    now = datetime.datetime.now()
    start = (now - datetime.timedelta(hours=1)).strftime("%H:%M")
    end = (now + datetime.timedelta(minutes=10)).strftime("%H:%M")
    k = tk.Kiosk(extra=GPIO)
    try:
        root = backlight(k.dir)
        with open(k.conf, "a") as f:
            f.write("[power]\nopen_hours = %s-%s\ndim_after_s = 60\ndim_level = 20\n"
                    "backlight_dir = %s\n[brand]\nattract = false\n" % (start, end, root))
        rc, tr, err = k.run("advance 59000\nexpect-screen question\nadvance 1000\n"
                            "tap nps-9\nexpect-screen question\n"
                            "tap nps-9\nexpect-screen thanks\nadvance 4000\n"
                            "advance 70000\npress pir\nrelease pir\nadvance 1000\n"
                            "advance 900000\ntap nps-7\nexpect-screen question\n")
        report(tk.check_run("power", rc, tr, err), "power script exit 0")
        pw = [(e["level"], e["reason"]) for e in events(tr, "power")]
        report(pw[:7] == [("on", "start"), ("dim", "idle"), ("on", "touch"), ("dim", "idle"),
                          ("on", "presence"), ("dim", "idle"), ("off", "closed")] and
               pw[7] == ("on", "touch"),
               "power: on, dim after 60 s idle, on at the touch, dim, on by PIR, dim, off at "
               "closing time, on at a touch (%s)" % pw)
        dim = [e for e in events(tr, "power") if e["level"] == "dim"][0]
        report(dim["t"] == 60000 and dim["percent"] == 20,
               "dimmed to 20%% exactly 60 s after start on the virtual clock (t=%d)" % dim["t"])
        report([a["value"] for a in k.answers()] == [9],
               "the wake-up taps recorded nothing; the next tap recorded nps 9 (%s)" %
               [a["value"] for a in k.answers()])
        report(all(e.get("backlight", "").endswith("/panel") for e in events(tr, "power")) and
               read_brightness(root) == 200,
               "the sysfs backlight was driven (now %d of 200 after the last wake)" %
               read_brightness(root))
    finally:
        k.close()
    k = tk.Kiosk(extra=GPIO)
    try:
        root = backlight(k.dir)
        with open(k.conf, "a") as f:
            f.write("[power]\ndim_after_s = 60\ndim_level = 20\nbacklight_dir = %s\n"
                    "[brand]\nattract = false\n" % root)
        rc, tr, err = k.run("advance 61000\n")
        report(rc == 0 and read_brightness(root) == 40,
               "dimmed: brightness file written 40 (20%% of 200), got %d" % read_brightness(root))
        report([e["overlay"] for e in events(tr, "power")] == [False, False],
               "with a sysfs backlight the picture is not darkened as well")
    finally:
        k.close()
    k = tk.Kiosk(extra=GPIO)
    try:
        with open(k.conf, "a") as f:
            f.write("[power]\ndim_after_s = 60\nbacklight_dir = %s/none\n[brand]\nattract = false\n"
                    % k.dir)
        rc, tr, err = k.run("advance 61000\ntap nps-5\nexpect-screen question\n")
        pw = [(e["level"], e["percent"], e["overlay"], e["backlight"]) for e in events(tr, "power")]
        report(rc == 0 and pw == [("on", 100, True, ""), ("dim", 10, True, ""),
                                  ("on", 100, True, "")] and not k.answers(),
               "no backlight: the picture is darkened to 10%% instead, the wake tap records "
               "nothing (%s)" % pw)
    finally:
        k.close()


def test_attract_instead_of_dim():
    """Issue 11 item 7: with [brand] attract (the default), dim_after_s alone brings the attract
    state and the screen stays lit; the opening hours still darken it; a touch ends the attract
    state and is not swallowed as a wake-up."""
    now = datetime.datetime.now()
    start = (now - datetime.timedelta(hours=1)).strftime("%H:%M")
    end = (now + datetime.timedelta(minutes=10)).strftime("%H:%M")
    k = tk.Kiosk(extra=GPIO)
    try:
        root = backlight(k.dir)
        with open(k.conf, "a") as f:
            f.write("[power]\nopen_hours = %s-%s\ndim_after_s = 60\ndim_level = 20\n"
                    "backlight_dir = %s\n" % (start, end, root))
        rc, tr, err = k.run("advance 60000\nexpect-screen question\ntap nps-9\n"
                            "expect-screen thanks\nadvance 4000\nadvance 900000\n")
        report(tk.check_run("attract", rc, tr, err), "attract script exit 0")
        at = [(e["t"], e["on"]) for e in events(tr, "attract")]
        pw = [(e["level"], e["reason"]) for e in events(tr, "power")]
        report(at[:2] == [(60000, True), (60000, False)],
               "the attract state came exactly 60 s after start and the tap ended it (%s)" % at)
        report(("dim", "idle") not in pw and pw[0] == ("on", "start") and
               ("off", "closed") in pw,
               "no idle dim (the screen stays lit), the closing time still turns it off (%s)" %
               pw)
        report([a["value"] for a in k.answers()] == [9],
               "the tap during the attract state was an answer, not a wake-up (%s)" %
               [a["value"] for a in k.answers()])
    finally:
        k.close()


def main():
    if not os.access(tk.KIOSK, os.X_OK):
        print("1..1\nnot ok 1 - %s is not built" % tk.KIOSK)
        return 1
    tests = [test_press_records_mapped_value, test_followup_and_ignored, test_bounce_counts_once,
             test_stuck_button, test_leds, test_gpio_start_errors, test_screen_power,
             test_attract_instead_of_dim]
    for t in tests:
        try:
            t()
        except Exception as e:  # a crash in one flow is a failure, not the end of the run
            report(False, "%s raised %s: %s" % (t.__name__, type(e).__name__, e))
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
