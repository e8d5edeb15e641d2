"""The views behind ``openapi_url`` and ``docs_url``: they import :mod:`heron.openapi`
on first request, so that apps which never serve their schema never load it."""

from __future__ import annotations

from typing import Any

from heron.requests import Request


async def openapi_document(request: Request) -> Any:
    from heron.openapi.views import openapi_document as view

    return await view(request)


async def docs_page(request: Request) -> Any:
    from heron.openapi.views import docs_page as view

    return await view(request)


async def docs_asset(request: Request, name: str) -> Any:
    from heron.openapi.views import docs_asset as view

    return await view(request, name)
