"""Read-only 拨测 snapshots (also agent tools): one probe's tries in detail, and the TLS certificate."""

from __future__ import annotations

from typing import Any, ClassVar

from steadyops.contracts.collectors import Collector
from steadyops.core.inventory import Target
from steadyops.core.models import Snapshot, utcnow
from steadyops.integrations.http_probe.checks import TARGET_KIND
from steadyops.integrations.http_probe.probe import UsesProbeRuns, fetch_cert, host_port, probe_url, timeout_of


class ProbeCollector(UsesProbeRuns, Collector):
    name: ClassVar[str] = "http_probe.tries"
    target_kind: ClassVar[str] = TARGET_KIND
    description: ClassVar[str] = ("The URL probed N times: per try the status, redirect chain, total milliseconds, "
                                  "error and layer if it failed, and the start of the last body")

    async def collect(self, target: Target) -> Snapshot:
        run = await self.memory.shared(target)
        tries = [{"status": a.status, "ms": a.elapsed_ms, "final_url": a.final_url,
                  "redirects": [list(r) for r in a.redirects], "error": a.error, "layer": a.layer}
                 for a in run.attempts]
        last = run.answered[-1].body[:500] if run.answered else ""
        return Snapshot(collector=self.name, target=target.name, collected_at=utcnow(),
                        data={"url": run.url, "tries": tries, "body_start": last})


class CertCollector(Collector):
    name: ClassVar[str] = "http_probe.certificate"
    target_kind: ClassVar[str] = TARGET_KIND
    description: ClassVar[str] = ("The HTTPS endpoint's certificate: subject, issuer, names, expiry, days left and "
                                  "the verification error if it does not verify")

    async def collect(self, target: Target) -> Snapshot:
        host, port, scheme = host_port(probe_url(target))
        data: dict[str, Any] = {"host": host, "port": port}
        if scheme != "https":
            data.update(ok=False, error=f"{scheme}:// URL has no certificate")
        else:
            try:
                cert = await fetch_cert(target, host, port, timeout_of(target))
                data.update(ok=True, subject=cert.subject, issuer=cert.issuer, names=list(cert.names),
                            not_after=cert.not_after.isoformat(), days_left=round(cert.days_left(), 2),
                            verify_error=cert.verify_error)
            except (TimeoutError, OSError) as exc:  # ssl.SSLError is an OSError
                data.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())


COLLECTORS: tuple[type[Collector], ...] = (ProbeCollector, CertCollector)
