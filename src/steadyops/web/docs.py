"""``/docs``: Swagger UI from assets steadyops serves itself, so the API browser works on a machine
with no internet access (FastAPI's default page loads them from a CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from steadyops.auth import PUBLIC

router = APIRouter(include_in_schema=False, dependencies=[Depends(PUBLIC)])  # sign-in pages and docs are open


@router.get("/docs", response_class=HTMLResponse)
def swagger() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="steadyops API",
                               swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                               swagger_css_url="/static/swagger/swagger-ui.css",
                               swagger_favicon_url="/static/swagger/favicon-32x32.png")
