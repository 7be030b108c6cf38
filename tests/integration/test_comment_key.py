#!/usr/bin/env python3
"""test_comment_key.py - the comment key (issue 15) with the real touchpoint-collector, on SQLite
and on a real PostgreSQL (tests/support/pgserver.py), the same checks for both:

the collector issues each device its own comment key (32 random bytes, base64url, never the
token) at `device add`, at rotate-token and with the token of an approved enrollment, makes one
on the first GET /v1/config for a row that holds a placeholder (an imported device), and delivers
it in that authenticated reply as "comment": {"key", "url": "<public-url>/c"} only with
--public-url and only to the device whose token asks; the batch reply's config_revision is the
revision of that very body (the device is not left "pending"), and a new key is a new revision.
A link signed with the key, computed here from the contract (HMAC-SHA256, not the C code), is
the one the page will check (the C side is test_clink, test_kiosk and test_ui_comment).

Stdlib only. Every server started here is stopped in a finally block. Prints TAP lines.
"""

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pgserver  # noqa: E402
import synclib  # noqa: E402
from synclib import fleet_cli, fleet_token  # noqa: E402
from tap import check as check_tap, count as N, failed as FAILED  # noqa: E402

NODE = "vn/hcm/hcm-q1/checkout"


def request(c, method, path, body=None, token=None, headers=None):
    return synclib.http_request(c.port, method, path, body, token, headers)

def key_ok(k):
    """43 characters of base64url that decode to exactly 32 bytes."""
    if not isinstance(k, str) or len(k) != 43:
        return False
    try:
        raw = base64.urlsafe_b64decode(k + "=")
    except ValueError:
        return False
    return len(raw) == 32 and base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == k


def mac(key, device, session, x):
    """The link's mac from the contract (CONTRACT.md "Comment link")."""
    raw = base64.urlsafe_b64decode(key + "=")
    msg = ("tp-comment-v1\n%s\n%s\n%s\n" % (device, session, x)).encode()
    return base64.urlsafe_b64encode(hmac.new(raw, msg, hashlib.sha256).digest()[:16]) \
        .rstrip(b"=").decode()


def batch(dev_id, seq, **dev):
    d = {"id": dev_id, "epoch": "0192e4a8-1111-7abc-8def-001122334455", "epoch_first_seq": 1,
         "app_version": "0.1.0", "pending": 0, "highest_seq": seq, "disk_free": 1 << 30,
         "clock_trusted": True, "sent_wall_ms": int(time.time() * 1000), "sent_mono_ms": 100000,
         "boot_id": "0b0b0b0b-0000-4000-8000-000000000001"}
    d.update(dev)
    a = {"id": str(uuid.uuid4()), "seq": seq, "session": str(uuid.uuid4()),
         "survey": "checkout-nps", "survey_version": 1, "question": "recommend", "kind": "nps",
         "value": 9, "choice": None, "lang": "vi", "store": "hcm-q1", "touchpoint": "checkout",
         "wall_ms": int(time.time() * 1000), "clock_trusted": True, "mono_ms": 1000,
         "boot_id": "0b0b0b0b-0000-4000-8000-000000000001", "flags": []}
    return {"protocol": 1, "batch_id": str(uuid.uuid4()), "device": d, "answers": [a]}


def sqlite_key(path):
    def stored_key(dev):
        con = sqlite3.connect(path)
        try:
            row = con.execute("SELECT comment_key FROM fleet_devices WHERE id = ?",
                              (dev,)).fetchone()
            return row[0] if row else None
        finally:
            con.close()
    return stored_key


def pg_key(pg):
    def stored_key(dev):
        assert all(ch.isalnum() or ch in "-_." for ch in dev)  # a test id, quoted below
        out = pg.psql("SELECT comment_key FROM fleet_devices WHERE id = '%s'" % dev)
        return out or None
    return stored_key


