"""host.process_fds parsers: counts per pid from the fd listing, soft limits from /proc/<pid>/limits."""

from __future__ import annotations

from steadyops.integrations.host.checks_proc import parse_fd_counts, parse_limits, parse_ps_names, per_process

LISTING = "/proc/1/fd\n/proc/1/fd\n/proc/42/fd\n/proc/42/fd\n/proc/42/fd\n/proc/self/fd\n"
LIMITS = ("/proc/1/limits:Max open files            65536                65536                files     \n"
          "/proc/42/limits:Max open files            4                    4096                 files     \n"
          "/proc/77/limits:Max open files            unlimited            unlimited            files     \n")
PS = ("  PID USER     %CPU %MEM   RSS COMMAND\n    1 root      0.0  0.1  1234 systemd\n"
      "   42 zk        1.0  2.0  9999 java\n")


def test_counts_limits_and_names_join_per_process_fullest_first() -> None:
    assert parse_fd_counts(LISTING) == {1: 2, 42: 3}
    assert parse_limits(LIMITS) == {1: 65536, 42: 4}  # "unlimited" cannot be exhausted
    rows = per_process(parse_fd_counts(LISTING), parse_limits(LIMITS), parse_ps_names(PS))
    assert [(r.pid, r.name, r.open, r.soft) for r in rows] == [(42, "java", 3, 4), (1, "systemd", 2, 65536)]
    assert rows[0].pct == 75.0 and "of its own ulimit -n" in rows[0].describe()
