"""Django peer for the site scenarios, as ASGI (``asgi_app``) or WSGI (``wsgi_app``).

A single-file project configured for a server-rendered site, kept to what the
two scenarios need:

- templates: Django's default engine (the Django template language, DTL),
  with ``templates_dtl/``, the DTL twin of heron's and Flask's Jinja2 page;
  DEBUG=False, so the cached template loader is used; one context processor
  (``request``), as heron and Flask also put the request in the context;
- sessions: ``SessionMiddleware`` with the ``signed_cookies`` engine, the
  closest match to heron's and Flask's signed-cookie sessions (no database);
  it is the only middleware, so no security headers and no host check on these
  responses, which heron does add.

Views are ``def`` under WSGI and ``async def`` under ASGI (``BENCH_DJANGO_ASYNC=1``),
as in ``django_app.py``; the async session view uses Django's async session
API (``aget``/``aset``).

    GET /page      django.shortcuts.render(request, "page.html", {...})
    GET /counter   session["counter"] += 1, the new value as text/plain
    GET /cached    /page behind ``cache_page(60)`` (the default LocMemCache)
"""

from __future__ import annotations

import os
from pathlib import Path

import django
from _site_data import ALLOWED_HOSTS, FOOTER, ITEMS, SECRET_KEY, TITLE, USER
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.cache import cache_page

ASYNC_VIEWS = os.environ.get("BENCH_DJANGO_ASYNC", "0") == "1"
HERE = Path(__file__).resolve().parent

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS=[*ALLOWED_HOSTS, "testserver"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [HERE / "templates_dtl"],
                "APP_DIRS": False,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
            }
        ],
        DATABASES={},
        USE_TZ=True,
        USE_I18N=False,
        LOGGING_CONFIG=None,
    )
    django.setup()

CONTEXT = {"title": TITLE, "user": USER, "footer": FOOTER, "items": ITEMS}

if ASYNC_VIEWS:

    async def page(request: HttpRequest) -> HttpResponse:
        """``GET /page``: the DTL page."""
        return render(request, "page.html", CONTEXT)

    async def counter(request: HttpRequest) -> HttpResponse:
        """``GET /counter``: read, increment and store a counter in the session."""
        value = await request.session.aget("counter", 0) + 1
        await request.session.aset("counter", value)
        return HttpResponse(str(value), content_type="text/plain")

else:

    def page(request: HttpRequest) -> HttpResponse:  # type: ignore[misc]
        """``GET /page``: the DTL page."""
        return render(request, "page.html", CONTEXT)

    def counter(request: HttpRequest) -> HttpResponse:  # type: ignore[misc]
        """``GET /counter``: read, increment and store a counter in the session."""
        value = request.session.get("counter", 0) + 1
        request.session["counter"] = value
        return HttpResponse(str(value), content_type="text/plain")


# Django's default cache is LocMemCache (in this process's memory), as heron's is.
urlpatterns: list[URLPattern] = [path("page", page), path("counter", counter),
                                 path("cached", cache_page(60)(page))]

# Imported after settings are configured, as Django requires.
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

asgi_app = get_asgi_application()
wsgi_app = get_wsgi_application()
