"""Small file systems for fault tests: a tmpfs that fills up, and an ext4 image
on a loop device that an I/O error turns read-only (errors=remount-ro), as a
failing disk does. Mounting needs root; without it mount() raises
PermissionError saying why, and the test skips."""

import glob
import os
import subprocess
import tempfile


def _run(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


def _mount_failed(what, result):
    text = (result.stderr or result.stdout).strip()
    if os.geteuid() != 0 or "permission" in text.lower() or "not permitted" in text.lower():
        raise PermissionError("cannot mount %s here (root needed): %s" % (what, text))
    raise RuntimeError("mount %s failed: %s" % (what, text))


class Tmpfs:
    def __init__(self, size="8m"):
        self.size = size
        self.path = None

    def mount(self, path):
        result = _run("mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % self.size, "tmpfs",
                      path)
        if result.returncode != 0:
            _mount_failed("a tmpfs", result)
        self.path = path

    def unmount(self):
        if self.path:
            _run("umount", "-l", self.path)
            self.path = None


def fill(directory, name="filler.bin"):
    """Writes zeros into directory/name until the file system is full; returns
    the file's path (delete it to free the space)."""
    path = os.path.join(directory, name)
    chunk = b"\0" * (256 << 10)
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError:
                break
        # The last partial chunks: fill to the last block.
        for size in (65536, 4096, 512):
            while True:
                try:
                    f.write(b"\0" * size)
                except OSError:
                    break
    return path


class ExtImage:
    """ext4 in a sparse image file on a loop device, mounted errors=remount-ro."""

    def __init__(self, size_mb=32):
        self.size_mb = size_mb
        self.image = None
        self.loop = None
        self.path = None

    def mount(self, path):
        fd, self.image = tempfile.mkstemp(prefix="callrec-faults-", suffix=".ext4")
        os.close(fd)
        os.truncate(self.image, self.size_mb << 20)
        result = _run("mkfs.ext4", "-q", "-F", self.image)
        if result.returncode != 0:
            raise RuntimeError("mkfs.ext4: %s" % result.stderr)
        result = _run("losetup", "-f", "--show", self.image)
        if result.returncode != 0:
            os.unlink(self.image)
            _mount_failed("a loop device", result)
        self.loop = result.stdout.strip()
        result = _run("mount", "-o", "errors=remount-ro", self.loop, path)
        if result.returncode != 0:
            self._detach()
            _mount_failed("an ext4 image", result)
        self.path = path

    def _sysfs(self):
        name = os.path.basename(self.loop)
        matches = glob.glob("/sys/fs/ext4/%s" % name)
        if not matches:
            raise RuntimeError("no /sys/fs/ext4/%s" % name)
        return matches[0]

    def trigger_error(self):
        """An ext4 error as a bad block would raise: the file system goes read-only."""
        with open(os.path.join(self._sysfs(), "trigger_fs_error"), "w") as f:
            f.write("callrec fault test\n")

    def repair_and_remount(self):
        """What an operator does (needs everything on it closed): unmount, fsck, mount."""
        result = _run("umount", self.path)
        if result.returncode != 0:
            raise RuntimeError("umount: %s" % result.stderr)
        _run("e2fsck", "-fy", self.loop)
        result = _run("mount", "-o", "errors=remount-ro", self.loop, self.path)
        if result.returncode != 0:
            raise RuntimeError("mount after fsck: %s" % result.stderr)

    def _detach(self):
        if self.loop:
            _run("losetup", "-d", self.loop)
            self.loop = None
        if self.image:
            os.unlink(self.image)
            self.image = None

    def unmount(self):
        if self.path:
            _run("umount", self.path)
            self.path = None
        self._detach()
