"""``--where`` conditions: comparisons of outcomes combined with and, or and not, evaluated on whole columns.

The condition is parsed with Python's own grammar and then walked, allowing only names of known columns,
numbers, arithmetic (``+ - * /``), comparisons (chains too: ``0 < attacks <= 5``) and ``and``, ``or``,
``not``: nothing is evaluated as code.
"""

from __future__ import annotations

import ast
import difflib
import operator
from collections.abc import Mapping

import numpy as np

from sim.errors import KazsimInputError
from sim.outcomes import OUTCOMES_DOC, RENAMED

MAX_LENGTH = 1000
MAX_NODES = 200
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_COMPARISONS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
                ast.Eq: operator.eq, ast.NotEq: operator.ne}


class ConditionError(KazsimInputError):
    """A ``--where`` condition that cannot be evaluated: names the condition and what is wrong."""


def names_in(condition: str) -> list[str]:
    """The column names a condition uses, in order of appearance (after checking its syntax)."""
    tree = _parse(condition)
    return list(dict.fromkeys(node.id for node in ast.walk(tree) if isinstance(node, ast.Name)))


def _parse(condition: str) -> ast.Expression:
    if not condition.strip():
        raise ConditionError("--where: empty condition; expected e.g. \"effect_attacks > 0\"")
    if len(condition) > MAX_LENGTH:
        raise ConditionError(f"--where: {len(condition)} characters; expected at most {MAX_LENGTH}")
    try:
        tree = ast.parse(condition.strip(), mode="eval")
    except SyntaxError as error:
        raise ConditionError(f"--where {condition!r}: not a condition ({error.msg} at character "
                             f"{error.offset}); expected e.g. \"effect_attacks > 0 and deaths_total > 20\"") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ConditionError(f"--where {condition!r}: too long a condition (more than {MAX_NODES} parts)")
    return tree


def evaluate(condition: str, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The condition's truth on every row.

    Args:
        condition: e.g. ``effect_attacks > 0 and uninvolved_people_detained < 100``.
        columns: the values of each name, one array per name, all of the same length.

    Raises:
        ConditionError: bad syntax, an unknown name (with the closest known one), a construct other than
            arithmetic, comparison and and/or/not, or a result that is not true or false per row.
    """
    tree = _parse(condition)

    def value(node: ast.AST):
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in columns:
                raise ConditionError(f"--where {condition!r}: {_unknown(node.id, columns)}")
            return np.asarray(columns[node.id], dtype=float)
        if isinstance(node, ast.BoolOp):
            parts = [_truth(value(v), condition) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            result = parts[0]
            for part in parts[1:]:
                result = combine(result, part)
            return result
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return np.logical_not(_truth(value(node.operand), condition))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = value(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            with np.errstate(divide="ignore", invalid="ignore"):
                return _ARITHMETIC[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARISONS for op in node.ops):
            left, result = value(node.left), None
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = value(right_node)
                step = _COMPARISONS[type(op)](left, right)
                result = step if result is None else np.logical_and(result, step)
                left = right
            return result
        shown = ast.get_source_segment(condition.strip(), node) or type(node).__name__
        raise ConditionError(f"--where {condition!r}: {shown!r} is not allowed; use outcome names, numbers, "
                             "+ - * /, comparisons (< <= > >= == !=) and and/or/not")

    rows = len(next(iter(columns.values()))) if columns else 0
    result = np.broadcast_to(_truth(value(tree), condition), (rows,))
    return np.array(result, dtype=bool)


def _truth(values, condition: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype != bool:
        raise ConditionError(f"--where {condition!r}: expected a comparison (true or false per run), e.g. "
                             "\"attacks > 5\", not a number")
    return array


def _unknown(name: str, columns: Mapping[str, np.ndarray]) -> str:
    if name in RENAMED and RENAMED[name] in columns:
        return f"{name!r} was renamed {RENAMED[name]!r}"
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown name {name!r}{hint} (outcome names are listed in {OUTCOMES_DOC})"
