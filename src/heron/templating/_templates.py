"""The machinery of :mod:`heron.templating` (imported on first use: it loads Jinja2)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from heron import signals
from heron.exceptions import ImproperlyConfigured
from heron.plugins import STATIC_ROOT_KEY
from heron.responses import HTMLResponse

if TYPE_CHECKING:
    from heron.app import App
    from heron.requests import HTTPConnection

__all__ = [
    "Markup", "TemplateNotFound", "Templates", "render", "render_async", "request_from_context",
]

AUTOESCAPE_EXTENSIONS = ("html", "htm", "xml", "jinja")
#: heron's own templates (form widgets, under ``heron/``), searched after the app's
#: and the components' folders, so that a project overrides any of them by name.
BUILTIN_FOLDERS = (Path(__file__).parents[1] / "forms" / "templates",)


class TemplateNotFound(jinja2.TemplateNotFound):
    """No folder has the template; the message names every folder searched."""

    def __init__(self, name: str, folders: list[Path]) -> None:
        searched = "\n".join(
            f"  {folder}" + ("" if folder.is_dir() else "  (no such folder)") for folder in folders
        )
        super().__init__(name, f"Template {name!r} was not found. Folders searched, in "
                               f"order:\n{searched or '  (none)'}")
        self.folders = folders


class Templates:
    """The app's template environments (sync, and async on first use).

    Args:
        app: the app; its settings and components give the folders.
        folders: override the folders (tests, or a template-only app).
    """

    def __init__(self, app: App, folders: list[Path] | None = None) -> None:
        self.app = app
        settings = app.settings
        self._folders = folders
        reload = settings.template_auto_reload
        self.auto_reload = settings.debug if reload is None else reload
        self.globals: dict[str, Any] = {
            "url_for": _url_for,
            "static": _static_helper(app),
            "csp_nonce": _csp_nonce,
            "config": settings.public(),
        }
        self.filters: dict[str, Callable[..., Any]] = {}
        self.extensions: list[Any] = []
        for plugin in app.plugins.values():
            self.globals.update(plugin.template_globals(app))
            self.filters.update(plugin.template_filters(app))
            self.extensions.extend(plugin.template_extensions(app))
        self.env = self._environment(enable_async=False)
        self._async_env: jinja2.Environment | None = None

    @property
    def folders(self) -> list[Path]:
        """The folders searched, in order.  Computed on each use: a component added
        after the templates were first used (say, by an earlier component's
        ``setup`` calling ``add_filter``) is searched too."""
        if self._folders is not None:
            return self._folders
        app = self.app
        folders = [app.root / app.settings.templates_dir]
        folders += [c.templates_dir for c in app.components.values() if c.templates_dir]
        folders += [p.templates_dir for p in app.plugins.values() if p.templates_dir]
        return folders

    def _environment(self, enable_async: bool) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=_Loader(self),
            autoescape=jinja2.select_autoescape(AUTOESCAPE_EXTENSIONS, default_for_string=True),
            auto_reload=self.auto_reload,
            enable_async=enable_async,
            cache_size=1000,
            extensions=self.extensions,
        )
        env.globals.update(self.globals)
        env.filters.update(self.filters)
        return env

    @property
    def async_env(self) -> jinja2.Environment:
        """The environment whose templates may ``await`` (made on first use)."""
        if self._async_env is None:
            self._async_env = self._environment(enable_async=True)
        return self._async_env

    def add_global(self, name: str, value: Any) -> None:
        """Make ``value`` available in every template as ``name``."""
        self.globals[name] = value
        for env in (self.env, self._async_env):
            if env is not None:
                env.globals[name] = value

    def add_filter(self, name: str, func: Callable[..., Any]) -> None:
        """Make ``func`` usable as ``{{ value|name }}``."""
        self.filters[name] = func
        for env in (self.env, self._async_env):
            if env is not None:
                env.filters[name] = func

    def get_template(self, name: str | jinja2.Template,
                     env: jinja2.Environment | None = None) -> jinja2.Template:
        """The compiled template.

        Raises:
            TemplateNotFound: naming every folder searched.
        """
        env = env or self.env
        try:
            return env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            if isinstance(exc, TemplateNotFound) or exc.name != name:
                raise  # a template that *includes* a missing one: keep Jinja's message
            raise TemplateNotFound(str(name), self.folders) from None

    def context(self, conn: HTTPConnection | None, values: Mapping[str, Any]) -> dict[str, Any]:
        """The render context: request, ``messages``, context processors, then ``values``."""
        context: dict[str, Any] = {}
        if conn is not None:
            context["request"] = conn
            for processor in self.app.context_processors:
                context.update(processor(conn) or {})
        context.update(values)
        return context

    def render_string(self, conn: HTTPConnection | None, name: str,
                      values: Mapping[str, Any]) -> str:
        template = self.get_template(name)
        context = self.context(conn, values)
        rendered = template.render(context)
        self._rendered(name, context)
        return rendered

    async def render_string_async(self, conn: HTTPConnection | None, name: str,
                                  values: Mapping[str, Any]) -> str:
        template = self.get_template(name, self.async_env)
        context = self.context(conn, values)
        rendered: str = await template.render_async(context)
        self._rendered(name, context)
        return rendered

    def _rendered(self, name: str, context: dict[str, Any]) -> None:
        if signals.template_rendered.receivers:  # heron's test client listens
            signals.template_rendered.send(self.app, template=name, context=context)


class _Loader(jinja2.FileSystemLoader):
    """A FileSystemLoader over the current :attr:`Templates.folders`."""

    def __init__(self, templates: Templates) -> None:
        super().__init__([])
        self._templates = templates

    def _refresh(self, builtin: bool = True) -> None:
        folders = [*self._templates.folders, *(BUILTIN_FOLDERS if builtin else ())]
        self.searchpath = [str(f) for f in folders]

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        self._refresh()
        return super().get_source(environment, template)

    def list_templates(self) -> list[str]:
        """The project's templates (heron's built-in ones are found, not listed)."""
        self._refresh(builtin=False)
        return super().list_templates()


def render(request: HTTPConnection, name: str, context: Mapping[str, Any] | None = None, /, *,
           status_code: int = 200, headers: Mapping[str, str] | None = None,
           **values: Any) -> HTMLResponse:
    """Render template ``name`` into an HTML response.

    ``context`` and keyword arguments become template variables, as do
    ``request``, ``messages`` and the app's context processors' values.
    """
    values = {**(context or {}), **values}
    body = request.app.templates.render_string(request, name, values)
    return HTMLResponse(body, status_code, headers)


async def render_async(request: HTTPConnection, name: str,
                       context: Mapping[str, Any] | None = None, /, *, status_code: int = 200,
                       headers: Mapping[str, str] | None = None, **values: Any) -> HTMLResponse:
    """Like :func:`render`, with Jinja's async mode: templates may call async functions
    (``{{ await_me() }}`` awaits them) and iterate async iterables."""
    values = {**(context or {}), **values}
    body = await request.app.templates.render_string_async(request, name, values)
    return HTMLResponse(body, status_code, headers)


# -- globals ------------------------------------------------------------------


def request_from_context(context: Any) -> HTTPConnection:
    """The request a template is rendered for, from a ``@jinja2.pass_context``
    helper's context (for template globals that need it, like ``csrf_input``).

    Raises:
        RuntimeError: the template was rendered without a request.
    """
    request = context.get("request")
    if request is None:
        raise RuntimeError("This template helper needs `request` in the context: "
                           "render with render(request, ...)")
    return request  # type: ignore[no-any-return]


@jinja2.pass_context
def _url_for(context: Any, name: str, /, _external: bool = False, **params: Any) -> str:
    """The URL of a route: a path, or an absolute URL with ``_external=True``."""
    request = request_from_context(context)
    if _external:
        return request.url_for(name, **params)
    if name.startswith(".") and request.route is not None:
        namespace = request.route.namespace
        name = f"{namespace}:{name[1:]}" if namespace else name[1:]
    root: str = request.scope.get("root_path", "")
    return root + request.app.url_path_for(name, **params)


def _static_helper(app: App) -> Callable[..., str]:
    from heron._static import app_manifest

    prefix = app.settings.static_url.rstrip("/")
    missed: set[str] = set()

    @jinja2.pass_context
    def static(context: Any, path: str) -> str:
        """The URL of a static file (under the mount prefix, if any): its hashed name
        when the app serves collected files (docs/static-files.md)."""
        request = context.get("request")
        root = "" if request is None else \
            request.scope.get(STATIC_ROOT_KEY, request.scope.get("root_path", ""))
        name = path.lstrip("/")
        manifest = app_manifest(app)
        if manifest is not None:
            hashed = manifest.paths.get(name)
            if hashed is not None:
                return f"{root}{prefix}/{hashed}"
            if name not in missed:
                # `heron check` reports names written in templates (heron.templating.E001);
                # one built at run time shows up here, once.
                missed.add(name)
                logging.getLogger("heron").warning(
                    "static(%r): no such file in the manifest %s; linking to the plain URL. "
                    "Run `heron collectstatic` again", name, manifest.folder)
        return f"{root}{prefix}/{name}"

    return static


def missing_static_names(app: App) -> list[ImproperlyConfigured]:
    """``static("...")`` calls in the app's templates naming a file the manifest lacks
    (heron.templating.E001): asked by ``heron check`` and at startup, when the app
    serves collected files."""
    from heron._static import app_manifest

    manifest = app_manifest(app)
    if manifest is None:
        return []
    env = app.templates.env
    used: dict[str, list[str]] = {}
    for template in env.list_templates():
        try:
            source = env.loader.get_source(env, template)[0]  # type: ignore[union-attr]
            tree = env.parse(source, template)
        except (jinja2.TemplateError, UnicodeDecodeError):
            continue  # not a template, or a broken one: rendering it says why
        for call in tree.find_all(jinja2.nodes.Call):
            name = call.node
            if (isinstance(name, jinja2.nodes.Name) and name.name == "static" and call.args
                    and isinstance(call.args[0], jinja2.nodes.Const)
                    and isinstance(call.args[0].value, str)):
                used.setdefault(call.args[0].value.lstrip("/"), []).append(template)
    return [ImproperlyConfigured(
        f"static({name!r}) in {', '.join(sorted(set(templates)))} names a file that is not in "
        f"the manifest {manifest.folder}: the page would link to a file that is not served. "
        "Fix the name, or add the file to a static folder and run `heron collectstatic`",
        id="heron.templating.E001") for name, templates in sorted(used.items())
        if name not in manifest.paths]


@jinja2.pass_context
def _csp_nonce(context: Any) -> str:
    from heron.security import csp_nonce

    return csp_nonce(request_from_context(context).scope)

