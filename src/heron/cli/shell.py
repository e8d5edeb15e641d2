"""``heron shell``: a Python prompt with the app, ``db`` and every model ready."""

from __future__ import annotations

import code
from typing import Any

import click

from heron.cli._app import app_options, load_app


def shell_namespace(app: Any) -> dict[str, Any]:
    """What the shell starts with: the app, its settings, ``db``, ``select`` and the models."""
    namespace: dict[str, Any] = {"app": app, "settings": app.settings}
    try:
        import sqlalchemy

        from heron.db import Model, db
    except ImportError:  # pragma: no cover (SQLAlchemy is a dependency)
        return namespace
    namespace.update(db=db, select=sqlalchemy.select, func=sqlalchemy.func, Model=Model)
    for mapper in Model.registry.mappers:
        namespace.setdefault(mapper.class_.__name__, mapper.class_)
    return namespace


@click.command("shell")
@app_options()
@click.option("--plain", is_flag=True, help="Use Python's own prompt even if IPython is installed.")
@click.option("-c", "--command", default=None, help="Run this code instead of a prompt.")
def shell_command(app: str | None, plain: bool, command: str | None) -> None:
    """Open a Python shell with the app, db, select and every model imported.

    ``db.session`` works at once: the shell runs inside ``db.context(app)``.
    """
    from heron.db import db

    application, spec = load_app(app)
    namespace = shell_namespace(application)
    models = sorted(k for k, v in namespace.items() if isinstance(v, type) and k != "Model")
    banner = (f"heron shell for {spec}: app, settings, db, select, func"
              + (f", and models {', '.join(models)}" if models else "") + ".")
    with db.context(application):
        if command is not None:
            exec(compile(command, "<heron shell -c>", "exec"), namespace)
            return
        if not plain:
            try:
                from IPython import start_ipython  # type: ignore[import-not-found]
            except ImportError:
                pass
            else:
                start_ipython(argv=[], user_ns=namespace, display_banner=False)
                return
        code.interact(banner=banner, local=namespace, exitmsg="")
