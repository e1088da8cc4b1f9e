"""``rma web``: the partner portal and the HTTP API of SPEC §9, one FastAPI application.

    app        create_app(): the application (settings and engine in ``app.state``)
    server     serve(): uvicorn, one or more worker processes
    api        the JSON API under /api/v1 (Bearer tokens)
    auth       who a request acts for (an API token's account)
    errors     every error as {"error": {"code", "message"}}
    security   security headers on every response, request body limits
    pages      the portal's pages (sign-in, upload and review; Jinja2 templates)
    docs       the OpenAPI documentation at /api/docs (no CDN, no inline script)

The pages (sign-in, upload and review, claims, staff) go beside ``api`` as routers of their
own, on the same ``app.state``; like the API they call ``rma.service`` only, never the adapters.
"""
