"""``heron run``: serve the app with uvicorn (default) or granian.

The server loads the app through :func:`served_app`, a factory that imports the
app named in ``HERON_RUN_APP`` and applies ``--debug``/``--no-debug`` on top of
whatever the code set: the command line wins, in the server's worker and reload
processes too.
"""

from __future__ import annotations

import os
from typing import Any

import click

from heron.cli._app import app_options, load_app
from heron.exceptions import MissingDependency


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging plus heron's own loggers (access and errors) on stderr."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["formatters"] = {
        **LOGGING_CONFIG["formatters"],
        "heron": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
    }
    config["handlers"] = {
        **LOGGING_CONFIG["handlers"],
        "heron": {"class": "logging.StreamHandler", "formatter": "heron",
                  "stream": "ext://sys.stderr"},
    }
    config["loggers"] = {
        **LOGGING_CONFIG["loggers"],
        "heron": {"handlers": ["heron"], "level": level.upper(), "propagate": False},
    }
    return config


@click.command("run")
@app_options()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind.")
@click.option("--reload", is_flag=True, help="Restart when code changes (development).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              envvar="WEB_CONCURRENCY", show_envvar=True,
              help="Worker processes.")
@click.option("--server", type=click.Choice(["uvicorn", "granian"]), default="uvicorn",
              show_default=True, help="ASGI server to run the app with.")
@click.option("--debug/--no-debug", default=None,
              help="Turn debug on or off, over HERON_DEBUG and App(debug=...). "
                   "Never debug in production.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def run_command(app: str | None, host: str, port: int, reload: bool, workers: int,
                server: str, debug: bool | None, log_level: str) -> None:
    """Serve APP over HTTP (http://127.0.0.1:8000 by default)."""
    if debug is not None:
        os.environ["HERON_DEBUG"] = os.environ[_DEBUG_VARIABLE] = "1" if debug else "0"
    application, spec = load_app(app)  # fail here, clearly, before a server starts
    os.environ[_APP_VARIABLE] = spec
    # A factory's app, made once in this process: the server serves it when it runs
    # here; its reload and worker processes call the factory (spec) themselves.
    _loaded[spec] = application
    settings = getattr(application, "settings", None)
    if debug is not None and settings is not None and settings.debug != debug:
        click.echo(f"heron: {'--debug' if debug else '--no-debug'} overrides "
                   f"debug={settings.debug} set in the app's code", err=True)
    served_app()  # the app the server gets: the command line's debug applied
    mode = " (debug)" if getattr(settings, "debug", False) else ""
    click.echo(f"heron: serving {spec} on http://{host}:{port} with {server}{mode}", err=True)
    max_head = getattr(settings, "max_header_size", DEFAULT_MAX_HEADER_SIZE)
    if server == "granian":
        _run_granian(_FACTORY, host, port, reload, workers, log_level, max_head)
    else:
        _run_uvicorn(_FACTORY, host, port, reload, workers, log_level, max_head)


_APP_VARIABLE = "HERON_RUN_APP"
_DEBUG_VARIABLE = "HERON_RUN_DEBUG"
_FACTORY = "heron.cli.serve:served_app"
#: The app ``heron run`` loaded in this process, by spec.
_loaded: dict[str, Any] = {}
#: ``max_header_size`` of an app that has no heron settings.
DEFAULT_MAX_HEADER_SIZE = 64 * 1024
#: uvicorn's httptools protocol with heron's limit on the request head (``max_header_size``).
_HTTPTOOLS = "heron.cli._protocol:HttpToolsProtocol"


def served_app() -> Any:
    """The app ``heron run`` serves (a factory for the server): the app named in
    ``HERON_RUN_APP`` (``module:create_app()`` calls that factory, once per
    process), with ``HERON_RUN_DEBUG`` (``--debug``/``--no-debug``) applied over
    the code's own setting."""
    from heron._discovery import find_app

    spec = os.environ[_APP_VARIABLE]
    application = _loaded.get(spec)
    if application is None:
        application, _ = find_app(spec)
    settings = getattr(application, "settings", None)
    flag = os.environ.get(_DEBUG_VARIABLE)
    if flag is not None and settings is not None:
        settings.debug = flag == "1"
    return application


def uvicorn_http() -> str:
    """The HTTP protocol ``heron run`` gives uvicorn: httptools, the fast parser, with
    heron's limit on the request head when it is installed (it comes with
    ``uvicorn[standard]``), else h11, which enforces that limit itself."""
    import importlib.util

    return _HTTPTOOLS if importlib.util.find_spec("httptools") is not None else "h11"


def _run_uvicorn(spec: str, host: str, port: int, reload: bool, workers: int,
                 log_level: str, max_head: int) -> None:
    import uvicorn

    uvicorn.run(
        spec,
        host=host,
        port=port,
        reload=reload,
        workers=None if reload else workers,
        log_level=log_level,
        log_config=_log_config(log_level),
        access_log=False,  # heron writes its own access log (heron.access)
        proxy_headers=False,  # heron trusts proxies only when configured (trusted_proxies)
        server_header=False,
        lifespan="on",
        factory=True,
        http=uvicorn_http(),
        # h11's limit on an unfinished request head; heron's httptools protocol reads it too.
        h11_max_incomplete_event_size=max_head,
    )


def _run_granian(spec: str, host: str, port: int, reload: bool, workers: int,
                 log_level: str, max_head: int) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings, HTTP2Settings
        from granian.log import LogLevels
    except ImportError:
        raise MissingDependency("granian", "granian") from None
    # HTTP/1: hyper answers 431 when a request head does not fit its read buffer, which
    # cannot be below 8 KiB; HTTP/2: the largest header block (granian's default: 16 MiB).
    http1 = HTTP1Settings(max_buffer_size=max(max_head, 8192))
    http2 = HTTP2Settings(max_headers_size=max_head)
    Granian(spec, address=host, port=port, interface=Interfaces.ASGI, workers=workers, factory=True,
            reload=reload, log_level=LogLevels(log_level), log_access=False,
            log_dictconfig=_log_config(log_level), http1_settings=http1,
            http2_settings=http2).serve()
