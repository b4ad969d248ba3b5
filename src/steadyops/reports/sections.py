"""Extra report sections contributed by integrations (``registry.add_report_section``).

A provider gets the report's findings and the inventory and returns a :class:`ReportSection` (both
languages) or None when it has nothing to say — ZooKeeper's ``zk检测`` localisation is one. The
core knows no provider by name: the caller passes the registry's (``registry.sections()``).

If a provider raises, the report gets a section saying so instead of failing as a whole: a report
with one broken section beats no report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from steadyops.contracts.sections import ReportSection, SectionProvider
from steadyops.core.i18n import Lang, t
from steadyops.core.inventory import Inventory
from steadyops.core.models import CheckStatus, Finding

__all__ = ["SectionProvider", "collect_sections"]

log = logging.getLogger(__name__)

LANGS: tuple[Lang, ...] = ("zh", "en")


def collect_sections(findings: Sequence[Finding], inventory: Inventory | None,
                     providers: Sequence[tuple[str, SectionProvider]] = ()) -> list[ReportSection]:
    """Each provider's section, in order; ``providers`` is ``registry.sections()`` ((key, provider) pairs)."""
    out: list[ReportSection] = []
    for key, provider in providers:
        try:
            section = provider(findings, inventory)
        except Exception as exc:  # a plugin's bug must not take the inspection report down with it
            log.warning("report section %s failed: %s: %s", key, type(exc).__name__, exc)
            error = f"{type(exc).__name__}: {exc}"
            section = ReportSection(key=key, status=CheckStatus.UNKNOWN, title={lang: key for lang in LANGS},
                                    body={lang: t("report.section_failed", lang, error=error) for lang in LANGS})
        if section is not None:
            out.append(section)
    return out
