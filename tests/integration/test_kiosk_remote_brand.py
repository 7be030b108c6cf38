#!/usr/bin/env python3
"""test_kiosk_remote_brand.py - issue 12's remote "brand" settings reach the kiosk's look: a
remote-config.json in the state folder (as the sync process writes it) with settings.brand name,
accent and logo_png; the headless kiosk applies it and its attract state (after [power]
dim_after_s alone) shows the center's name (the "attract" trace event names the brand shown) and
draws the center's logo, decoded from memory (a screenshot of the attract state is made). A
logo_png that is not a PNG is not applied: the last good look stays (the local name), the error
is in config-status.json. The kiosk never talks to the network: [sync] url points nowhere.

Prints TAP. Uses the build folder from $TP_BUILD (default build).
"""
import base64
import json
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import test_kiosk as tk  # noqa: E402  (the Kiosk harness: config, run)
from tap import check as report, count as n_test, failed as n_fail  # noqa: E402

REMOTE_NAME = "Cửa hàng từ trung tâm"
LOCAL_NAME = "Local Shop"


def png(w, h, rgb):
    """A small opaque PNG of one colour."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_remote(k, revision, brand):
    with open(os.path.join(tk.SURVEYS, "checkout-nps.json"), encoding="utf-8") as f:
        survey = json.load(f)
    body = {"revision": revision,
            "device": {"id": "test-kiosk", "node": "vn/hcm/hcm-q1/checkout", "store": "hcm-q1",
                       "touchpoint": "checkout", "stage": "after"},
            "settings": {"brand": brand}, "survey": survey}
    tmp = os.path.join(k.dir, "remote-config.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(body, f, ensure_ascii=False)
    os.rename(tmp, os.path.join(k.dir, "remote-config.json"))


def kiosk():
    k = tk.Kiosk()
    token = os.path.join(k.dir, "sync.token")
    with open(token, "w") as f:
        f.write("t" * 43 + "\n")
    os.chmod(token, 0o600)
    with open(k.conf, "a") as f:
        f.write("[sync]\nurl = http://127.0.0.1:9\ntoken_file = %s\n"
                "[brand]\nattract = true\nname = %s\naccent = #0E6E6E\n"
                "[power]\ndim_after_s = 60\n" % (token, LOCAL_NAME))
    return k


def main():
    k = kiosk()
    try:
        write_remote(k, "brand-1", {"name": REMOTE_NAME, "accent": "#1A4D8F",
                                    "logo_png": base64.b64encode(png(64, 32, (26, 77, 143)))
                                    .decode()})
        shot = os.path.join(k.dir, "attract.png")
        rc, tr, err = k.run("advance 60000\nexpect-screen question\nscreenshot %s\n" % shot)
        cfg = tk.events(tr, "config")
        report(rc == 0 and cfg and cfg[0].get("result") == "applied" and
               cfg[0].get("running") == "brand-1",
               "the remote configuration with a brand is applied at start (%s)%s"
               % (cfg, "" if rc == 0 else err[-500:]))
        at = [e for e in tk.events(tr, "attract") if e.get("on")]
        report(at and at[0].get("brand") == REMOTE_NAME,
               "the attract state shows the center's brand name (%s)" % at)
        report(os.path.exists(shot) and os.path.getsize(shot) > 1000,
               "the attract state with the center's logo and accent is drawn (screenshot)")
    finally:
        k.close()

    k = kiosk()
    try:
        write_remote(k, "brand-bad", {"name": REMOTE_NAME,
                                      "logo_png": base64.b64encode(b"not a picture").decode()})
        rc, tr, err = k.run("advance 60000\nexpect-screen question\n")
        cfg = tk.events(tr, "config")
        at = [e for e in tk.events(tr, "attract") if e.get("on")]
        try:
            with open(os.path.join(k.dir, "config-status.json")) as f:
                status = json.load(f)
        except (OSError, ValueError):
            status = {}
        report(rc == 0 and cfg and cfg[0].get("result") == "error" and
               at and at[0].get("brand") == LOCAL_NAME and status.get("error"),
               "a logo_png that is not a PNG is not applied: the local brand stays, the error "
               "is reported (%s, %s)" % (cfg, status))
    finally:
        k.close()
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
