"""`steadyops serve` alone watches its inventory: no inspection is asked for by hand.

A private redis-server is stopped under a running ``serve`` with a 2 s interval; the server must
record the failure by itself within its interval and open exactly one incident for the one fault,
however many rounds see it down (the other Redis checks are "blocked by redis.ping").
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.harness.middleware import start_redis
from tests.harness.services import ServiceMissing, Services, unavailable, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INTERVAL = 2.0
#: the server's first-start admin token, as every API call needs one
AUTH: dict[str, str] = {}


def _incidents(url: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = httpx.get(f"{url}/api/v1/incidents", timeout=5, headers=AUTH).json()
    return data


def test_serve_alone_detects_a_stopped_service_and_opens_one_incident(tmp_path: Path,
                                                                      services: Services) -> None:
    try:
        redis_svc = start_redis(workdir=tmp_path / "redis")
    except ServiceMissing as exc:
        unavailable(exc)
    with redis_svc:
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(yaml.safe_dump({"targets": [
            {"name": "cache", "kind": "redis", "address": redis_svc.address, "labels": {"timeout": "1"}}]}))
        server = services.steadyops({"inventory": str(inventory), "inspection": {"interval": f"{INTERVAL}s"},
                                     "route": {"group_wait": "0s"}}, data_dir=tmp_path / "data")
        url = f"http://127.0.0.1:{server.port}"
        AUTH["Authorization"] = f"Bearer {server.token}"
        # the scheduler's first rounds, with nobody asking for them: healthy, so no incident
        wait_until(lambda: _results(url) or None, timeout=15, what="a scheduled check result")
        assert _incidents(url) == []

        redis_svc.stop()
        stopped_at = time.time()
        found = wait_until(lambda: _incidents(url) or None, timeout=INTERVAL + 10, what="an incident")
        first_seen = _first_failing(url)
        assert first_seen - stopped_at <= INTERVAL + 1.5, "not seen by the next round"
        time.sleep(3 * INTERVAL)  # three more rounds see it down
        incidents = _incidents(url)
        assert len(incidents) == 1, [i["title"] for i in incidents]
        assert "redis.ping" in found[0]["title"]


def _results(url: str) -> list[dict[str, Any]]:
    data = httpx.get(f"{url}/api/v1/checks/history", params={"target": "cache"}, timeout=5, headers=AUTH)
    data.raise_for_status()
    return list(data.json())


def _first_failing(url: str) -> float:
    alerts: list[dict[str, Any]] = httpx.get(f"{url}/api/v1/alerts", timeout=5, headers=AUTH).json()
    starts = [datetime.fromisoformat(a["starts_at"]).timestamp() for a in alerts
              if a["labels"].get("target") == "cache"]
    assert starts, alerts
    return min(starts)
