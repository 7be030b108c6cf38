"""fatimage.py - real FAT "USB sticks" for tests: a FAT image made by mkfs.vfat, mounted with
fusefat under a temporary mount root (like /media), read-write or read-only, and always cleaned up.

    from fatimage import FatStick, fuse_problem
    why = fuse_problem()            # None when /dev/fuse, fusefat and mkfs.vfat work here
    with FatStick(size_kb=1024, name="touchpoint-usb-test") as st:
        st.mount_root               # the temporary mount root to watch (a folder, like /media)
        st.mount_point              # mount_root/name, where the FAT file system is mounted
        st.unmount(lazy=True)       # fusermount -uz: "pull the stick" even while files are open
        st.mount(readonly=True)     # mount the same image again
        st.files()                  # names on the image (mounted read-only at a scratch point)
    # leaving the block unmounts (fusermount -u, then -uz) and removes the image and folders

Stdlib only. Images live beside the mount root, never inside it, so a test cannot confuse them.
"""
import atexit
import os
import shutil
import subprocess
import tempfile
import time

_LIVE = set()


def _unescape(field):
    """Decodes the octal escapes of /proc/self/mountinfo (\\040 space, ...)."""
    out = bytearray()
    raw = field.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        if raw[i:i + 1] == b"\\" and len(raw) - i >= 4 and raw[i + 1:i + 4].isdigit():
            out.append(int(raw[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "surrogateescape")


def mounted(path):
    """Returns the mount id when path is a mount point in this mount namespace, else None."""
    real = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            found = None
            for line in f:
                parts = line.split(" ")
                if len(parts) > 4 and _unescape(parts[4]) == real:
                    found = int(parts[0])
            return found
    except OSError:
        return None


def _fusermount(args):
    for tool in ("fusermount", "fusermount3"):
        if shutil.which(tool):
            r = subprocess.run([tool] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if r.returncode == 0:
                return True
    return False


def scratch_dir():
    """A folder for images and test databases: /dev/shm when it is a writable tmpfs (no disk
    flushes: the machine's disk is shared and slow under load), else the default temp folder."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return None


def fuse_problem():
    """Returns None when FAT images can be mounted here, else what is missing."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is not accessible"
    for tool in ("fusefat", "mkfs.vfat"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            return tool + " is not installed (Debian packages fusefat, dosfstools)"
    if not (shutil.which("fusermount") or shutil.which("fusermount3")):
        return "fusermount is not installed (Debian package fuse3)"
    try:
        with FatStick(size_kb=512) as st:
            with open(os.path.join(st.mount_point, "probe.txt"), "w") as f:
                f.write("x")
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        return "fusefat mount failed: %s" % e
    return None


class FatStick:
    """One FAT image and its mount under a temporary mount root (see the module doc)."""

    def __init__(self, size_kb=8192, name="touchpoint-usb-test", label=None,
                 readonly=False, mount_root=None, tmp_dir=None):
        self.size_kb = size_kb
        self.name = name
        self.label = label
        self.readonly = readonly
        self._own_root = mount_root is None
        self.base = tempfile.mkdtemp(prefix="tp-fat-", dir=tmp_dir or scratch_dir())
        self.mount_root = mount_root or os.path.join(self.base, "media")
        self.image = os.path.join(self.base, "stick.img")
        self.mount_point = os.path.join(self.mount_root, name)
        self.is_mounted = False
        _LIVE.add(self)

    # -- lifecycle --
    def __enter__(self):
        try:
            os.makedirs(self.mount_root, exist_ok=True)
            mkfs = shutil.which("mkfs.vfat") or "/usr/sbin/mkfs.vfat"
            label = ["-n", self.label] if self.label else []
            subprocess.run([mkfs] + label + ["-C", self.image, str(self.size_kb)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.mount(self.readonly)
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def mount(self, readonly=False, at=None):
        """Mounts the image (at the stick's mount point unless at is given); waits until the mount
        shows in /proc/self/mountinfo. Raises RuntimeError on failure."""
        where = at or self.mount_point
        os.makedirs(where, exist_ok=True)
        r = subprocess.run(["fusefat", "-o", "ro" if readonly else "rw+", self.image, where],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("fusefat %s: %s" % (where, r.stderr.decode(errors="replace")))
        for _ in range(100):
            if mounted(where):
                break
            time.sleep(0.02)
        else:
            raise RuntimeError("fusefat: %s did not appear in mountinfo" % where)
        if at is None:
            self.is_mounted = True
            self.readonly = readonly

    def unmount(self, lazy=False, at=None):
        """fusermount -u (or -uz: detach now, even with files open, like pulling the stick)."""
        where = at or self.mount_point
        ok = _fusermount(["-uz" if lazy else "-u", where])
        if not ok and not lazy:
            ok = _fusermount(["-uz", where])
        for _ in range(100):
            if not mounted(where):
                break
            time.sleep(0.02)
        if at is None:
            self.is_mounted = bool(mounted(where))
        return ok

    def files(self):
        """Names on the image (sorted), read through a fresh read-only mount at a scratch point so
        it works also after the stick was "pulled"."""
        if self.is_mounted:
            return sorted(os.listdir(self.mount_point))
        scratch = os.path.join(self.base, "inspect")
        # a lazily detached fusefat may still hold the image until its last file closes
        for _ in range(50):
            try:
                self.mount(readonly=True, at=scratch)
                break
            except RuntimeError:
                time.sleep(0.1)
        else:
            raise RuntimeError("could not re-mount %s to inspect it" % self.image)
        try:
            return sorted(os.listdir(scratch))
        finally:
            self.unmount(at=scratch)

    def read(self, name):
        """Bytes of one file on the mounted stick."""
        with open(os.path.join(self.mount_point, name), "rb") as f:
            return f.read()

    def cleanup(self):
        for where in (self.mount_point, os.path.join(self.base, "inspect")):
            if mounted(where):
                if not _fusermount(["-u", where]):
                    _fusermount(["-uz", where])
        self.is_mounted = False
        shutil.rmtree(self.base, ignore_errors=True)
        if not self._own_root:
            try:
                os.rmdir(self.mount_point)
            except OSError:
                pass
        _LIVE.discard(self)


@atexit.register
def _cleanup_all():
    for st in list(_LIVE):
        st.cleanup()
