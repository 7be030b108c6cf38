"""smtpsink.py - a real SMTP server for the delivery tests: Debian's python3-aiosmtpd
Controller on a free loopback port, writing each message it accepts to a folder.

    sink = SmtpSink(folder)               # started; sink.url is smtp://127.0.0.1:PORT
    msgs = sink.wait(3, timeout=30)       # [(envelope dict, email.message.EmailMessage)]
    sink.close()

Each message is written as NNNN.eml (the bytes as received after DATA) with NNNN.json beside it
({"mail_from", "rcpt_tos"}). With user/password, AUTH PLAIN/LOGIN is offered without TLS
(loopback only) and required.

python3-aiosmtpd is a Debian package: when the python3 running the tests is not Debian's (pyenv),
its dist-packages folder is added to the path.
"""
import email
import email.policy
import glob
import json
import logging
import os
import socket
import sys
import time
import warnings

try:
    from aiosmtpd.controller import Controller
except ImportError:  # a python3 that is not Debian's own
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

# AUTH without TLS is what the loopback tests want: keep aiosmtpd's warnings out of the TAP.
warnings.filterwarnings("ignore", module="aiosmtpd")
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, folder):
        self.folder = folder
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.folder, "%04d" % self.n)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, folder, user=None, password=None):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        kw = {}
        if user:
            def auth(server, session, envelope, mechanism, data):
                ok = data.login.decode() == user and data.password.decode() == password
                return AuthResult(success=ok)
            kw = {"authenticator": auth, "auth_required": True, "auth_require_tls": False}
        last = None
        for _ in range(3):
            self.port = _free_port()
            self.ctl = Controller(_Handler(folder), hostname="127.0.0.1", port=self.port, **kw)
            try:
                self.ctl.start()
                break
            except Exception as e:  # the port was taken meanwhile
                last = e
        else:
            raise RuntimeError("smtpsink did not start: %s" % last)
        self.url = "smtp://127.0.0.1:%d" % self.port

    def messages(self):
        """Every message so far, in arrival order: [(envelope dict, EmailMessage)]."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.folder, "*.eml"))):
            with open(path[:-4] + ".json") as f:
                env = json.load(f)
            with open(path, "rb") as f:
                out.append((env, email.message_from_bytes(f.read(), policy=email.policy.default)))
        return out

    def wait(self, n, timeout=30):
        """Waits until at least n messages arrived; returns them (maybe fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msgs = self.messages()
            if len(msgs) >= n:
                return msgs
            time.sleep(0.1)
        return self.messages()

    def close(self):
        self.ctl.stop()
