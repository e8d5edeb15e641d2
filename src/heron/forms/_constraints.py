"""A model's CHECK constraints read as form rules, where they have a common shape.

A constraint is read from its SQL text (an expression object is compiled to it
first), split into the parts joined by a top-level ``AND``, and each part that
has one of these shapes becomes a rule; any other part is left to the database:

- ``col >= 0``, ``col > 0``, ``col <= 10``, ``col < 10`` (or ``0 <= col``...),
  ``col BETWEEN 1 AND 5``: bounds;
- ``length(col) > 0``, ``col <> ''``: lengths;
- ``col IN ('a', 'b')``: choices;
- ``a <= b`` (``<``, ``>=``, ``>``) between two columns: a comparison.

A rule only ever refuses what the constraint refuses, so that a valid form never
surprises the database; a ``NULL`` passes every rule, as it passes a CHECK.
"""

from __future__ import annotations

import dataclasses
import decimal
import math
import re
from typing import Any

__all__ = ["Comparison", "Rule", "apply_rules", "table_checks"]

_IDENT = r'(?:"?[A-Za-z_]\w*"?\.)?"?([A-Za-z_]\w*)"?'
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_OP = r"(>=|>|<=|<)"
_BOUND = re.compile(rf"{_IDENT}\s*{_OP}\s*{_NUMBER}")
_BOUND_REVERSED = re.compile(rf"{_NUMBER}\s*{_OP}\s*{_IDENT}")
_NOT_EMPTY = re.compile(rf"{_IDENT}\s*(?:<>|!=)\s*''")
_LENGTH = re.compile(rf"(?:length|char_length|character_length)\s*\(\s*{_IDENT}\s*\)\s*"
                     rf"(>=|>|<=|<|<>|!=)\s*(\d+)", re.IGNORECASE)
_IN = re.compile(rf"{_IDENT}\s+IN\s*\((.*)\)", re.IGNORECASE | re.DOTALL)
_COMPARE = re.compile(rf"{_IDENT}\s*{_OP}\s*{_IDENT}")
_BETWEEN = re.compile(rf"{_IDENT}\s+BETWEEN\s+{_NUMBER}\s+AND\s+{_NUMBER}", re.IGNORECASE)
_LITERAL = re.compile(r"\s*(?:'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?))\s*(?:,|$)")
_FLIPPED = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a CHECK constraint asks of one column.

    ``kind`` is ``"bound"`` (``op`` and a number), ``"length"`` (``op`` and a
    number of characters) or ``"one_of"`` (``value`` a tuple of values).
    """

    column: str  # the column's SQL name
    kind: str
    op: str
    value: Any
    message: str | None = None


@dataclasses.dataclass(frozen=True)
class Comparison:
    """``left op right`` between two columns (their SQL names)."""

    left: str
    op: str
    right: str
    message: str | None = None


def _sql_text(constraint: Any) -> str | None:
    sqltext = constraint.sqltext
    text = getattr(sqltext, "text", None)  # text(): as written
    if isinstance(text, str):
        return text
    try:
        return str(sqltext.compile(compile_kwargs={"literal_binds": True}))
    except Exception:  # a value with no literal form: the database checks it
        return None


def _outer_parentheses(text: str) -> str:
    """``text`` without parentheses around all of it: ``((a > 0))`` -> ``a > 0``."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for index, char in enumerate(text):
            depth += char == "("
            depth -= char == ")"
            if depth == 0 and index < len(text) - 1:
                return text  # "(a) < (b)": the first parenthesis closes early
        text = text[1:-1].strip()
    return text


def _conjuncts(text: str) -> list[str]:
    """The parts of ``text`` joined by a top-level ``AND``; ``[text]`` when a top-level
    ``OR`` makes them no conditions of their own."""
    parts: list[str] = []
    depth, start, quoted, between = 0, 0, False, False
    for match in re.finditer(r"'|\(|\)|\b(?:AND|OR|BETWEEN)\b", text, re.IGNORECASE):
        token = match.group(0).upper()
        if token == "'":
            quoted = not quoted  # '' inside a string toggles twice: no harm
        elif quoted:
            continue
        elif token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth > 0:
            continue
        elif token == "OR":
            return [text]
        elif token == "BETWEEN":
            between = True
        elif between:
            between = False  # the AND of "BETWEEN 1 AND 5"
        else:
            parts.append(text[start:match.start()])
            start = match.end()
    parts.append(text[start:])
    return [_outer_parentheses(part) for part in parts]


def _literals(text: str) -> tuple[Any, ...] | None:
    values: list[Any] = []
    position = 0
    while position < len(text):
        match = _LITERAL.match(text, position)
        if match is None or match.end() == position:
            return None  # NULL, an expression, a subquery: not a list of values
        string, number = match.groups()
        values.append(string.replace("''", "'") if string is not None
                      else decimal.Decimal(number))
        position = match.end()
    return tuple(values) or None


