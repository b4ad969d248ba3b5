"""Extra report sections contributed by integrations, starting with ZooKeeper's ``zk检测`` localisation.

The core must not know a vendor by name at import time (DESIGN.md §4), and the ZooKeeper
diagnosis is written separately, so the hook imports it lazily and only uses what it finds:

* ``steadyops.integrations.zookeeper.diagnose.localise(findings, **kw)`` returning an object with
  ``.status`` (a :class:`CheckStatus`) and ``.render(lang)``, or a module-level
  ``render(result, lang)``; keyword arguments (``addresses``, ``clusters``, ``scope``) are passed
  only if its signature accepts them.

If the module or the function is missing the section is simply absent; if it raises, the section
says so instead of the whole report failing — a report with one broken section beats no report.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from steadyops.core.i18n import Lang, t
from steadyops.core.inventory import Inventory
from steadyops.core.models import CheckStatus, Finding
from steadyops.reports.inspection import ReportSection

log = logging.getLogger(__name__)

SectionProvider = Callable[[Sequence[Finding], Inventory | None], ReportSection | None]

ZK_DIAGNOSE = "steadyops.integrations.zookeeper.diagnose"
LANGS: tuple[Lang, ...] = ("zh", "en")


def _status(value: object) -> CheckStatus | None:
    try:
        return CheckStatus(str(value))  # a StrEnum's str() is its value
    except ValueError:
        return None


def _render(module: Any, result: Any, lang: Lang) -> str:
    render = getattr(result, "render", None)
    if callable(render):
        return str(render(lang))
    render = getattr(module, "render", None)
    if callable(render):
        return str(render(result, lang))
    return str(result)


def _accepted(func: Callable[..., Any], offered: dict[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return offered
    return {k: v for k, v in offered.items() if k in params}


def zookeeper_section(findings: Sequence[Finding], inventory: Inventory | None,
                      module_name: str | None = None) -> ReportSection | None:
    """The ``zk检测`` localisation (which layer failed on which ZooKeeper) when the diagnosis exists."""
    if not any(f.target_kind == "zookeeper" for f in findings):
        return None
    try:
        module = importlib.import_module(module_name or ZK_DIAGNOSE)
    except ImportError:
        return None
    except Exception as exc:  # present but broken (a syntax error mid-upgrade): say so, keep the report
        log.warning("cannot import %s: %s: %s", module_name or ZK_DIAGNOSE, type(exc).__name__, exc)
        return None
    localise = getattr(module, "localise", None)
    if not callable(localise):
        return None
    title = {lang: t("report.section.zookeeper", lang) for lang in LANGS}
    targets = list(inventory.targets.values()) if inventory else []
    offered: dict[str, Any] = {
        "addresses": {tg.name: tg.address or tg.name for tg in targets},
        "clusters": {tg.name: tg.labels["cluster"] for tg in targets if tg.labels.get("cluster")},
    }
    try:
        result = localise(list(findings), **_accepted(localise, offered))
        body = {lang: _render(module, result, lang) for lang in LANGS}
    except Exception as exc:  # a diagnosis bug must not take the inspection report down with it
        log.warning("zookeeper localisation failed: %s: %s", type(exc).__name__, exc)
        body = {lang: t("report.section_failed", lang, error=f"{type(exc).__name__}: {exc}")
                for lang in LANGS}
        return ReportSection(key="zookeeper", status=CheckStatus.UNKNOWN, title=title, body=body)
    data = result.model_dump(mode="json", exclude={"findings"}) if isinstance(result, BaseModel) else None
    return ReportSection(key="zookeeper", status=_status(getattr(result, "status", None)), title=title, body=body,
                         data=data)


DEFAULT_SECTIONS: tuple[SectionProvider, ...] = (zookeeper_section,)


def collect_sections(findings: Sequence[Finding], inventory: Inventory | None,
                     providers: Sequence[SectionProvider] = DEFAULT_SECTIONS) -> list[ReportSection]:
    out: list[ReportSection] = []
    for provider in providers:
        try:
            section = provider(findings, inventory)
        except Exception as exc:  # same reasoning as above, for providers that do not guard themselves
            log.warning("report section %r failed: %s", provider, exc)
            continue
        if section is not None:
            out.append(section)
    return out
