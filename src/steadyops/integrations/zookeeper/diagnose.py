"""``zk检测``: run every ZooKeeper check, then say per target WHICH LAYER failed, and for the ensemble.

One dead ZooKeeper makes a dozen checks fail at once (no port, no imok, no mntr …); an operator
needs the one line "process down on zk2, quorum still held" instead. Every check tags its result
with a layer, and the layers are ranked from the bottom of the stack up, because a lower layer
explains the ones above it — an unreachable host explains a closed port, which explains a missing
``imok``:

    host → network → process → quorum → disk → load → config

The first layer with a definite failure (CRITICAL / WARNING) wins; a layer with only UNKNOWN
findings (could not ask) wins only if nothing failed definitely. One exception: a CRITICAL disk
finding (read-only or failing storage, a full dataLogDir) outranks process / quorum / load, since
a ZooKeeper that cannot write its transaction log hangs or exits — the disk explains the process.
``load`` (outstanding requests, latency, znodes, watches) extends the issue's five layers: a slow
server is not a dead process.

For an ensemble (targets sharing the label ``cluster``) the verdict is about the service: members
may fail (WARNING, with how many more failures it survives) until fewer than a majority serve
(CRITICAL, quorum lost). Host findings (``kind: host`` targets on the same machines) join in when
given; only CRITICAL ones can claim the host layer, since a warning on some other mount should not
outrank a dead ZooKeeper.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from steadyops.contracts.checks import worst
from steadyops.core.inventory import Target, split_address
from steadyops.core.models import CheckStatus, Evidence, Finding
from steadyops.core.summaries import in_lang
from steadyops.integrations.zookeeper.base import TARGET_KIND
from steadyops.integrations.zookeeper.client import DEFAULT_PORT
from steadyops.integrations.zookeeper.ensemble import quorum_size
from steadyops.integrations.zookeeper.messages import Lang, msg

if TYPE_CHECKING:  # the runner sits above the plugins; import it only where zk_inspect runs
    from steadyops.runner.checks import CheckRunner

LAYERS: tuple[str, ...] = ("host", "network", "process", "quorum", "disk", "load", "config", "other")
ENSEMBLE_CHECK = "zookeeper.ensemble"
#: layers a CRITICAL disk finding explains: ZooKeeper that cannot write its txn log hangs or exits
_EXPLAINED_BY_DISK = frozenset({"process", "quorum", "load"})


class LayerFailure(BaseModel):
    """The failing findings of one layer on one target, and their evidence."""

    layer: str
    status: CheckStatus
    checks: list[str]
    summaries: list[str]
    evidence: list[Evidence] = Field(default_factory=list)
    runbooks: list[str] = Field(default_factory=list)
    #: how many of ``checks`` could not get an answer (UNKNOWN) rather than failing outright
    unanswered: int = 0


class TargetDiagnosis(BaseModel):
    target: str
    address: str = ""
    cluster: str | None = None
    status: CheckStatus
    role: str | None = None
    serving: bool | None = None
    #: the layer that explains the failures (first in precedence), None when healthy
    layer: str | None = None
    #: every failing layer in precedence order, the first being ``layer``
    failures: list[LayerFailure] = Field(default_factory=list)
    checks: int = 0


class EnsembleDiagnosis(BaseModel):
    cluster: str
    members: list[str]
    size: int
    serving: int
    quorum: int
    #: CRITICAL only when quorum is lost; member problems alone degrade it to WARNING
    status: CheckStatus
    quorum_lost: bool
    unwell: list[str] = Field(default_factory=list)
    #: some members were neither inspected nor seen by a member's ensemble check
    partial: bool = False


class ZkReport(BaseModel):
    """The localisation summary of one ``zk检测`` run; ``render(lang)`` for humans, JSON for machines."""

    scope: str = "all"
    status: CheckStatus
    targets: list[TargetDiagnosis]
    ensembles: list[EnsembleDiagnosis] = Field(default_factory=list)
    run_id: int | None = None
    findings: list[Finding] = Field(default_factory=list)

    def render(self, lang: Lang = "zh") -> str:
        return render(self, lang)


def diagnose_target(name: str, findings: Sequence[Finding], *, address: str = "", cluster: str | None = None,
                    host_findings: Sequence[Finding] = ()) -> TargetDiagnosis:
    """One target's findings (plus CRITICAL host findings for its machine) → the failed layer."""
    # a clustered member is judged on its own; what its ensemble check saw is the cluster's verdict
    own = [f for f in findings if not (cluster and f.check == ENSEMBLE_CHECK)]
    by_layer: dict[str, list[Finding]] = {}
    for f in own:
        if f.status.failing:
            by_layer.setdefault(f.layer if f.layer in LAYERS else "other", []).append(f)
    for f in host_findings:
        if f.status is CheckStatus.CRITICAL:
            by_layer.setdefault("host", []).append(f)
    failures = [_layer_failure(layer, by_layer[layer]) for layer in LAYERS if layer in by_layer]
    definite = [lf for lf in failures if lf.status in (CheckStatus.CRITICAL, CheckStatus.WARNING)]
    primary = definite[0] if definite else (failures[0] if failures else None)
    storage = next((lf for lf in failures if lf.layer == "disk" and lf.status is CheckStatus.CRITICAL), None)
    if storage is not None and primary is not None and primary.layer in _EXPLAINED_BY_DISK:
        primary = storage  # a read-only or full data disk is why the JVM hangs or exits, not the other way
    if primary is not None:
        failures.remove(primary)
        failures.insert(0, primary)
    role, serving = _role(own)
    status = worst(*(f.status for f in own), *(lf.status for lf in failures))
    return TargetDiagnosis(target=name, address=address, cluster=cluster, status=status, role=role,
                           serving=serving, layer=primary.layer if primary else None, failures=failures,
                           checks=len(own))


