"""``/api/v1/kb``: search with citations, uploads with limits and clear 4xx errors."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from steadyops.api import kb as kb_api
from steadyops.app import App, build_app
from steadyops.config.settings import Settings
from steadyops.plugins import Registry
from steadyops.server import create_server
from steadyops.testing.auth import admin_token, bearer


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One App and HTTP app for the module (building them is the slow part); documents are wiped
    after every test by ``client``."""
    app: App = build_app(Settings(data_dir=tmp_path_factory.mktemp("kb-api")), registry=Registry())
    fastapi_app = create_server(app, run_pipeline=False)
    if not any(getattr(r, "path", "") == "/api/v1/kb/search" for r in fastapi_app.routes):
        fastapi_app.include_router(kb_api.router)  # until it is wired into create_server
    yield fastapi_app
    app.close()


@pytest.fixture
async def client(api: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://steadyops.test",
                                 headers=bearer(admin_token(api.state.app))) as c:
        yield c
    shutil.rmtree(api.state.app.settings.data_dir / "kb", ignore_errors=True)


async def test_search_returns_cited_passages(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/kb/search", params={"q": "ZooKeeper 四字命令被白名单拒绝", "k": 3})
    assert resp.status_code == 200
    body = resp.json()
    top = body["passages"][0]
    assert top["source"] == "integrations/zookeeper/runbooks/zk-health-check.zh.md"
    assert top["citation"] == f"{top['source']}:{top['line_start']}-{top['line_end']}"
    assert any("4lw.commands.whitelist" in p["text"] for p in body["passages"])
    resp = await client.get("/api/v1/kb/search", params={"q": "kubelet NotReady", "lang": "zh"})
    assert {p["lang"] for p in resp.json()["passages"]} == {"zh"}


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "disk", "k": 0}, {"q": "disk", "k": 51},
                                    {"q": "disk", "lang": "fr"}, {}])
async def test_bad_search_parameters_are_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert (await client.get("/api/v1/kb/search", params=params)).status_code == 422


async def test_upload_json_then_search_list_and_delete(client: httpx.AsyncClient) -> None:
    doc = {"name": "oncall/payments", "text": "# Payments\n\n## Failover\n\nRun `patronictl failover` on the leader.\n"}
    resp = await client.post("/api/v1/kb/documents", json=doc)
    assert resp.status_code == 201, resp.text
    assert resp.json()["passages"] == 1 and resp.json()["format"] == "markdown"
    hits = (await client.get("/api/v1/kb/search", params={"q": "patronictl failover"})).json()["passages"]
    assert hits[0]["citation"] == "oncall/payments:3-5" and hits[0]["heading"] == "Payments > Failover"
    listed = (await client.get("/api/v1/kb/documents")).json()
    assert [d["name"] for d in listed["documents"]] == ["oncall/payments"] and listed["builtin_runbooks"] >= 90
    assert (await client.delete("/api/v1/kb/documents", params={"name": "oncall/payments"})).status_code == 200
    assert (await client.delete("/api/v1/kb/documents", params={"name": "oncall/payments"})).status_code == 404
    hits = (await client.get("/api/v1/kb/search", params={"q": "patronictl"})).json()["passages"]
    assert all(h["source"] != "oncall/payments" for h in hits)


async def test_upload_raw_markdown_and_html(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/kb/documents", params={"name": "notes.md"},
                             content="# 值班须知\n\n## 升级\n\n先电话联系值班经理。\n".encode(),
                             headers={"content-type": "text/markdown; charset=utf-8"})
    assert resp.status_code == 201, resp.text
    html = "<h1>Escalation</h1><script>evil()</script><p>Page the duty manager.</p>"
    resp = await client.post("/api/v1/kb/documents", params={"name": "escalation.html"}, content=html,
                             headers={"content-type": "text/html"})
    assert resp.status_code == 201
    [hit] = (await client.get("/api/v1/kb/search", params={"q": "duty manager", "k": 1})).json()["passages"]
    assert hit["source"] == "escalation.html" and "evil" not in hit["text"]


@pytest.mark.parametrize(("kwargs", "status", "detail"), [
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "invalid document"),
    ({"json": {"name": "x.md"}}, 400, "text"),
    ({"json": {"name": "../x.md", "text": "# x\n\nbody\n"}}, 400, "invalid document name"),
    ({"json": {"name": "x.docx", "text": "body"}}, 400, "unsupported document type"),
    ({"json": {"name": "blank.md", "text": "\n\n  \n"}}, 400, "no text"),
    ({"content": b"# x\n\nbody\n", "headers": {"content-type": "text/markdown"}}, 400, "?name="),
    ({"content": b"\xff\xfe\x00bad", "headers": {"content-type": "text/plain"}, "params": {"name": "a.txt"}},
     400, "UTF-8"),
    ({"content": b"x", "headers": {"content-type": "image/png"}, "params": {"name": "a.png"}}, 400, "content type"),
])
async def test_bad_uploads_are_4xx_and_store_nothing(client: httpx.AsyncClient, kwargs: dict[str, Any], status: int,
                                                     detail: str) -> None:
    resp = await client.post("/api/v1/kb/documents", **kwargs)
    assert resp.status_code == status, resp.text
    assert detail in resp.json()["detail"]
    assert (await client.get("/api/v1/kb/documents")).json()["documents"] == []


async def test_upload_over_the_limit_is_413(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kb_api, "MAX_UPLOAD_BYTES", 1024)
    resp = await client.post("/api/v1/kb/documents", json={"name": "big.md", "text": "# Big\n\n" + "x" * 2000})
    assert resp.status_code == 413
