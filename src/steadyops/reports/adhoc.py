"""Inspect an address that is not in the inventory (``巡检 zookeeper 10.0.0.5``), read-only and unrecorded.

A newcomer types an address before anyone has written an inventory; refusing would make the
README's first example fail. Checks only read, so running them against an address the operator
typed is safe. The findings are shown but not stored: an alert for a target no schedule re-checks
would never resolve (the same rule as ``zk检测 <address>`` in the ZooKeeper diagnosis).

Only something that is plainly an address qualifies — an IP literal, ``host:port`` or a dotted host
name — so a mistyped *name* still gets the "unknown target, did you mean …" answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime

from steadyops.core.inventory import Inventory, Target, split_address
from steadyops.core.models import Finding
from steadyops.reports.inspection import InspectionReport, build_report
from steadyops.reports.sections import SectionProvider, collect_sections
from steadyops.runner.checks import CheckRunner, Job


def looks_like_address(value: str) -> bool:
    """An IP literal, ``host:port``, ``[v6]:port`` or a dotted host name — not a bare word."""
    value = value.strip()
    if not value or " " in value:
        return False
    try:
        host, _port = split_address(value, 1)
    except ValueError:
        return False
    try:
        ipaddress.ip_address(host.split("%")[0])
        return True
    except ValueError:
        pass
    return host == "localhost" or "." in host or value.count(":") == 1


def adhoc_target(kind: str, address: str) -> Target:
    return Target(name=address, kind=kind, address=address, labels={"adhoc": "true"})


async def inspect_address(runner: CheckRunner, inventory: Inventory, kind: str, address: str) -> list[Finding]:
    """Every check of ``kind`` against ``address``, concurrently; nothing is recorded or alerted."""
    target = adhoc_target(kind, address)
    if address not in inventory.targets:
        inventory.add(target)  # so the report's sections see its address; this process only
    jobs = [Job(cls, target) for cls in runner.registry.checks_for(kind)]
    return list(await asyncio.gather(*(runner.run_job(job) for job in jobs)))


def adhoc_report(findings: list[Finding], inventory: Inventory, address: str,
                 sections: Sequence[tuple[str, SectionProvider]] = ()) -> InspectionReport:
    return build_report(findings, started_at=datetime.now(UTC), run_id=None, trigger="adhoc",
                        scope={"targets": [address]}, addresses={address: address},
                        sections=collect_sections(findings, inventory, sections))
