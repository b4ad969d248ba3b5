"""host.readonly: which mounts are held to "writable", read from /proc/mounts lines."""

from __future__ import annotations

from steadyops.core.inventory import Target
from steadyops.integrations.host.checks_mounts import parse_mounts, should_be_writable

MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
/dev/sdb1 /var/lib/mysql xfs ro,relatime,attr2 0 0
/dev/sdc1 /boot ext4 ro,relatime 0 0
tmpfs /srv/zk\\040data tmpfs ro,relatime,size=20480k 0 0
tmpfs /run tmpfs rw,nosuid 0 0
/dev/loop0 /snap/core/1 squashfs ro,nodev 0 0
/dev/sda1 /etc/hostname ext4 ro,relatime 0 0
"""


def test_disk_filesystems_and_named_mounts_are_held_to_writable() -> None:
    mounts = parse_mounts(MOUNTS)
    plain = Target(name="h", kind="host", address="")
    judged = {m.path: m.read_only for m in should_be_writable(mounts, plain)}
    assert judged == {"/": False, "/var/lib/mysql": True, "/boot": True}  # tmpfs and images are not judged
    named = Target(name="h", kind="host", address="", labels={"writable_mounts": "/srv/*", "readonly_ok": "/boot"})
    judged = {m.path: m.read_only for m in should_be_writable(mounts, named)}
    assert judged == {"/": False, "/var/lib/mysql": True, "/srv/zk data": True}
