"""Django peer: a single-file project usable as ASGI (``asgi_app``) or WSGI (``wsgi_app``).

Settings are the minimum a real deployment would keep for a JSON/text API:
``DEBUG=False``, no database, no installed apps, no middleware.

Views are plain ``def`` functions by default (idiomatic Django, and what WSGI
wants). Under ASGI, Django would run sync views in a worker thread, so the
runner sets ``BENCH_DJANGO_ASYNC=1`` to get ``async def`` views instead, which
is what the Django docs recommend for ASGI deployments.

    uvicorn django_app:asgi_app     # with BENCH_DJANGO_ASYNC=1
    gunicorn django_app:wsgi_app
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path

ROUTE_COUNT = int(os.environ.get("BENCH_ROUTES", "500"))
ASYNC_VIEWS = os.environ.get("BENCH_DJANGO_ASYNC", "0") == "1"

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        DATABASES={},
        USE_TZ=True,
        USE_I18N=False,
        LOGGING_CONFIG=None,
    )
    django.setup()

View = Callable[..., Any]


def _sync_views() -> tuple[View, View, Callable[[int], View]]:
    """Build ``def`` views: plaintext, json and the numbered-route factory."""

    def plaintext(request: HttpRequest) -> HttpResponse:
        return HttpResponse("Hello, World!", content_type="text/plain")

    def json_view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"message": "Hello, World!"})

    def make_numbered(index: int) -> View:
        def numbered(request: HttpRequest, id: int) -> HttpResponse:
            return JsonResponse({"route": index, "id": id})

        return numbered

    return plaintext, json_view, make_numbered


def _async_views() -> tuple[View, View, Callable[[int], View]]:
    """Build ``async def`` views: plaintext, json and the numbered-route factory."""

    async def plaintext(request: HttpRequest) -> HttpResponse:
        return HttpResponse("Hello, World!", content_type="text/plain")

    async def json_view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"message": "Hello, World!"})

    def make_numbered(index: int) -> View:
        async def numbered(request: HttpRequest, id: int) -> HttpResponse:
            return JsonResponse({"route": index, "id": id})

        return numbered

    return plaintext, json_view, make_numbered


plaintext, json_view, make_numbered = _async_views() if ASYNC_VIEWS else _sync_views()

urlpatterns: list[URLPattern] = [
    path("plaintext", plaintext),
    path("json", json_view),
    *(path(f"r{i}/<int:id>", make_numbered(i), name=f"r{i}") for i in range(ROUTE_COUNT)),
]

# Imported after settings are configured, as Django requires.
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

asgi_app = get_asgi_application()
wsgi_app = get_wsgi_application()
