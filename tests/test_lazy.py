"""heron._lazy: package names imported on first use, and a clear error for others."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_a_lazy_name_loads_its_module_once_and_stays() -> None:
    script = (
        "import sys, heron.db\n"
        "assert 'heron.db.database' not in sys.modules\n"
        "db = heron.db.db\n"
        "assert 'heron.db.database' in sys.modules\n"
        "assert heron.db.__dict__['db'] is db\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    import heron.templating

    with pytest.raises(AttributeError, match=r"module 'heron\.templating' has no attribute 'nope'"):
        heron.templating.nope  # noqa: B018
    assert not hasattr(heron.templating, "Render")  # names are exact, not case-folded
