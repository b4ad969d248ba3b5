"""The inventory's dependency graph, drawn on the server as SVG with live health colours.

Layout is by dependency depth (a target sits one column right of everything it depends on), which
reads like a request path — entry points on the left, data stores on the right — and needs no
layout library. A node links to its own page: its checks and its open incidents.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from sqlalchemy import select

from steadyops.auth import Principal
from steadyops.core.errors import NotFound
from steadyops.core.inventory import Inventory
from steadyops.store import incident_targets
from steadyops.store.tables import CheckStateRow, IncidentRow
from steadyops.web.render import render
from steadyops.web.session import app_of, lang_of, viewer

router = APIRouter(include_in_schema=False)

NODE_W, NODE_H, COL_W, ROW_H = 150, 40, 210, 60
RANK = {"critical": 3, "warning": 2, "unknown": 1, "ok": 0}


def depth(inv: Inventory) -> dict[str, int]:
    """Longest chain of callers above each target (callers left of callees), cycles cut."""
    callers: dict[str, list[str]] = {n: [] for n in inv.targets}
    for name, t in inv.targets.items():
        for dep in t.depends_on:
            callers.setdefault(dep, []).append(name)
    memo: dict[str, int] = {}

    def d(name: str, seen: frozenset[str]) -> int:
        if name in memo:
            return memo[name]
        ups = [c for c in callers.get(name, []) if c not in seen]
        memo[name] = 0 if not ups else 1 + max(d(c, seen | {name}) for c in ups)
        return memo[name]

    return {n: d(n, frozenset()) for n in inv.targets}


def health(request: Request) -> dict[str, str]:
    app = app_of(request)
    worst: dict[str, str] = {}
    with app.store.transaction() as s:
        for target, status in s.execute(select(CheckStateRow.target, CheckStateRow.status)):
            if RANK.get(status, 0) > RANK.get(worst.get(target, "ok"), 0):
                worst[target] = status
    return worst


def draw(inv: Inventory, worst: dict[str, str]) -> Markup:
    cols = depth(inv)
    per_col: dict[int, list[str]] = {}
    for name in sorted(inv.targets):
        per_col.setdefault(cols[name], []).append(name)
    pos = {name: (20 + c * COL_W, 20 + i * ROW_H) for c, names in per_col.items() for i, name in enumerate(names)}
    width = 40 + (max(per_col, default=0) + 1) * COL_W
    height = 40 + max((len(v) for v in per_col.values()), default=1) * ROW_H
    parts = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    for name, t in inv.targets.items():
        x1, y1 = pos[name]
        for dep in t.depends_on:
            if dep in pos:
                x2, y2 = pos[dep]
                parts.append(f'<line class="edge" x1="{x1 + NODE_W}" y1="{y1 + NODE_H / 2}" x2="{x2}" '
                             f'y2="{y2 + NODE_H / 2}" marker-end="url(#arrow)"/>')
    for name, (x, y) in pos.items():
        t = inv.targets[name]
        state = worst.get(name, "ok")
        parts.append(f'<a href="/topology/{escape(name)}" data-node="{escape(name)}"><g class="node st-{state}">'
                     f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
                     f'<text x="{x + 8}" y="{y + 17}">{escape(name[:20])}</text>'
                     f'<text class="kind" x="{x + 8}" y="{y + 32}">{escape(t.kind)}</text></g></a>')
    return Markup(f'<svg class="topology" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'role="img">{"".join(parts)}</svg>')


@router.get("/topology", response_class=HTMLResponse)
def topology_page(request: Request, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    app = app_of(request)
    return render(request, "topology.html.j2", lang=lang_of(request), svg=draw(app.inventory, health(request)),
                  count=len(app.inventory.targets))


@router.get("/topology/{name}", response_class=HTMLResponse)
def node_page(request: Request, name: str, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    app = app_of(request)
    target = app.inventory.targets.get(name)
    if target is None:
        raise NotFound(f"target {name!r} is not in the inventory")
    with app.store.transaction() as s:
        states = list(s.scalars(select(CheckStateRow).where(CheckStateRow.target == name)))
        naming = incident_targets.holding(s, [name], open_only=True).get(name, set())
        incidents: list[Any] = list(s.scalars(select(IncidentRow).where(IncidentRow.id.in_(sorted(naming)))
                                              .order_by(IncidentRow.id.desc()).limit(500))) if naming else []
        s.expunge_all()
    checks = [c.name for c in app.registry.checks_for(target.kind)]
    return render(request, "node.html.j2", lang=lang_of(request), target=target, states=states, checks=checks,
                  incidents=incidents, callers=[n for n, t in app.inventory.targets.items() if name in t.depends_on])
