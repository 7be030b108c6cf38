"""PostgreSQL test harness: a real, throw-away PostgreSQL server for the collector's tests.

    import pgserver
    with pgserver.PgServer() as pg:      # initdb + start + createdb; always stopped and deleted
        url = pg.url                     # postgresql://postgres@127.0.0.1:PORT/touchpoint
        pg.stop()                        # e.g. to test "store unavailable" (503)
        pg.start()                       # and back

initdb runs in a temporary folder owned by the `postgres` user (initdb refuses to run as root),
the server listens on a free loopback port with its unix sockets inside that folder, trust
authentication on loopback only. Binaries are found under /usr/lib/postgresql/*/bin.
Python stdlib only.
"""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


def find_bindir():
    """The newest /usr/lib/postgresql/N/bin holding initdb and pg_ctl, or None."""
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
            try:
                found.append((int(d.split("/")[-2]), d))
            except ValueError:
                pass
    return max(found)[1] if found else None


def available():
    """True when a PostgreSQL server can be started here."""
    if find_bindir() is None:
        return False
    if os.geteuid() != 0:
        return True
    try:
        import pwd
        pwd.getpwnam("postgres")
        return True
    except KeyError:
        return False


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PgServer:
    """One temporary PostgreSQL cluster. Use as a context manager (or call close())."""

    def __init__(self, dbname="touchpoint", log=None):
        self.bindir = find_bindir()
        if self.bindir is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self.dbname = dbname
        self.tmp = tempfile.mkdtemp(prefix="tp-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.logfile = log or os.path.join(self.tmp, "server.log")
        self.port = None
        self.running = False
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            os.chmod(self.tmp, 0o700)

    # -- running commands as the postgres user ------------------------------------------------
    def _run(self, argv, check=True, timeout=120, input=None):
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           input=input, cwd=self.tmp)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                       r.stdout.decode("utf-8", "replace")[-2000:]))
        return r

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    # -- lifecycle ------------------------------------------------------------------------------
    def init(self):
        self._run([self._bin("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--no-locale", "--no-sync"])
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            # Small and quick: a test server, not a production one.
            f.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "shared_buffers = 32MB\nmax_connections = 100\n"
                    "listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"
                    % self.tmp)
        return self

    def start(self, timeout=60):
        """Starts the server on a free port (a new one if the old one was taken)."""
        for _attempt in range(3):
            if self.port is None:
                self.port = _free_port()
            r = self._run([self._bin("pg_ctl"), "-D", self.data, "-l", self.logfile, "-w",
                           "-t", str(timeout), "-o", "-p %d" % self.port, "start"], check=False,
                          timeout=timeout + 30)
            if r.returncode == 0:
                self.running = True
                return self
            self.port = None
        raise RuntimeError("pg_ctl start failed: %s" % self.log_tail())

    def stop(self, mode="fast"):
        """Stops the server (mode: smart, fast or immediate). Safe to call when stopped."""
        if self.running:
            self._run([self._bin("pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"],
                      check=False)
            self.running = False

    def close(self):
        """Stops the server and deletes the cluster folder."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def create_db(self, name=None):
        self.psql("CREATE DATABASE %s" % (name or self.dbname), db="postgres")
        return self

    def __enter__(self):
        try:
            self.init().start().create_db()
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- using it -------------------------------------------------------------------------------
    @property
    def url(self):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, self.dbname)

    def psql(self, sql, db=None):
        """Runs sql with psql over the unix socket; returns its output (tuples only, '|'-separated)."""
        r = self._run([self._bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                       "-h", self.tmp, "-p", str(self.port), "-U", "postgres",
                       "-d", db or self.dbname, "-c", sql])
        return r.stdout.decode("utf-8", "replace").strip()

    def log_tail(self, n=30):
        try:
            with open(self.logfile, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""


def run_suite(prefix, suite):
    """The main() of a test that needs only a PostgreSQL server: suite(pg, workdir) on a new
    server, in a scratch folder named prefix..., both removed after; prints the TAP plan from
    tests/support/tap.py. Returns the exit status (skipped, 0, when no server is installed)."""
    import synclib
    from tap import count, failed
    if not available():
        print("# postgresql not available here: skipped")
        print("1..0")
        return 0
    work = synclib.scratch_dir(prefix)
    try:
        with PgServer() as pg:
            suite(pg, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    with PgServer() as pg:
        print(pg.url)
        print(pg.psql("SELECT version()"))
