"""Handler parameters: what a view's signature asks for, resolved per request.

At startup each view's signature is analysed once into a :class:`Plan`: one
:class:`Parameter` per argument, saying where its value comes from and how it
is converted.  Per request only the plan runs.

Where a value comes from:

- the request (or websocket): an argument annotated ``Request`` (or named
  ``request`` without annotation);
- a path parameter: an argument named like one of the path's ``{params}``;
- a dependency: ``Annotated[T, Depends(func)]`` (or ``= Depends(func)``);
- a body: an argument whose type is a pydantic model, a dataclass or a
  ``heron.forms.Form`` (or any type marked ``Body()``);
- a header or cookie: ``Annotated[str, Header()]``, ``Annotated[str, Cookie()]``;
- the query string: any other typed argument (``page: int = 1``,
  ``tags: list[str] = []``, ``Annotated[int, Field(ge=1, le=100)]``).

Invalid values give one 422 listing every problem (:class:`RequestValidationError`).

The package has one module per concern: ``_markers`` (``Query()``, ``Depends()``...),
``_annotations`` and ``_converters`` (reading types, converting values), ``_plan``
(the analysis at startup), ``_resolve`` (running a plan per request) and
``_responses`` (response models and ``status_code``).
"""

from __future__ import annotations

from heron.params._annotations import FORM_MARKER as FORM_MARKER
from heron.params._annotations import _bare as _bare
from heron.params._annotations import _is_form as _is_form
from heron.params._annotations import _type_hints as _type_hints
from heron.params._annotations import contains_model as contains_model
from heron.params._markers import _EMPTY as _EMPTY
from heron.params._markers import Body, Cookie, Depends, Header, Query
from heron.params._markers import Param as Param
from heron.params._markers import Path as Path
from heron.params._plan import Parameter, Plan, analyse
from heron.params._plan import path_types as path_types
from heron.params._plan import plan as plan
from heron.params._plan import takes_only_path_params as takes_only_path_params
from heron.params._resolve import Resolver as Resolver
from heron.params._resolve import build_call
from heron.params._resolve import build_hook as build_hook
from heron.params._resolve import compile_plan as compile_plan
from heron.params._responses import build_responder as build_responder
from heron.params._responses import error_responder as error_responder
from heron.params._responses import response_model as response_model

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "Header",
    "Parameter",
    "Plan",
    "Query",
    "analyse",
    "build_call",
]
