"""tap.py - the TAP lines of the integration tests (tests/integration/test_*.py), in one place.

A script takes its check function and counters from here under the names it already uses:

    import tap
    report = tap.check                  # or: tap = tap.check, when the script calls tap(...)
    n_test, n_fail = tap.count, tap.failed

check(ok, what, why="") prints "ok N - what", or "not ok N - what: why" (why cut to 1,500
characters), flushed at once so that a test that hangs still shows how far it got, and returns
ok. count and failed are live: each script's own closing lines ("1..%d" % n_test,
`return 1 if n_fail else 0`) read them when they run, so those lines stay as they were.
tests/run.sh counts the "ok" and "not ok" lines.
"""
import sys

WHY_MAX = 1500  # characters of a failure's explanation shown on its "not ok" line


class Counter:
    """A number that only this module changes; reads (%d, f-strings, int(), truth) see its value
    at that moment."""

    def __init__(self):
        self.value = 0

    def __index__(self):
        return self.value

    __int__ = __index__

    def __bool__(self):
        return self.value != 0

    def __format__(self, spec):
        return format(self.value, spec)

    def __str__(self):
        return str(self.value)

    __repr__ = __str__


count = Counter()   # checks printed so far
failed = Counter()  # of which "not ok"


def check(ok, what, why=""):
    """Prints the TAP line of one check (numbered from 1) and returns ok."""
    count.value += 1
    if ok:
        print("ok %d - %s" % (count.value, what))
    else:
        failed.value += 1
        why = str(why)[:WHY_MAX] if why != "" else ""
        print("not ok %d - %s%s" % (count.value, what, ": " + why if why else ""))
    sys.stdout.flush()
    return ok