def _layer_failure(layer: str, findings: list[Finding]) -> LayerFailure:
    """Definite failures first: they are the cause; "could not ask" findings only corroborate."""
    ranked = sorted(findings, key=lambda f: (-f.status.rank, f.check))
    definite = [f for f in ranked if f.status is not CheckStatus.UNKNOWN] or ranked
    evidence: list[Evidence] = []
    seen: set[tuple[str, str]] = set()
    for f in definite[:3]:
        for e in f.evidence[:2]:
            key = (e.source, e.detail)
            if key not in seen:
                seen.add(key)
                evidence.append(e)
    return LayerFailure(layer=layer, status=worst(*(f.status for f in ranked)), checks=[f.check for f in ranked],
                        summaries=[f"{f.check}: {f.summary}" for f in ranked], evidence=evidence,
                        runbooks=sorted({f.runbook for f in definite if f.runbook}),
                        unanswered=sum(1 for f in ranked if f.status is CheckStatus.UNKNOWN))


def _role(findings: Sequence[Finding]) -> tuple[str | None, bool | None]:
    """Role and serving state from ``zookeeper.quorum``; a dead port means certainly not serving."""
    mode: str | None = None
    serving: bool | None = None
    for f in findings:
        if f.check == "zookeeper.quorum":
            mode = next((str(e.value) for e in f.evidence if e.source == "mode"), None)
            if "serving" in f.metrics:
                serving = f.metrics["serving"] >= 1
        elif f.check == "zookeeper.port" and f.status is CheckStatus.CRITICAL:
            return None, False
    return mode, serving


def diagnose_ensemble(cluster: str, members: Sequence[TargetDiagnosis], findings: Sequence[Finding],
                      expected_size: int = 0) -> EnsembleDiagnosis:
    """Serving members vs size, from the inspected members plus what ``zookeeper.ensemble`` saw.

    ``expected_size`` is how many members the inventory lists. When only some were inspected
    (``zk检测 <one address>``) and no member's ensemble check answered, the verdict is given only
    if it is certain either way; otherwise it is UNKNOWN ("partial"), never a guess.
    """
    reported = [f for f in findings if f.check == ENSEMBLE_CHECK and f.status is not CheckStatus.UNKNOWN]
    size = max([len(members), expected_size, *(int(f.metrics.get("ensemble_size", 0)) for f in reported)])
    serving = max([sum(1 for m in members if m.serving), *(int(f.metrics.get("serving_members", 0))
                                                           for f in reported)])
    need = quorum_size(size)
    unseen = 0 if reported else size - len(members)  # members nobody asked about
    unwell = [m.target for m in members if m.failures]
    lost = serving + unseen < need
    if lost:
        status = CheckStatus.CRITICAL
    elif serving < need:
        status = CheckStatus.UNKNOWN
    elif serving < size or unwell:
        status = CheckStatus.WARNING
    else:
        status = CheckStatus.OK
    return EnsembleDiagnosis(cluster=cluster, members=[m.target for m in members], size=size, serving=serving,
                             quorum=need, status=status, quorum_lost=lost, unwell=unwell, partial=unseen > 0)


