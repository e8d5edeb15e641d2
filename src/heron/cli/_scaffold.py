"""What ``heron new`` needs besides the templates: names it accepts, the project it
adds a component to, and the edit of the app's ``components=[...]`` list."""

from __future__ import annotations

import ast
import importlib.util
import json
import keyword
import os
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path

from heron.settings import _read_dotenv

__all__ = ["CannotRegister", "Project", "add_to_components", "find_project", "name_problem",
           "register_component"]


def _heron_modules() -> frozenset[str]:
    import heron

    return frozenset({"heron", *(module.name for module in pkgutil.iter_modules(heron.__path__)
                                 if not module.name.startswith("_"))})


def name_problem(name: str, *, project: bool) -> str | None:
    """Why ``name`` cannot name a project (a top-level package) or a component (a
    URL namespace and a migration branch), or ``None`` when it can."""
    kind = "project" if project else "component"
    if not name.isidentifier():
        return (f"{name!r} is not a Python identifier: a {kind}'s name is imported, so use "
                "letters, digits and underscores, not starting with a digit (like my_site).")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword; choose another name for the {kind}."
    if name in _heron_modules():
        return (f"{name!r} is the name of a heron module (heron.{name}); a {kind} of that name "
                "would be confused with it. Choose another name.")
    if name == "app":  # the migration branch of the app's own models
        return "'app' names the app's own migrations; choose another name for the component."
    if not project:
        return None
    if name in sys.stdlib_module_names:
        return (f"{name!r} is the name of a module of Python's standard library; a project of "
                "that name would hide it. Choose another name.")
    if name == "tests":
        return "'tests' is the project's tests folder; choose another name for the project."
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # such a module is loaded already, without a spec
        found = None
    location = (found.origin or "a namespace package") if found is not None else ""
    if found is not None and not location.startswith(os.getcwd() + os.sep):
        return (f"{name!r} is the name of an installed Python module ({location}); a project "
                "of that name would be confused with it. Choose another name.")
    return None


@dataclass(frozen=True)
class Project:
    """A project ``heron new project`` made, or one laid out the same way."""

    #: The package's name (``mysite``) and folder, which holds ``components/``.
    package: str
    package_dir: Path
    #: The module that makes the app (``mysite/app.py``), when found.
    app_file: Path | None


def find_project(folder: Path) -> Project:
    """The project in ``folder``: the package of ``HERON_APP`` (environment, then
    ``.env``) when it has a ``components/`` folder, else the only package that has one.

    Raises:
        LookupError: no such package, or several, with what to do.
    """
    spec = os.environ.get("HERON_APP") or _read_dotenv(str(folder / ".env")).get("HERON_APP")
    if spec:
        module = spec.partition(":")[0].strip()
        package = module.split(".")[0]
        if package and (folder / package / "components").is_dir():
            return Project(package, folder / package, _module_file(folder, module))
    found = sorted(child for child in folder.iterdir() if (child / "components").is_dir()
                   and (child / "__init__.py").is_file())
    if len(found) == 1:
        app_file = found[0] / "app.py"
        return Project(found[0].name, found[0], app_file if app_file.is_file() else None)
    if found:
        names = ", ".join(child.name for child in found)
        raise LookupError(f"Several packages in {folder} have a components/ folder ({names}); "
                          f"set HERON_APP (in .env) to the project's app, e.g. "
                          f"HERON_APP={found[0].name}.app.")
    raise LookupError(
        f"No heron project in {folder}: run `heron new component` in a project's folder, the "
        "one with pyproject.toml and the package holding app.py and components/ (`heron new "
        "project NAME` makes one).")


def _module_file(folder: Path, module: str) -> Path | None:
    base = folder.joinpath(*module.split("."))
    for path in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


class CannotRegister(Exception):
    """The app's module cannot be edited safely; the message says why."""


def register_component(app_file: Path, dotted: str) -> bool:
    """Add ``dotted`` to the ``components=[...]`` list in ``app_file``; ``False``
    when it is listed already.

    Raises:
        CannotRegister: the file has no single list of strings to add it to.
    """
    source = app_file.read_bytes()
    edited = add_to_components(source, dotted)
    if edited is None:
        return False
    app_file.write_bytes(edited)
    return True


def add_to_components(source: bytes, dotted: str) -> bytes | None:
    """``source`` with ``dotted`` added at the end of its one ``components=[...]``
    keyword argument (a list of strings), in the list's own layout: a line of its own
    in a list written one item a line, else ``, "dotted"`` before the ``]``.  ``None``
    when the list has it already.

    Raises:
        CannotRegister: there is no such list, several, or it holds more than strings.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise CannotRegister(f"it does not parse: {exc.msg}, line {exc.lineno}") from None
    found = [item.value for node in ast.walk(tree) if isinstance(node, ast.Call)
             for item in node.keywords if item.arg == "components"]
    if len(found) != 1:
        raise CannotRegister("it has no components=[...]" if not found else
                             "it has several components=[...]")
    listed = found[0]
    if not isinstance(listed, ast.List) or not all(
            isinstance(item, ast.Constant) and isinstance(item.value, str)
            for item in listed.elts):
        raise CannotRegister("its components=... is not a list of strings")
    if any(isinstance(item, ast.Constant) and item.value == dotted for item in listed.elts):
        return None
    lines = source.splitlines(keepends=True)
    quoted = json.dumps(dotted).encode()
    last = listed.elts[-1] if listed.elts else None
    end_line = listed.end_lineno or listed.lineno
    if last is not None and last.end_lineno is not None and end_line > last.end_lineno:
        # "]" on a later line: the new item on a line of its own, after the last one.
        row = last.end_lineno - 1
        cut = last.end_col_offset or 0
        line = lines[row]
        if not line[cut:].lstrip().startswith(b","):
            line = line[:cut] + b"," + line[cut:]
        first = lines[last.lineno - 1]
        indent = first[:len(first) - len(first.lstrip())]
        newline = b"\r\n" if line.endswith(b"\r\n") else b"\n"
        lines[row] = line
        lines.insert(row + 1, indent + quoted + b"," + newline)
    else:
        # "]" right after the last item (or an empty list): the item goes before it.
        row, bracket = end_line - 1, (listed.end_col_offset or 1) - 1
        line = lines[row]
        addition = quoted
        if last is not None:
            between = line[last.end_col_offset or 0:bracket]
            if b"," not in between:
                addition = b", " + quoted
            elif not between.endswith(b" "):
                addition = b" " + quoted
        lines[row] = line[:bracket] + addition + line[bracket:]
    edited = b"".join(lines)
    try:
        check = ast.parse(edited)
    except SyntaxError:
        raise CannotRegister("adding the line would break its syntax") from None
    values = [item.value.elts for node in ast.walk(check) if isinstance(node, ast.Call)
              for item in node.keywords if item.arg == "components"
              and isinstance(item.value, ast.List)]
    if len(values) != 1 or not any(isinstance(item, ast.Constant) and item.value == dotted
                                   for item in values[0]):
        raise CannotRegister("the edit could not be checked")
    return edited
