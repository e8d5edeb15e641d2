"""Django ORM peer (WSGI, sync views): a single-file project plus the ``djdb`` app (models).

Configured as in production and as ``benchmarks/peers/django_app.py``: DEBUG off,
no middleware. ``DATABASES`` points at the runner's PostgreSQL through Django's
PostgreSQL backend (psycopg 3), with ``CONN_MAX_AGE`` so the connection persists
across requests (the sync worker handles one request at a time, so one
connection is all it uses). Fortunes are rendered by the Django template
language (``templates_dtl/fortunes.html``, cached loader). Served by gunicorn,
one sync worker.
"""

from __future__ import annotations

import random
from operator import attrgetter
from pathlib import Path
from urllib.parse import urlsplit

import django
from _tfb import ADDED_FORTUNE, ALLOWED_HOSTS, DB_URL, SECRET_KEY, WORLD_ROWS, queries_param
from django.conf import settings

HERE = Path(__file__).resolve().parent
_url = urlsplit(DB_URL)

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS=[*ALLOWED_HOSTS, "testserver"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["djdb"],
        MIDDLEWARE=[],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": _url.path.lstrip("/"),
                "USER": _url.username or "postgres",
                "PASSWORD": _url.password or "",
                "HOST": _url.hostname,
                "PORT": str(_url.port or 5432),
                "CONN_MAX_AGE": 600,
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [HERE / "templates_dtl"],
                "APP_DIRS": False,
            }
        ],
        USE_TZ=True,
        USE_I18N=False,
        LOGGING_CONFIG=None,
    )
    django.setup()

from django.db import transaction  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402
from djdb.models import Fortune, World  # noqa: E402

randint = random.randint


def single_query(request: HttpRequest) -> JsonResponse:
    world = World.objects.get(id=randint(1, WORLD_ROWS))
    return JsonResponse({"id": world.id, "randomNumber": world.randomnumber})


def multiple_queries(request: HttpRequest) -> JsonResponse:
    count = queries_param(request.GET.get("queries"))
    worlds = []
    for _ in range(count):
        world = World.objects.get(id=randint(1, WORLD_ROWS))
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return JsonResponse(worlds, safe=False)


def fortunes(request: HttpRequest) -> HttpResponse:
    rows = list(Fortune.objects.all())
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", {"fortunes": rows})


def updates(request: HttpRequest) -> JsonResponse:
    count = queries_param(request.GET.get("queries"))
    with transaction.atomic():
        worlds = []
        for ident in random.sample(range(1, WORLD_ROWS + 1), count):
            world = World.objects.get(id=ident)
            world.randomnumber = randint(1, WORLD_ROWS)
            worlds.append(world)
        World.objects.bulk_update(worlds, ["randomnumber"])  # one UPDATE ... CASE
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds], safe=False)


urlpatterns = [
    path("db", single_query),
    path("queries", multiple_queries),
    path("fortunes", fortunes),
    path("updates", updates),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