def parse(text: str, message: str | None = None) -> list[Rule | Comparison]:
    """The rules of a CHECK constraint's SQL text (those parts it can read)."""
    rules: list[Rule | Comparison] = []
    for part in _conjuncts(_outer_parentheses(text)):
        if match := _BOUND.fullmatch(part):
            rules.append(Rule(match[1], "bound", match[2], decimal.Decimal(match[3]), message))
        elif match := _BOUND_REVERSED.fullmatch(part):
            rules.append(Rule(match[3], "bound", _FLIPPED[match[2]], decimal.Decimal(match[1]),
                              message))
        elif match := _BETWEEN.fullmatch(part):
            rules.append(Rule(match[1], "bound", ">=", decimal.Decimal(match[2]), message))
            rules.append(Rule(match[1], "bound", "<=", decimal.Decimal(match[3]), message))
        elif match := _NOT_EMPTY.fullmatch(part):
            rules.append(Rule(match[1], "length", ">", 0, message))
        elif match := _LENGTH.fullmatch(part):
            op, count = match[2], int(match[3])
            if op in ("<>", "!="):
                if count == 0:
                    rules.append(Rule(match[1], "length", ">", 0, message))
            else:
                rules.append(Rule(match[1], "length", op, count, message))
        elif (match := _IN.fullmatch(part)) and (values := _literals(match[2])) is not None:
            rules.append(Rule(match[1], "one_of", "in", values, message))
        elif match := _COMPARE.fullmatch(part):
            rules.append(Comparison(match[1], match[2], match[3], message))
    return rules


def table_checks(tables: Any) -> list[Rule | Comparison]:
    """The rules of every CHECK constraint of ``tables`` that heron can read."""
    from sqlalchemy import CheckConstraint

    seen: set[int] = set()
    rules: list[Rule | Comparison] = []
    for table in tables:
        constraints = list(getattr(table, "constraints", ()))
        for column in table.columns:
            constraints += list(column.constraints)
        # A table keeps its constraints in a set: read them in the order they were
        # declared, so that the form's errors come in the same order on every run.
        constraints.sort(key=lambda c: getattr(c, "_creation_order", 0))
        for constraint in constraints:
            if not isinstance(constraint, CheckConstraint) or id(constraint) in seen:
                continue
            seen.add(id(constraint))
            text = _sql_text(constraint)
            if text is not None:
                message = constraint.info.get("message")
                rules += parse(text, str(message) if message is not None else None)
    return rules


# -- rules as field options -------------------------------------------------------------

_BOUND_MESSAGES = {">=": "greater_than_equal", ">": "greater_than", "<=": "less_than_equal",
                   "<": "less_than"}


def _whole_bound(op: str, value: decimal.Decimal) -> tuple[str, int]:
    """An integer column's bound as ``ge``/``le`` (``> 0`` is ``>= 1``), which is also
    what the number input's ``min`` and ``max`` can say."""
    if op == ">=":
        return "ge", math.ceil(value)
    if op == ">":
        return "ge", math.floor(value) + 1
    if op == "<=":
        return "le", math.floor(value)
    return "le", math.ceil(value) - 1


def _tighter(options: dict[str, Any], name: str, value: Any) -> None:
    current = options.get(name)
    if current is None:
        options[name] = value
    elif name in ("ge", "gt", "min_length"):
        options[name] = max(current, value)
    else:
        options[name] = min(current, value)


def _bound(python_type: Any, options: dict[str, Any], messages: dict[str, str],
           rule: Rule) -> None:
    if python_type is int:
        name, whole = _whole_bound(rule.op, rule.value)
        _tighter(options, name, whole)
        code = "greater_than_equal" if name == "ge" else "less_than_equal"
    else:
        name = {">=": "ge", ">": "gt", "<=": "le", "<": "lt"}[rule.op]
        value: Any = rule.value
        if value == value.to_integral_value():
            value = int(value)  # "greater than 0", not "0.0"
        elif python_type is float:
            value = float(value)
        _tighter(options, name, value)
        code = _BOUND_MESSAGES[rule.op]
    if rule.message:
        messages[code] = rule.message


def _length(options: dict[str, Any], messages: dict[str, str], rule: Rule) -> None:
    count = int(rule.value)
    if rule.op in (">=", ">"):
        _tighter(options, "min_length", count + (rule.op == ">"))
        code = "string_too_short"
    else:
        _tighter(options, "max_length", count - (rule.op == "<"))
        code = "string_too_long"
    if rule.message:
        messages[code] = rule.message


def _one_of(python_type: Any, options: dict[str, Any], messages: dict[str, str],
            rule: Rule) -> None:
    try:
        values = [python_type(str(value) if python_type is not float else value)
                  for value in rule.value]
    except (TypeError, ValueError, ArithmeticError):
        return  # '1a' IN an integer column: the database decides
    chosen = options.get("choices")
    if chosen is not None:
        values = [value for value in values if value in chosen]
    options["choices"] = values
    if rule.message:
        messages["invalid_choice"] = rule.message


def apply_rules(python_type: Any, options: dict[str, Any], rules: list[Rule]) -> None:
    """Turn one column's rules into the options of its field (``ge``, ``max_length``,
    ``choices``, ``error_messages``...), tightening what ``options`` holds."""
    messages: dict[str, str] = dict(options.get("error_messages") or {})
    number = python_type in (int, float, decimal.Decimal)
    for rule in rules:
        if rule.kind == "bound" and number:
            _bound(python_type, options, messages, rule)
        elif rule.kind == "length" and python_type is str:
            _length(options, messages, rule)
        elif rule.kind == "one_of" and (number or python_type is str):
            _one_of(python_type, options, messages, rule)
    if messages:
        options["error_messages"] = messages