def localise(findings: Sequence[Finding], *, addresses: Mapping[str, str] | None = None,
             clusters: Mapping[str, str] | None = None, cluster_sizes: Mapping[str, int] | None = None,
             scope: str = "all", run_id: int | None = None) -> ZkReport:
    """All findings of a ``zk检测`` run → per-target layers, per-cluster verdicts, overall status.

    ``addresses`` (target name → address) lets host findings attach to the ZooKeeper targets on the
    same machine; ``clusters`` (target name → cluster) fills in findings without labels (a runner
    timeout has none); ``cluster_sizes`` (cluster → members in the inventory) keeps a one-address
    inspection from calling a 3-node ensemble a 1-node one. All come from the inventory in
    :func:`zk_inspect`.
    """
    addresses = dict(addresses or {})
    clusters = dict(clusters or {})
    zk: dict[str, list[Finding]] = {}
    hosts: dict[str, list[Finding]] = {}
    for f in findings:
        (zk if f.target_kind == TARGET_KIND else hosts).setdefault(f.target, []).append(f)
        if f.target_kind == TARGET_KIND and f.labels.get("cluster"):
            clusters.setdefault(f.target, f.labels["cluster"])
    host_of = {name: split_address(addr, DEFAULT_PORT)[0] for name, addr in addresses.items() if addr}
    targets: list[TargetDiagnosis] = []
    for name in sorted(zk):
        machine = host_of.get(name)
        extra = [f for h, fs in hosts.items() if machine and host_of.get(h) == machine for f in fs]
        targets.append(diagnose_target(name, zk[name], address=addresses.get(name, ""), cluster=clusters.get(name),
                                       host_findings=extra))
    ensembles = []
    for cluster in sorted({t.cluster for t in targets if t.cluster}):
        members = [t for t in targets if t.cluster == cluster]
        member_findings = [f for t in members for f in zk[t.target]]
        ensembles.append(diagnose_ensemble(cluster, members, member_findings, (cluster_sizes or {}).get(cluster, 0)))
    # the service's status: an ensemble's own verdict (its members' when the view is partial), a
    # standalone server's own status
    partial = {e.cluster for e in ensembles if e.partial}
    own = [t.status for t in targets if not t.cluster or t.cluster in partial]
    status = worst(*(e.status for e in ensembles), *own)
    return ZkReport(scope=scope, status=status, targets=targets, ensembles=ensembles, run_id=run_id,
                    findings=list(findings))


def _select(runner: CheckRunner, address: str | None) -> list[Target]:
    """ZooKeeper targets by name, ``host:port`` or bare host (every ZooKeeper on that machine)."""
    zk = [t for t in runner.inventory.targets.values() if t.kind == TARGET_KIND]
    if not address:
        return zk
    return [t for t in zk if address in (t.name, t.address) or split_address(t.address, DEFAULT_PORT)[0] == address]


async def zk_inspect(runner: CheckRunner, address: str | None = None, *, include_host: bool = True) -> ZkReport:
    """``zk检测 [address]``: every ZooKeeper check on every ZK target (or those at ``address``), localised.

    An address that is not in the inventory is inspected ad hoc (``zk检测 10.0.0.5:2181`` typed in a
    chat should work before anyone edits the inventory); its findings are reported but not recorded,
    since an alert for a target no schedule re-checks would never resolve. With ``include_host`` the
    host checks of ``kind: host`` targets on the same machines run too, so the host layer can be blamed.
    """
    selected = _select(runner, address)
    if address and not selected:
        from steadyops.runner.checks import Job

        host, port = split_address(address, DEFAULT_PORT)
        ad_hoc = Target(name=address, kind=TARGET_KIND, address=f"{host}:{port}")
        one_off = await asyncio.gather(*(runner.run_job(Job(cls, ad_hoc))
                                         for cls in runner.registry.checks_for(TARGET_KIND)))
        return localise(one_off, addresses={address: ad_hoc.address}, scope=address)
    jobs = runner.jobs(kinds=[TARGET_KIND], targets=[t.name for t in selected]) if selected else []
    if not jobs:
        return ZkReport(scope=address or "all", status=CheckStatus.UNKNOWN, targets=[])
    machines = {split_address(t.address, DEFAULT_PORT)[0] for t in selected}
    host_targets = [t for t in runner.inventory.targets.values() if include_host and t.kind == "host"
                    and split_address(t.address or t.name, DEFAULT_PORT)[0] in machines]
    if host_targets:
        jobs += runner.jobs(kinds=["host"], targets=[t.name for t in host_targets])
    run_id, findings = await runner.inspect(jobs, scope={"command": "zk检测", "kind": TARGET_KIND,
                                                         "target": address or "all"})
    addresses = {t.name: t.address or t.name for t in [*selected, *host_targets]}
    clusters = {t.name: t.labels["cluster"] for t in selected if t.labels.get("cluster")}
    sizes: dict[str, int] = {}
    for t in runner.inventory.targets.values():
        if t.kind == TARGET_KIND and t.labels.get("cluster"):
            sizes[t.labels["cluster"]] = sizes.get(t.labels["cluster"], 0) + 1
    return localise(findings, addresses=addresses, clusters=clusters, cluster_sizes=sizes, scope=address or "all",
                    run_id=run_id)


