"""The API's documentation for partners' developers: Swagger UI at /api/docs over the
application's OpenAPI document (/api/openapi.json). Swagger UI's files come from the
``fastapi-offline`` package (Swagger UI 5, which reads the OpenAPI 3.1 documents FastAPI
writes; ``swagger-ui-bundle``'s 3.x answered "Unable to render this definition") and are
served from here (no CDN). It is started by a script file of ours, not an inline script, so
the page keeps the one Content-Security-Policy (``rma.entrypoints.web.security``)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/api/docs"
OPENAPI = "/api/openapi.json"
ASSETS = DOCS + "/assets"
STATIC = "/static"
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: swagger-ui-bundle.js and swagger-ui.css, as fastapi-offline ships them
SWAGGER_UI_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>RMA claim intake API</title>
<link rel="icon" href="{STATIC}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{STATIC}/api-docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI_DIR), name="api-assets")
    app.mount(STATIC, StaticFiles(directory=STATIC_DIR), name="static")

    @app.get(DOCS, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(PAGE)
