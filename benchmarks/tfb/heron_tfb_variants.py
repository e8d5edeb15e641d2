"""heron's TechEmpower app with one of heron.db's engine defaults changed, to measure it.

Only for ``callgrind.py``: the patch lives in the measuring process, ``src/`` is
untouched. ``TFB_VARIANT`` picks it:

- ``noping``: ``pool_pre_ping`` off (heron sets it on every engine: a ``;`` round
  trip each time a session takes a connection from the pool);
- ``autocommit``: no pre-ping and the engine in ``AUTOCOMMIT``: no ``BEGIN`` and
  ``ROLLBACK`` around a request's reads (not for ``/updates``: its commit would
  no longer be one transaction).
"""

from __future__ import annotations

import os
from typing import Any

from heron.db.database import DatabaseState

_options = DatabaseState._options
VARIANT = os.environ.get("TFB_VARIANT", "noping")


def _patched(self: DatabaseState, url: str) -> dict[str, Any]:
    options = _options(self, url)
    options["pool_pre_ping"] = False
    if VARIANT == "autocommit":
        options["isolation_level"] = "AUTOCOMMIT"
    return options


DatabaseState._options = _patched  # type: ignore[method-assign]

from heron_tfb import app  # noqa: E402

__all__ = ["app"]
