"""heron's public surface is a curated list, and importing it stays light."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import heron

EXPECTED = [
    "URL",
    "App",
    "Body",
    "Converter",
    "Cookie",
    "Depends",
    "EventStreamResponse",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "ImproperlyConfigured",
    "JSONResponse",
    "Middleware",
    "MissingDependency",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "ServerSentEvent",
    "ServiceUnavailable",
    "Settings",
    "State",
    "StaticFiles",
    "StreamingResponse",
    "URLBuildError",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "abort",
    "abort_invalid",
    "csrf_exempt",
    "flash",
    "get_flashed_messages",
    "render",
    "render_async",
    "run_async",
    "run_in_threadpool",
]

HEAVY = [
    "jinja2",
    "sqlalchemy",
    "alembic",
    "argon2",
    "multipart",
    "python_multipart",
    "pydantic",
    "heron.cli",
    "heron._debug",
    "itsdangerous",
    "redis",
    "heron.templating._templates",
    # Batteries' packages may load for their settings sections (light modules, lazy
    # package exports; heron.storage is standard library only); their code may not.
    "heron.auth.models",
    "heron.auth.users",
    "heron.auth._login",
    "heron.db.database",
    "heron.db.models",
    "heron.mail.backends",
    "heron.forms",
    "babel",
    "heron.i18n._jinja",
    "heron.i18n.commands",
]

AUTH_EXPECTED = [
    "AbstractBaseUser",
    "AbstractUser",
    "AnonymousUser",
    "Group",
    "Permission",
    "PermissionsMixin",
    "Throttled",
    "aauthenticate",
    "acreate_user",
    "alogin",
    "authenticate",
    "create_user",
    "get_user_model",
    "login",
    "login_required",
    "logout",
    "new_token",
    "permission_required",
    "revoke",
    "safe_next",
    "staff_required",
    "update_session_auth_hash",
]


# The public API of every public module of heron (batteries and tools alike), sorted.
# A name added to or removed from a module's __all__ is a change to heron's public API:
# update the list here in the same change.
MODULES: dict[str, list[str]] = {
    "heron.app": ["App", "Middleware"],
    "heron.views": ["ClassView", "MethodView"],
    "heron.generic": [
        "CreateView",
        "DeleteView",
        "DetailView",
        "GenericView",
        "ListView",
        "ObjectView",
        "UpdateView",
    ],
    "heron.auth": AUTH_EXPECTED,
    "heron.admin": [
        "AlreadyRegistered",
        "BooleanFieldListFilter",
        "ChoicesFieldListFilter",
        "DateFieldListFilter",
        "EmptyFieldListFilter",
        "ModelAdmin",
        "NotRegistered",
        "RelatedFieldListFilter",
        "SimpleListFilter",
        "StackedInline",
        "TabularInline",
        "action",
        "display",
        "register",
        "site",
    ],
    "heron.cache": [
        "Cache",
        "CacheUnavailable",
        "Caches",
        "DEFAULT_TTL",
        "MemoryCache",
        "NullCache",
        "RateLimited",
        "RedisCache",
        "Store",
        "ainvalidate_fragment",
        "cache_control",
        "cache_from_url",
        "cache_page",
        "condition",
        "fragment_key",
        "invalidate_fragment",
        "never_cache",
        "patch_cache_control",
        "rate_limit",
    ],
    "heron.checks": ["Check", "ConfigurationErrors", "register", "registered", "run_checks"],
    "heron.concurrency": [
        "is_async_callable",
        "iterate_in_threadpool",
        "run_async",
        "run_in_threadpool",
    ],
    "heron.converters": [
        "Converter",
        "DEFAULT_CONVERTERS",
        "FloatConverter",
        "IntConverter",
        "PathConverter",
        "StringConverter",
        "UUIDConverter",
    ],
    "heron.csrf": [
        "CSRFError", "CSRFSettings", "UNSAFE_METHODS", "csrf_exempt", "get_token", "rotate_token",
    ],
    "heron.datastructures": [
        "Address",
        "FormData",
        "Headers",
        "MultiDict",
        "MutableHeaders",
        "QueryParams",
        "State",
        "URL",
        "UploadFile",
    ],
    "heron.db": [
        "Database",
        "MAX_PER_PAGE",
        "Model",
        "NAMING_CONVENTION",
        "Page",
        "TimestampMixin",
        "db",
    ],
    "heron.defaults": ["App", "DEFAULT_PLUGINS", "Settings"],
    "heron.exceptions": [
        "HTTPException",
        "ImproperlyConfigured",
        "MissingDependency",
        "ServiceUnavailable",
        "URLBuildError",
        "WebSocketDisconnect",
        "abort",
        "abort_invalid",
    ],
    "heron.feeds": [
        "AtomFeed",
        "Enclosure",
        "Feed",
        "FeedDocument",
        "FeedEntry",
        "FeedWriter",
        "RssFeed",
        "feed_link_tag",
        "plugin",
        "site_root",
    ],
    "heron.flash": ["FlashPlugin", "Messages", "flash", "get_flashed_messages"],
    "heron.forms": [
        "BoundField",
        "Choice",
        "DEFAULT_MESSAGES",
        "ErrorList",
        "Form",
        "FormField",
        "ModelForm",
        "NON_FIELD_ERRORS",
        "ValidationError",
        "WIDGETS",
        "Widget",
        "field",
    ],
    "heron.i18n": [
        "LazyString",
        "activate",
        "deactivate",
        "format_currency",
        "format_date",
        "format_datetime",
        "format_decimal",
        "format_number",
        "format_percent",
        "format_time",
        "get_language",
        "get_timezone",
        "gettext",
        "gettext_lazy",
        "intcomma",
        "localtime",
        "make_aware",
        "naturalday",
        "naturaltime",
        "ngettext",
        "ngettext_lazy",
        "npgettext",
        "ordinal",
        "override",
        "override_timezone",
        "pgettext",
        "pgettext_lazy",
        "text_direction",
    ],
    "heron.mail": [
        "ConsoleBackend",
        "EmailMessage",
        "FileBackend",
        "MailBackend",
        "MailTimeout",
        "Mailer",
        "MemoryBackend",
        "SMTPBackend",
        "mailer",
        "render_mail",
        "send_mail",
    ],
    "heron.middleware": [
        "AccessLogMiddleware",
        "CORSMiddleware",
        "GZipMiddleware",
        "ProxyHeadersMiddleware",
        "ServerTimingMiddleware",
    ],
    "heron.openapi": ["openapi_schema"],
    "heron.params": [
        "Body",
        "Cookie",
        "Depends",
        "Header",
        "Parameter",
        "Plan",
        "Query",
        "analyse",
        "build_call",
    ],
    "heron.plugins": [
        "Finalizer",
        "GETTEXT_KEY",
        "Gate",
        "Handler",
        "LANGUAGE_KEY",
        "Plugin",
        "REFUSED_KEY",
        "RequestHook",
        "ResponseHook",
        "STATIC_ROOT_KEY",
        "UNCACHEABLE_KEY",
        "load_plugin",
    ],
    "heron.requests": ["ClientDisconnect", "HTTPConnection", "Request"],
    "heron.responses": [
        "EventStreamResponse",
        "FileResponse",
        "HTMLResponse",
        "JSONResponse",
        "PlainTextResponse",
        "RedirectResponse",
        "Response",
        "ServerSentEvent",
        "StreamingResponse",
        "make_response",
    ],
    "heron.routing": [
        "Mount", "PathTemplate", "Route", "RouteDecorators", "Router", "add_view_hook",
        "view_hooks",
    ],
    "heron.security": [
        "SecuritySettings", "content_security_policy", "csp_nonce", "frame_options",
    ],
    "heron.sessions": [
        "CacheSessionBackend",
        "CookieSessionBackend",
        "Session",
        "SessionBackend",
    ],
    "heron.settings": ["Settings", "settings_section"],
    "heron.signals": [
        "post_delete", "post_save", "pre_delete", "pre_save", "request_finished",
        "request_started", "template_rendered", "two_factor_changed", "user_logged_in",
        "user_logged_out", "user_login_failed",
    ],
    "heron.signing": ["secret_keys", "timed_serializer"],
    "heron.sitemaps": [
        "CHANGEFREQS",
        "MAX_URLS",
        "ModelSitemap",
        "RobotsRule",
        "RobotsTxt",
        "Sitemap",
        "SitemapURL",
        "Sitemaps",
        "StaticSitemap",
    ],
    "heron.staticfiles": ["StaticFiles"],
    "heron.storage": [
        "FileSystemStorage",
        "Storage",
        "StoragePlugin",
        "StorageSettings",
        "SuspiciousName",
        "backend_class",
        "get_storage",
        "new_name",
        "safe_extension",
    ],
    "heron.tasks": [
        "Task",
        "TaskError",
        "TaskResult",
        "TaskStatus",
        "acancel",
        "aget_result",
        "cancel",
        "current_app",
        "get_result",
        "get_task",
        "list_results",
        "registered_tasks",
        "task",
    ],
    "heron.templating": [
        "Markup", "TemplateNotFound", "Templates", "render", "render_async",
        "request_from_context",
    ],
    "heron.testing": [
        "AsyncTestClient",
        "ClientSession",
        "TestClient",
        "TestResponse",
        "WebSocketTestSession",
        "extract_csrf_token",
    ],
    "heron.types": ["ASGIApp", "Message", "Receive", "Scope", "Send"],
    "heron.websockets": ["WebSocket", "WebSocketDisconnect", "WebSocketState"],
}

#: Public modules inside a battery, pinned like MODULES.
SUBMODULES: dict[str, list[str]] = {
    "heron.auth.factor_models": ["PasskeyMixin", "RecoveryCodeMixin", "TotpMixin"],
    "heron.auth.two_factor": [
        "FACTORS",
        "Factors",
        "PENDING_SECONDS",
        "abegin_second_step",
        "achanged",
        "afactors",
        "afinish_second_step",
        "apending_user",
        "areset_factors",
        "changed",
        "requires_two_factor",
        "second_factor_used",
    ],
    "heron.auth.passkeys": [
        "CHALLENGE_LIFETIME",
        "PasskeyError",
        "PasskeyLogin",
        "aauthenticate_passkey",
        "aauthentication_options",
        "apasskeys",
        "aregister_passkey",
        "aregistration_options",
        "aremove_passkey",
        "arename_passkey",
        "check_settings",
        "expected_origins",
        "relying_party_id",
        "user_handle",
    ],
}

# Public classes and functions known to lack a docstring today. Remove an entry when the
# docstring is written; the test fails on an entry that no longer needs to be here.
MISSING_DOCSTRING = {
    "heron.websockets.WebSocketState",
}

# Exported names that no page of docs/*.md mentions in code (`name` or a code block) today.
# Each is a gap in the documentation to fill, not an exemption to grow: remove the entry
# when the name is documented; the test fails on an entry that no longer needs to be here.
UNDOCUMENTED = {
    "heron.auth.Throttled",
    "heron.checks.run_checks",
    "heron.concurrency.is_async_callable",
    "heron.concurrency.iterate_in_threadpool",
    "heron.converters.DEFAULT_CONVERTERS",
    "heron.converters.FloatConverter",
    "heron.converters.IntConverter",
    "heron.converters.PathConverter",
    "heron.converters.StringConverter",
    "heron.converters.UUIDConverter",
    "heron.csrf.UNSAFE_METHODS",
    "heron.datastructures.Address",
    "heron.datastructures.MultiDict",
    "heron.datastructures.MutableHeaders",
    "heron.datastructures.QueryParams",
    "heron.datastructures.State",
    "heron.db.Database",
    "heron.exceptions.ServiceUnavailable",
    "heron.flash.Messages",
    "heron.forms.BoundField",
    "heron.forms.Choice",
    "heron.forms.ErrorList",
    "heron.forms.NON_FIELD_ERRORS",
    "heron.forms.WIDGETS",
    "heron.mail.ConsoleBackend",
    "heron.mail.FileBackend",
    "heron.mail.Mailer",
    "heron.mail.MemoryBackend",
    "heron.mail.SMTPBackend",
    "heron.params.Plan",
    "heron.params.analyse",
    "heron.params.build_call",
    "heron.plugins.Finalizer",
    "heron.plugins.Gate",
    "heron.plugins.RequestHook",
    "heron.plugins.ResponseHook",
    "heron.plugins.load_plugin",
    "heron.requests.ClientDisconnect",
    "heron.requests.HTTPConnection",
    "heron.responses.make_response",
    "heron.routing.Mount",
    "heron.routing.PathTemplate",
    "heron.routing.RouteDecorators",
    "heron.sessions.CacheSessionBackend",
    "heron.sessions.CookieSessionBackend",
    "heron.storage.new_name",
    "heron.storage.safe_extension",
    "heron.testing.WebSocketTestSession",
    "heron.types.ASGIApp",
    "heron.types.Receive",
    "heron.types.Scope",
    "heron.websockets.WebSocketState",
}

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_all_is_exactly_the_curated_list() -> None:
    assert heron.__all__ == EXPECTED


def test_auth_exports_are_the_curated_list() -> None:
    import heron.auth

    assert heron.auth.__all__ == AUTH_EXPECTED
    for name in AUTH_EXPECTED:
        assert getattr(heron.auth, name).__module__.startswith("heron.auth."), name


def test_every_exported_name_exists_and_belongs_to_heron() -> None:
    for name in heron.__all__:
        member = getattr(heron, name)
        if name != "__version__":
            assert member.__module__.startswith("heron."), name


def test_hello_world_imports_nothing_heavy() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from heron import App
        from heron.testing import TestClient

        app = App(secret_key="x", access_log=False)

        @app.get("/")
        async def hello():
            return {"hello": "world"}

        @app.get("/boom")
        async def boom():
            raise ValueError("production error")

        with TestClient(app) as client:
            assert client.get("/").json() == {"hello": "world"}
            assert client.get("/missing").status_code == 404
            assert client.get("/boom").status_code == 500

        heavy = json.loads(sys.argv[1])
        print(json.dumps([m for m in heavy if m in sys.modules]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_every_public_module_is_pinned() -> None:
    # heron.cli is the command line's machinery, not an importable API.
    found = {
        f"heron.{info.name}"
        for info in pkgutil.iter_modules(heron.__path__)
        if not info.name.startswith("_") and info.name != "cli"
    }
    assert found == set(MODULES)


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_module_exports_are_the_pinned_list(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == MODULES[module_name]
    assert len(set(module.__all__)) == len(module.__all__), "a name is listed twice"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names what the module lacks: {missing}"


@pytest.mark.parametrize("module_name", sorted(SUBMODULES))
def test_submodule_exports_are_the_pinned_list(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == SUBMODULES[module_name]
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names what the module lacks: {missing}"


def _lacks_docstring(member: object) -> bool:
    if inspect.isclass(member):
        # A class's own docstring: __doc__ is not inherited, but a dataclass invents one
        # from its signature ("Name(field: type, ...)"), which documents nothing.
        doc = vars(member).get("__doc__")
        if doc and dataclasses.is_dataclass(member) and doc.startswith(f"{member.__name__}("):
            doc = None
    else:
        doc = member.__doc__
    return not (doc and doc.strip())


def _public_callables() -> list[tuple[str, object]]:
    members = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            member = getattr(module, name)
            # Classes and functions only: type aliases and constants carry no docstring.
            if not name.startswith("_") and (inspect.isclass(member) or inspect.isroutine(member)):
                members.append((f"{module_name}.{name}", member))
    return members


def test_every_exported_class_and_function_has_a_docstring() -> None:
    lacking = {qualname for qualname, member in _public_callables() if _lacks_docstring(member)}
    new = sorted(lacking - MISSING_DOCSTRING)
    assert not new, f"public classes and functions without a docstring: {new}"
    stale = sorted(MISSING_DOCSTRING - lacking)
    assert not stale, f"have a docstring now, remove from MISSING_DOCSTRING: {stale}"


def _docs_code() -> str:
    """The code of docs/*.md: fenced blocks and inline `code` spans."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))
    blocks = re.findall(r"^```.*?^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return "\n".join([*blocks, *re.findall(r"`[^`\n]+`", prose)])


def test_every_exported_name_is_in_the_docs() -> None:
    # Mentioned in code, not prose: "Database" or "Messages" in a heading is not the API.
    code = _docs_code()
    undocumented = {
        f"{module_name}.{name}"
        for module_name, names in MODULES.items()
        for name in names
        if not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", code)
    }
    new = sorted(undocumented - UNDOCUMENTED)
    assert not new, f"exported but mentioned nowhere in docs/*.md: {new}"
    stale = sorted(UNDOCUMENTED - undocumented)
    assert not stale, f"documented now, remove from UNDOCUMENTED: {stale}"