def _status(status: CheckStatus, lang: Lang) -> str:
    return msg(f"status.{status.value}", lang)


def _role_text(t: TargetDiagnosis, lang: Lang) -> str:
    return msg(f"role.{t.role}", lang) if t.role else msg("role.unknown", lang)


def _summary_line(line: str, lang: Lang) -> str:
    """``check: summary`` with the summary's shared phrases in the reader's language."""
    check, sep, summary = line.partition(": ")
    return f"{check}{sep}{in_lang(summary, lang)}" if sep else in_lang(line, lang)


def _in_lang(runbook: str, lang: Lang) -> str:
    """Runbooks ship as ``x.en.md`` and ``x.zh.md`` side by side: cite the one in the reader's language."""
    for other in ("en", "zh"):
        if runbook.endswith(f".{other}.md") and other != lang:
            return runbook[: -len(f".{other}.md")] + f".{lang}.md"
    return runbook


def render(report: ZkReport, lang: Lang = "zh", *, evidence_lines: int = 3) -> str:
    """Plain text (also valid Markdown lists) for the CLI, a chat robot or a report section."""
    if not report.targets:
        scope = msg("all", lang) if report.scope == "all" else report.scope
        return msg("no_targets", lang, scope=scope)
    # the headline severity is the worst finding's, as in the inspection report around it; when the
    # service as a whole fares better (an ensemble keeping quorum) that verdict follows in brackets
    overall = worst(report.status, *(t.status for t in report.targets))
    lines = [msg("title", lang, targets=len(report.targets), status=_status(overall, lang))
             + (msg("title.service", lang, status=_status(report.status, lang)) if overall != report.status else "")]
    for e in report.ensembles:
        if e.quorum_lost:
            key = "ensemble.lost"
        elif e.status is CheckStatus.UNKNOWN:
            key = "ensemble.partial"
        else:
            key = "ensemble.degraded" if e.serving < e.size else "ensemble.ok"
        line = msg(key, lang, cluster=e.cluster, size=e.size, serving=e.serving, quorum=e.quorum,
                   tolerated=max(0, e.serving - e.quorum), inspected=len(e.members))
        if e.unwell and not e.quorum_lost:
            line += msg("ensemble.members_unwell", lang, members=", ".join(e.unwell))
        lines.append(f"[{_status(e.status, lang)}] {line}")
    for t in report.targets:
        common = {"name": t.target, "address": t.address or "-", "role": _role_text(t, lang)}
        if t.layer is None:
            lines.append("- " + msg("target.ok", lang, checks=t.checks, **common))
            continue
        lines.append("- " + msg("target.failed", lang, status=_status(t.status, lang),
                                layer=msg(f"layer.{t.layer}", lang), **common))
        primary = t.failures[0]
        shown = primary.summaries[: max(1, len(primary.summaries) - primary.unanswered)][:4]
        lines.extend(f"    · {_summary_line(s, lang)}" for s in shown)
        if len(primary.summaries) > len(shown):
            lines.append("    · " + msg("more_unanswered", lang, count=len(primary.summaries) - len(shown)))
        lines.extend(f"    {msg('evidence', lang)}: {e.source} → {e.detail.splitlines()[0][:160] if e.detail else ''}"
                     for e in primary.evidence[:evidence_lines])
        if primary.runbooks:
            lines.append(f"    {msg('runbook', lang)}: {', '.join(_in_lang(rb, lang) for rb in primary.runbooks)}")
        if len(t.failures) > 1:
            also = ", ".join(f"{msg(f'layer.{lf.layer}', lang)} ({_status(lf.status, lang)})" for lf in t.failures[1:])
            lines.append("    " + msg("target.also", lang, layers=also))
    return "\n".join(lines)
