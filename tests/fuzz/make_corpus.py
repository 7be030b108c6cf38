#!/usr/bin/env python3
"""make_corpus.py - writes the fuzzers' seed corpus (tests/fuzz/corpus/*/): protocol-v1 batch
bodies (valid, every kind, untrusted clocks, each rejection cause, envelope errors) for
fuzz_batch, collector replies (accepted, duplicates, rejected, errors, a captive-portal page)
for fuzz_reply, and byte streams for fuzz_encode. Deterministic; rerun after a protocol change: python3 tests/fuzz/make_corpus.py"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT = "6f1c2a54-3b1e-4c55-9d8e-0a1b2c3d4e5f"
EPOCH = "0192e4a8-1111-7abc-8def-001122334455"
BATCH = "3f2b8c1e-9a7d-4e21-b6c3-5d4e3f2a1b0c"


def uid(n):
    return "0192e4a8-%04x-7%03x-8%03x-%012x" % (n & 0xFFFF, n & 0xFFF, (n * 7) & 0xFFF, n * 977)


def answer(i, kind="nps", value=9, **kw):
    a = {"id": uid(1000 + i), "seq": i, "session": uid(5000 + i // 2), "survey": "checkout-nps",
         "survey_version": 2, "question": "recommend", "kind": kind, "value": value,
         "choice": None, "lang": "vi", "store": "hcm-01", "touchpoint": "exit",
         "wall_ms": 1763920000000 + i * 1000, "clock_trusted": True, "mono_ms": 120000 + i * 1000,
         "boot_id": BOOT, "flags": []}
    a.update(kw)
    return a


def batch(answers, **dev):
    d = {"id": "kiosk-01", "epoch": EPOCH, "epoch_first_seq": 1, "app_version": "0.1.0",
         "pending": 1234, "highest_seq": 5678, "disk_free": 123456789, "clock_trusted": False,
         "sent_wall_ms": 1763920000000, "sent_mono_ms": 990000, "boot_id": BOOT}
    d.update(dev)
    return {"protocol": 1, "batch_id": BATCH, "device": d, "answers": answers}


def batches():
    yield "valid_one", batch([answer(1)])
    yield "every_kind", batch([
        answer(1), answer(2, "csat", 5, question="service"), answer(3, "ces", 7, survey="entry-ces"),
        answer(4, "smiley4", 1, flags=["button"]),
        answer(5, "choice", None, choice="speed", question="reason"),
        answer(6, "nps", 0, lang="en", flags=["rapid_repeat", "button"])])
    yield "untrusted_same_boot", batch([answer(1, clock_trusted=False), answer(2, clock_trusted=False)])
    yield "untrusted_other_boot", batch([answer(1, clock_trusted=False,
                                                boot_id="11111111-2222-4333-8444-555555555555")])
    yield "rejections", batch([
        answer(1, value=11), answer(2, kind="stars"), answer(3, survey="a b"), answer(4, id="nope"),
        answer(5, lang="x"), answer(6, flags=["bogus"]), answer(7, "choice", 3, choice="x"),
        answer(8, "csat", 4, choice="x"), answer(9, value="9"), answer(10, seq=-1),
        answer(11, question="q" * 65), answer(12, wall_ms=1.5), {"id": uid(13)}, 42,
        answer(14, store="'; DROP TABLE answers; --"), answer(15, clock_trusted="yes")])
    yield "unicode", batch([answer(1, survey="caf\u00e9"), answer(2, lang="vi"),
                            answer(3, store="c\u1eeda-h\u00e0ng")])
    yield "empty_answers", batch([])
    yield "wrong_protocol", dict(batch([answer(1)]), protocol=2)
    yield "no_device", {"protocol": 1, "batch_id": BATCH, "answers": []}
    yield "bad_device", batch([answer(1)], id="", epoch="x", pending=-1)
    yield "big_numbers", batch([answer(1, seq=9007199254740991, mono_ms=9007199254740991,
                                       wall_ms=4102444800000)], sent_mono_ms=9007199254740991)
    yield "epoch_first_seq", batch([answer(3), answer(50)], epoch_first_seq=10)


def replies():
    acc = [uid(1000 + i) for i in range(1, 4)]
    yield "ok", {"protocol": 1, "ack": "touchpoint-collector", "batch_id": BATCH,
                 "received_at_ms": 1763920001000, "accepted": acc, "duplicates": [],
                 "rejected": []}
    yield "mixed", {"protocol": 1, "ack": "touchpoint-collector", "batch_id": BATCH,
                    "received_at_ms": 1763920001000, "accepted": acc[:1], "duplicates": acc[1:2],
                    "rejected": [{"id": acc[2], "code": "value_out_of_range",
                                  "message": "nps value 11 not in 0..10"},
                                 {"id": None, "code": "invalid_type", "message": "answer: x"}]}
    yield "other_ack", {"protocol": 1, "ack": "nginx", "batch_id": BATCH, "accepted": acc}
    yield "error", {"error": {"code": "store_unavailable", "message": "database is locked"}}


def main():
    for sub, gen in (("batch", batches), ("reply", replies)):
        d = os.path.join(HERE, "corpus", sub)
        os.makedirs(d, exist_ok=True)
        for name, obj in gen():
            with open(os.path.join(d, name + ".json"), "w") as f:
                json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(HERE, "corpus", "reply", "portal.json"), "w") as f:
        f.write("<!DOCTYPE html><html><body>Accept the terms to continue</body></html>")
    # fuzz_encode reads its input as a stream of choices: a few shapes to start from.
    d = os.path.join(HERE, "corpus", "encode")
    os.makedirs(d, exist_ok=True)
    import random
    rng = random.Random(1)
    seeds = {"zeros": bytes(600), "ones": b"\xff" * 600, "ascending": bytes(range(256)) * 3}
    for i in range(4):
        seeds["random%d" % i] = bytes(rng.getrandbits(8) for _ in range(200 + 300 * i))
    for name, data in seeds.items():
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(data)
    raw = json.dumps(batch([answer(1, survey="SURVEY"), answer(2)])).encode()
    with open(os.path.join(HERE, "corpus", "batch", "invalid_utf8.json"), "wb") as f:
        f.write(raw.replace(b"SURVEY", b"ab\xc3\x28\xed\xa0\x80"))
    with open(os.path.join(HERE, "corpus", "batch", "truncated.json"), "w") as f:
        f.write(json.dumps(batch([answer(1)]))[:150])


if __name__ == "__main__":
    main()
