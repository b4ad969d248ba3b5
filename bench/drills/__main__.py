"""Fault drills: `steadyops serve` alone, real services on loopback, one real fault at a time.

    python bench/drills [--only redis-dead zk-hung …] [--interval 5]

Nothing here asks for an inspection: the server's scheduler finds each fault by itself. Per drill
the table prints how many incidents the fault opened (goal 1), the time to detect (fault injected →
incident opened), whether the diagnosis's top-1 suspect is the faulty target and the time until it
first said so (T_locate), the layer ``zk检测`` reports for ZooKeeper drills, and the time to recover
after approval (plan approved → incident resolved) when a remedy fits — else "manual" and the time
after the drill undid the fault itself. Goals: detect ≤ 15 s, right top-1 ≤ 30 s, recover ≤ 60 s
after approval, one incident per fault.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: tests.harness

from faults import DRILLS, Drill

from harness import Env, environment
from tests.harness.services import Service, start_steadyops

GOAL_DETECT, GOAL_LOCATE, GOAL_RECOVER = 15.0, 30.0, 60.0
POLL = 0.5


@dataclass
class Result:
    drill: str
    incidents: int = 0
    t_detect: float | None = None
    top1: str = "-"
    right: bool = False
    t_locate: float | None = None
    zk_layer: str = ""
    #: the leading finding on the target in the incident: check/layer (+ hung or saturated)
    lead: str = ""
    remedy: str = "-"
    t_recover: float | None = None
    manual: bool = False
    note: str = ""
    titles: list[str] | None = None


class Api:
    def __init__(self, url: str, token: str | None = None) -> None:
        token = os.environ.get("STEADYOPS_TOKEN") or token
        self.http = httpx.Client(base_url=url, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"} if token else {})
        self.lead: dict[str, str] = {}

    def approver(self) -> dict[str, str]:
        """The drill lead's credential: a real approver, not the admin who planned the remedy."""
        if not self.lead:
            self.post("/api/v1/auth/principals", {"name": "drill-lead", "kind": "user", "role": "approver"})
            made = self.post("/api/v1/auth/tokens", {"owner": "drill-lead", "name": "drills"})
            self.lead = {"Authorization": f"Bearer {made['token']}"}
        return self.lead

    def get(self, path: str, **params: Any) -> Any:
        resp = self.http.get(path, params=params)
        resp.raise_for_status()
        return resp.json()

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        resp = self.http.post(path, json=body, headers=headers)
        if resp.status_code >= 400:
            raise RuntimeError(f"POST {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json()

    def incidents(self) -> dict[int, dict[str, Any]]:
        return {i["id"]: i for i in self.get("/api/v1/incidents", limit=500)}


def ts(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def config(env: Env, inventory: Path, interval: float, extra_commands: list[list[str]] | None = None) -> dict[str, Any]:
    commands = [c for d in env.restartable().values() for c in d.commands] + (extra_commands or [])
    return {
        "lang": "en",
        "inventory": str(inventory),
        "inspection": {"interval": f"{interval}s", "timeout": "4s", "jitter": 0.1},
        # drills follow each other within seconds: a short reopen window keeps two different faults on
        # one target two incidents, while a fault flapping during its own drill still reopens its own
        "convergence": {"reopen_window": "20s"},
        "remediation": {
            "policies": [{"actions": ["*"], "mode": "one", "approvers": ["drill-lead"]}],
            "allow": [{"targets": ["*"], "actions": ["*"], "paths": [str(env.zk_data), str(env.host_disk)],
                       "commands": commands}],
        },
    }


def cli(server: Service, *args: str) -> subprocess.CompletedProcess[str]:
    """The operator's CLI against the drill server (same config file and data dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEADYOPS_") or k == "STEADYOPS_TOKEN"}
    env.update({"STEADYOPS_CONFIG": str(server.workdir / "steadyops.yaml"), "STEADYOPS_PORT": str(server.port),
                "STEADYOPS_HOST": "127.0.0.1", "STEADYOPS_DATA_DIR": str(server.workdir.parent / "data")})
    return subprocess.run([sys.executable, "-m", "steadyops", *args], capture_output=True, text=True, timeout=120,
                          env=env, check=False)


def zk_layer(server: Service, target: str) -> str:
    """The layer ``zk检测`` (the on-call command, run as the operator would) names for ``target``."""
    done = cli(server, "do", f"zk检测 {target}")
    if os.environ.get("DRILLS_DEBUG"):
        print(done.stdout[-3000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    found = re.search(rf"{re.escape(target)} \(.*?failed layer: ([\w-]+)", done.stdout)
    if found:
        return found.group(1)
    return "healthy" if re.search(rf"{re.escape(target)} \(.*?: healthy", done.stdout) else "?"


def settle(api: Api, env: Env, timeout: float = 60.0) -> list[int]:
    """Wait until no incident is open; returns those still open after ``timeout``."""
    deadline = time.time() + timeout
    while True:
        still = [i for i, inc in api.incidents().items() if inc["status"] != "resolved"]
        if not still or time.time() > deadline:
            return still
        time.sleep(1.0)


def primary(touched: dict[int, dict[str, Any]], target: str) -> dict[str, Any]:
    hits = [i for i in touched.values() if target in i["targets"]]
    return min(hits or touched.values(), key=lambda i: i["id"])


def diagnosis(api: Api, incident_id: int) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    detail = api.get(f"/api/v1/incidents/{incident_id}")
    diags = [d for d in detail.get("diagnoses", []) if d["mode"] == "deterministic"]
    return (diags[0] if diags else None), detail


def lead_of(detail: dict[str, Any], target: str) -> tuple[str, str]:
    """(layer, "check/layer[ hung|saturated]: summary") of the incident's leading alert on ``target``:
    the earliest critical one, else the earliest warning (what the on-call reads first)."""
    mine = [a for a in detail.get("alerts", []) if a["labels"].get("target") == target and a["status"] == "firing"]
    if not mine:
        return "", ""
    lead = min(mine, key=lambda a: (a["labels"].get("severity") != "critical", a["starts_at"]))
    layer = lead.get("annotations", {}).get("layer", "")
    marks = [m for m in ("hung", "saturated") if lead["labels"].get(m) == "true"]
    summary = lead.get("annotations", {}).get("summary", "")
    return layer, (f"{lead['labels'].get('alertname', '?')}/{layer or '-'}" + "".join(f" {m}" for m in marks)
                   + f" — {summary[:90]}")


def top_of(diag: dict[str, Any] | None) -> str:
    if diag is None:
        return "-"
    if diag["inconclusive"] or not diag["candidates"]:
        return "inconclusive"
    return str(diag["candidates"][0]["target"])


def recover(api: Api, server: Service, env: Env, drill: Drill, incident: dict[str, Any],
            diag: dict[str, Any] | None, res: Result) -> float | None:
    """Apply the drill's remedy through the approval policy; the time it was approved."""
    proposed = {a["action"] for a in (diag or {}).get("actions", [])}
    if drill.remedy == "service.restart":
        ctl = env.restartable()[drill.target]
        run = api.post("/api/v1/actions", {
            "action": "service.restart", "target": drill.target,
            "params": {"stop": [str(ctl.ctl), "stop"], "start": [str(ctl.ctl), "start"],
                       "health_check": drill.health_check, "health_timeout": 45}})
        run_id = run["id"]
    elif drill.remedy == "inference.restart":  # the restart command comes from the target's label
        run = api.post("/api/v1/actions", {"action": "inference.restart", "target": drill.target,
                                           "params": {"ready_timeout": 45}})
        run_id = run["id"]
    else:
        done = cli(server, "do", f"磁盘清理 {drill.target}", "--format", "json")
        try:
            run_id = next(r["run_id"] for r in json.loads(done.stdout) if r.get("run_id") is not None)
        except (json.JSONDecodeError, StopIteration):
            res.note = f"磁盘清理 failed: {(done.stderr or done.stdout).strip()[:80]}"
            return None
        run = api.get(f"/api/v1/actions/{run_id}")
    action = run["action"]
    res.remedy = action + ("" if action in proposed else " (not proposed)")
    approved = api.post(f"/api/v1/actions/{run_id}/approve",
                        {"reason": f"drill {drill.name}", "plan_hash": run["plan_hash"]}, headers=api.approver())
    t_approved = ts(approved.get("updated_at")) or time.time()
    outcome = api.post(f"/api/v1/actions/{run_id}/apply", {})
    if not outcome.get("ok"):
        res.note = f"{action}: {outcome.get('summary', '')[:80]}"
    return t_approved


def run_drill(api: Api, server: Service, env: Env, drill: Drill) -> Result:
    res = Result(drill.name)
    base = {i: inc["status"] for i, inc in api.incidents().items()}
    t0 = time.time()
    try:
        drill.inject(env)
    except Exception as exc:  # a fault that could not be injected is reported, not a crash of the run
        res.note = f"inject failed: {exc}"[:100]
        drill.undo(env)
        return res
    touched: dict[int, dict[str, Any]] = {}
    diag: dict[str, Any] | None = None
    inc: dict[str, Any] | None = None
    while time.time() - t0 < 40:
        now = api.incidents()
        for i, row in now.items():
            if i not in base or (base[i] == "resolved" and row["status"] != "resolved"):
                touched[i] = row
        if touched:
            inc = primary(touched, drill.target)
            diag, detail = diagnosis(api, inc["id"])
            if res.t_detect is None:  # the server's own time: opened, or reopened (a flapping target)
                events = [ts(e["at"]) for e in detail.get("timeline", []) if e["kind"] in ("opened", "reopened")]
                seen = [e for e in events if e is not None and e >= t0 - 1]
                res.t_detect = max(0.0, (min(seen) if seen else time.time()) - t0)
            made = ts(diag["created_at"]) if diag else None
            if made is not None and made < t0:
                diag = None  # a diagnosis from before this fault (a reopened incident) says nothing yet
            res.top1 = top_of(diag)
            layer, lead = lead_of(detail, drill.target)
            if lead and drill.name.startswith("llm-"):  # the inference drills also say which kind of fault
                res.lead = lead + ("" if layer == drill.layer else f" ✗ (want {drill.layer})")
            if res.top1 == drill.target and res.t_locate is None:
                res.t_locate = max(0.0, (made or time.time()) - t0)
            if res.t_locate is not None and time.time() - t0 > res.t_locate + 2:
                break  # stays right a little while: done locating
        time.sleep(POLL)
    res.right = res.top1 == drill.target
    if drill.zk:
        res.zk_layer = zk_layer(server, drill.target)
    t_start = None
    if inc is not None and drill.remedy is not None:
        try:
            t_start = recover(api, server, env, drill, inc, diag, res)
        except Exception as exc:  # a refused or failed remedy is a result, not a crash of the drills
            res.note = f"remedy: {exc}"[:100]
    if t_start is None:
        try:
            drill.undo(env)
        except Exception as exc:  # report it; the next drills still run
            res.note = f"undo failed: {exc}"[:100]
        t_start, res.manual = time.time(), True
    drill.settle(env)
    if inc is not None:
        deadline = time.time() + 75
        while time.time() < deadline:
            now_row = api.incidents().get(inc["id"])
            if now_row is not None and now_row["status"] == "resolved":
                res.t_recover = max(0.0, (ts(now_row["resolved_at"]) or time.time()) - t_start)
                break
            time.sleep(POLL)
    if not res.manual and res.t_recover is None:  # the remedy did not bring it back: put it right
        try:
            drill.undo(env)
        except Exception as exc:
            res.note = f"{res.note} undo failed: {exc}"[:100]
    env.release()
    left = settle(api, env, timeout=30)
    for i, row in api.incidents().items():
        if i not in base or (base[i] == "resolved" and i in touched):
            touched[i] = row
    res.incidents = len(touched)
    res.titles = [f"#{i} {row['title']}" for i, row in sorted(touched.items())]
    if left:
        res.note = (res.note + f" still open: {left}").strip()
        for i in left:
            api.post(f"/api/v1/incidents/{i}/resolve", {"comment": "reset between drills"})
    return res


def fmt(v: float | None, goal: float) -> str:
    return "-" if v is None else f"{v:5.1f}{'' if v <= goal else ' ✗'}"


def table(results: list[Result]) -> str:
    head = (f"{'drill':<20}{'incidents':>10}{'T_detect':>10}  {'top-1':<14}{'right':<6}{'T_locate':>10}  "
            f"{'zk检测':<10}{'remedy':<30}{'T_recover':>12}  note")
    lines = [head, "-" * len(head)]
    for r in results:
        rec = "-" if r.t_recover is None else f"{r.t_recover:5.1f}" + (" manual" if r.manual else "") + (
            " ✗" if r.t_recover > GOAL_RECOVER else "")
        note = "; ".join(x for x in (f"lead: {r.lead}" if r.lead else "", r.note) if x)
        lines.append(f"{r.drill:<20}{r.incidents:>10}{fmt(r.t_detect, GOAL_DETECT):>10}  {r.top1[:13]:<14}"
                     f"{'yes' if r.right else 'NO':<6}{fmt(r.t_locate, GOAL_LOCATE):>10}  {r.zk_layer[:9]:<10}"
                     f"{('-' if r.manual else r.remedy)[:29]:<30}{rec:>12}  {note}")
    n = len(results)
    one = sum(1 for r in results if r.incidents == 1)
    det = [r.t_detect for r in results if r.t_detect is not None]
    loc = [r.t_locate for r in results if r.t_locate is not None]
    approved = [r.t_recover for r in results if r.t_recover is not None and not r.manual]
    lines += ["-" * len(head),
              f"one incident per fault: {one}/{n}   detected: {len(det)}/{n} (≤ {GOAL_DETECT:g} s: "
              f"{sum(1 for v in det if v <= GOAL_DETECT)}, mean {sum(det) / max(len(det), 1):.1f} s)   "
              f"right top-1: {sum(1 for r in results if r.right)}/{n} (≤ {GOAL_LOCATE:g} s: "
              f"{sum(1 for v in loc if v <= GOAL_LOCATE)})   recovered after approval: {len(approved)} "
              f"(≤ {GOAL_RECOVER:g} s: {sum(1 for v in approved if v <= GOAL_RECOVER)})"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="drill names (default: all)")
    ap.add_argument("--interval", type=float, default=5.0, help="inspection.interval of the server")
    ap.add_argument("--inference", action="store_true",
                    help="also a real llama.cpp server and its drills (needs llama-cpp-python: make test builds it)")
    args = ap.parse_args()
    catalogue = list(DRILLS)
    if args.inference:
        from inference_faults import INFERENCE_DRILLS
        catalogue += INFERENCE_DRILLS
    drills = [d for d in catalogue if not args.only or d.name in args.only]
    results: list[Result] = []
    with environment() as env:
        inventory = env.root / "inventory.yaml"
        targets = env.inventory()
        extra: list[list[str]] = []
        if args.inference:
            from inference_faults import llm_target, start_llm
            (env.root / "llm").mkdir()
            env.llm = start_llm(env.root / "llm")
            targets["targets"].append(llm_target(env.llm))
            extra.append([str(env.llm.restart_script())])
        inventory.write_text(yaml.safe_dump(targets, allow_unicode=True), encoding="utf-8")
        server = start_steadyops(config(env, inventory, args.interval, extra), data_dir=env.root / "data",
                                 workdir=env.root / "steadyops", log_level="warning")
        try:
            api = Api(f"http://127.0.0.1:{server.port}", server.token)
            print(f"drills: steadyops serve on :{server.port}, {len(targets['targets'])} targets, "
                  f"inspection.interval {args.interval:g}s; warming up …", flush=True)
            time.sleep(3 * args.interval)
            left = settle(api, env, timeout=30)
            if left:
                print(f"warning: incidents open before any fault: "
                      f"{[api.incidents()[i]['title'] for i in left]}", flush=True)
                for i in left:
                    api.post(f"/api/v1/incidents/{i}/resolve", {"comment": "noise before drills"})
            for drill in drills:
                print(f"… {drill.name}: {drill.what}", flush=True)
                results.append(run_drill(api, server, env, drill))
                print(table(results[-1:]).splitlines()[2], flush=True)
                print(f"    incidents: {'; '.join(results[-1].titles or [])}", flush=True)
            stats = api.get("/api/v1/stats")
        finally:
            server.stop()
            if env.llm is not None:
                env.llm.stop()
    print()
    print(table(results))
    print(f"server /api/v1/stats: MTTD {stats.get('mttd_seconds')} s, MTTL {stats.get('mttl_seconds')} s, "
          f"MTTR {stats.get('mttr_seconds')} s; 1-5-10: {json.dumps(stats.get('goals'))}")
    print(json.dumps({"benchmark": "drills", "results": [r.__dict__ for r in results]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
