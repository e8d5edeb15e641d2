"""A base ``pip install`` of heron (no extras) works: every battery imports and runs.

The test builds a throwaway virtualenv, installs the repository into it with pip,
resolving dependencies for real against the package index pip is configured
with (pip's own cache makes repeat runs quicker), and runs tests/install_probe.py
there.  It exists because SQLAlchemy 2.1 moved greenlet into its ``asyncio``
extra: with ``sqlalchemy>=2.0.30`` alone, ``heron db migrate`` failed on a fresh
install while heron's own test environment, which has more packages, passed.

Marked ``install``: ``pytest -m "not install"`` leaves it out (it needs the
package index and takes about 20 s).  It never skips: a pip that cannot install
heron fails it, with pip's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("install_probe.py")

pytestmark = pytest.mark.install


def clean_env() -> dict[str, str]:
    """The environment without this test run's Python and heron settings."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
    return {k: v for k, v in os.environ.items()
            if k not in drop and not k.startswith(("HERON_", "PYTEST_"))}


def base_install(target: Path) -> Path:
    """A new venv at ``target`` with ``pip install ROOT`` and nothing more; its python.

    The venv gets no pip of its own (creating one costs seconds) when the pip running
    these tests can install into it with ``--python`` (pip 22.3 and later).
    """
    has_pip = subprocess.run([sys.executable, "-m", "pip", "--python", sys.executable,
                              "--version"], capture_output=True, check=False).returncode == 0
    venv.create(target, with_pip=not has_pip, symlinks=os.name != "nt")
    python = target / ("Scripts" if os.name == "nt" else "bin") / "python"
    pip = ([sys.executable, "-m", "pip", "--python", str(python)] if has_pip
           else [str(python), "-m", "pip"])
    done = subprocess.run([*pip, "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
                          env=clean_env(), capture_output=True, text=True, timeout=600,
                          check=False)
    if done.returncode != 0:
        pytest.fail(f"pip install {ROOT} failed:\n{done.stdout}{done.stderr}", pytrace=False)
    return python


def test_base_install_runs_every_battery(tmp_path: Path) -> None:
    python = base_install(tmp_path / "venv")
    workdir = tmp_path / "work"
    workdir.mkdir()
    # -I: neither tests/ (the script's folder) nor PYTHON* variables on the path, so
    # heron and its dependencies come from the venv alone.
    done = subprocess.run([str(python), "-I", str(PROBE), str(ROOT), str(workdir)],
                          cwd=workdir, env=clean_env(), capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0 or "install probe: all checks passed" not in done.stdout:
        pytest.fail(f"a base install of heron is broken:\n{done.stdout}{done.stderr}",
                    pytrace=False)