def main():
    work = synclib.scratch_dir("comment_key")
    run_backend("sqlite:" + os.path.join(work, "c.db"), work, "sqlite",
                sqlite_key(os.path.join(work, "c.db")))
    if not pgserver.available():
        print("ok %d - # SKIP no PostgreSQL server binaries" % (N.value + 1))
        N.value += 1
    else:
        with pgserver.PgServer() as pg:
            run_backend(pg.url, work, "postgresql", pg_key(pg))
    print("1..%d" % N)
    return 1 if FAILED else 0


def run_backend(store, work, label, stored_key_of):
    print("# %s: the comment key: issued, delivered only to its device, never the token" % label)
    db = None

    def tap(ok, what, why=""):
        return check_tap(ok, "%s: %s" % (label, what), why)

    def stored_key(_db, dev):
        return stored_key_of(dev)
    c = plain = None
    try:
        tokens = synclib.fleet_setup(store, ["k1", "k2"], node=NODE)
        k1_added = stored_key(db, "k1")
        tap(key_ok(k1_added) and key_ok(stored_key(db, "k2")) and k1_added != stored_key(db, "k2"),
            "device add issues each device its own key (32 random bytes, base64url)", k1_added)
        c = synclib.Collector(store, None, work, extra=["--public-url", "https://fb.example.vn/"],
                              name="pub-" + label).start()
        st, hd, cfg1, raw1 = request(c, "GET", "/v1/config", token=tokens["k1"])
        cm = (cfg1 or {}).get("comment") or {}
        tap(st == 200 and cm.get("key") == k1_added and cm.get("url") == "https://fb.example.vn/c",
            "GET /v1/config (k1's token) carries \"comment\": {key, url = <public-url>/c}", cm)
        tap(key_ok(cm.get("key")) and cm.get("key") != tokens["k1"]
            and tokens["k1"].encode() not in raw1 and cm.get("key") not in tokens["k1"],
            "the key is not the token, and the token is nowhere in the reply")
        st2, _, cfg2, raw2 = request(c, "GET", "/v1/config", token=tokens["k2"])
        tap(st2 == 200 and cfg2["comment"]["key"] != cm.get("key")
            and cm.get("key", "-").encode() not in raw2,
            "k2's reply carries k2's key, never k1's")
        st3, _, _, raw3 = request(c, "GET", "/v1/config")
        st4, _, _, raw4 = request(c, "GET", "/v1/config", token="x" * 43)
        tap(st3 == 401 and st4 == 401 and b"comment" not in raw3 + raw4,
            "without a device token (none, or a wrong one): 401 and no key")
        etag = hd.get("etag")
        st5, _, _, _ = request(c, "GET", "/v1/config", token=tokens["k1"],
                               headers={"If-None-Match": etag})
        tap(st5 == 304, "the same key and page again: 304 on the ETag", (etag, st5))
        st6, _, rep, _ = request(c, "POST", "/v1/batches", batch("k1", 1), token=tokens["k1"])
        tap(st6 == 200 and rep.get("config_revision") == cfg1["revision"],
            "the batch reply's config_revision is the revision of the body with the key "
            "(the device is not left pending)", (rep, cfg1.get("revision")))
        # The page's check, from the contract: a link signed with the delivered key.
        x = str(int(time.time()) + 1800)
        sess = "0190f3a0-1234-7abc-8def-0123456789ab"
        m = mac(cm["key"], "k1", sess, x)
        other = mac(cfg2["comment"]["key"], "k1", sess, x)
        tap(len(m) == 22 and m != other,
            "a link's mac under k1's key (22 characters) differs from one under k2's", m)

        # rotate-token: a new token and a new key, so a new revision.
        new_tok = fleet_token(store, "device", "rotate-token", "k1")
        st, _, cfg3, _ = request(c, "GET", "/v1/config", token=new_tok)
        tap(st == 200 and key_ok(cfg3["comment"]["key"]) and cfg3["comment"]["key"] != cm["key"]
            and cfg3["revision"] != cfg1["revision"],
            "rotate-token issues a new key too; the configuration's revision changes", cfg3)

        # An imported device holds the placeholder 'imported': its first GET makes a real key.
        devfile = os.path.join(work, "devices-%s.txt" % label)
        tok_imp = synclib.add_device(devfile, "old-1")
        fleet_cli(store, "device", "import", devfile, "--node", NODE)
        before = stored_key(db, "old-1")
        st, _, _, _ = request(c, "POST", "/v1/batches", batch("old-1", 1), token=tok_imp)
        _, _, rep_b, _ = request(c, "POST", "/v1/batches", batch("old-1", 2), token=tok_imp)
        st, _, cfg4, _ = request(c, "GET", "/v1/config", token=tok_imp)
        after = stored_key(db, "old-1")
        tap(before == "imported" and st == 200 and key_ok(after)
            and cfg4["comment"]["key"] == after,
            "an imported device ('imported' placeholder) gets a real key on its first "
            "GET /v1/config", (before, after))
        tap(rep_b.get("config_revision") and rep_b["config_revision"] != cfg4["revision"],
            "before that, its batch replies name a revision it does not hold (so it fetches)",
            (rep_b, cfg4["revision"]))
        _, _, rep_c, _ = request(c, "POST", "/v1/batches", batch("old-1", 3), token=tok_imp)
        tap(rep_c.get("config_revision") == cfg4["revision"],
            "after it, the batch reply's revision is the delivered body's", rep_c)

        # Enrollment: the token handed to an approved device comes with a key.
        pair_key = "k" * 43
        request(c, "POST", "/v1/enroll", {"code": "ABCD-2345", "key": pair_key})
        fleet_cli(store, "device", "approve", "ABCD-2345", "--node", NODE, "--id", "pi-7")
        placeholder = stored_key(db, "pi-7")
        st, _, rep, _ = request(c, "POST", "/v1/enroll", {"code": "ABCD-2345", "key": pair_key})
        tap(st == 200 and placeholder == "ABCD-2345" and key_ok(stored_key(db, "pi-7")),
            "enrollment: the token delivered after approval comes with a real key "
            "(the pairing code was the placeholder)", (placeholder, stored_key(db, "pi-7")))
        st, _, cfg5, _ = request(c, "GET", "/v1/config", token=rep.get("token", ""))
        tap(st == 200 and cfg5["comment"]["key"] == stored_key(db, "pi-7"),
            "and the enrolled device gets it in its configuration")
        c.stop()
        c = None

        # The collector's publish checks "comment" with the kiosk's parser.
        with open(os.path.join(ROOT, "assets", "demo", "checkout-nps-comment.json"),
                  encoding="utf-8") as f:
            doc = json.load(f)
        doc["version"] = 7
        doc["comment"]["after"] = "always"
        bad = os.path.join(work, "bad-comment-%s.json" % label)
        with open(bad, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        rc, _, err = fleet_cli(store, "survey", "publish", bad, check=False)
        rc2, _, _ = fleet_cli(store, "survey", "publish",
                              os.path.join(ROOT, "assets", "demo", "checkout-nps-comment.json"),
                              check=False)
        tap(rc == 1 and '$.comment.after: expected "any", "low" or "high"' in err and rc2 == 0,
            "survey publish refuses a bad \"comment\" naming the field; the demo's passes", err)

        # Without --public-url there is no page: no "comment" at all.
        plain = synclib.Collector(store, None, work, name="plain-" + label).start()
        st, _, cfg6, raw6 = request(plain, "GET", "/v1/config", token=new_tok)
        tap(st == 200 and "comment" not in cfg6 and b"comment" not in raw6,
            "a collector without --public-url sends no \"comment\"", cfg6.keys())
    finally:
        for x in (c, plain):
            if x:
                x.stop()


if __name__ == "__main__":
    sys.exit(main())
