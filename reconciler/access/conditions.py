"""Condition operators over the request context (IAM User Guide, "IAM JSON policy elements:
Condition operators", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

Supported: StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase,
StringLike, StringNotLike, ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Bool, Null, the six
Numeric operators (NumericEquals, NumericNotEquals, NumericLessThan, NumericLessThanEquals,
NumericGreaterThan, NumericGreaterThanEquals), each (but Null) with the IfExists suffix.
Documented rules applied:
- several operators, or several keys under one operator, must all hold (AND); several values
  for one key: any may match (OR);
- a key absent from the request context makes a positive operator false and a negated one
  true; `...IfExists` makes an absent key true; `Null` tests presence.
Anything else (date, IP operators, ForAnyValue/ForAllValues, keys this tool does not
model) evaluates to MAYBE with a reason, never to a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import eq, ge, gt, le, lt
from typing import Any

from reconciler.access.logic import Tri, negate
from reconciler.access.patterns import ARN_COMPONENTS as ARN_PARTS
from reconciler.access.patterns import Pattern, any_match, compile_pattern

_STRING_OPERATORS = {
    # name: (negated, wildcards, ignore_case, arn)
    "stringequals": (False, False, False, False),
    "stringnotequals": (True, False, False, False),
    "stringequalsignorecase": (False, False, True, False),
    "stringnotequalsignorecase": (True, False, True, False),
    "stringlike": (False, True, False, False),
    "stringnotlike": (True, True, False, False),
    "arnequals": (False, True, False, True),
    "arnlike": (False, True, False, True),
    "arnnotequals": (True, True, False, True),
    "arnnotlike": (True, True, False, True),
    "bool": (False, False, True, False),
}


# name: (comparison, negated); numbers compare as numbers, not text
_NUMERIC_OPERATORS: dict[str, tuple[Callable[[float, float], bool], bool]] = {
    "numericequals": (eq, False),
    "numericnotequals": (eq, True),
    "numericlessthan": (lt, False),
    "numericlessthanequals": (le, False),
    "numericgreaterthan": (gt, False),
    "numericgreaterthanequals": (ge, False),
}


@dataclass(frozen=True)
class Context:
    """The request context: values of the keys present, and which keys this tool models (a key
    that is modeled but has no value is known to be absent)."""

    values: Mapping[str, str]
    modeled: frozenset[str]


def condition_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Clause:
    """One `"Operator": {"key": values}` pair."""

    operator: str
    key: str  # as written
    patterns: tuple[Pattern, ...] = ()
    negated: bool = False
    if_exists: bool = False
    null_check: bool = False
    problem: str | None = None
    # numeric operators: the comparison (request value, policy value) and the policy values
    compare: Callable[[float, float], bool] | None = None
    numbers: tuple[float, ...] = ()
    arn: bool = False  # an ARN operator (ArnEquals, ArnLike and their negations)

    def evaluate(self, ctx: Context) -> tuple[Tri, str | None]:
        if self.problem is not None:
            return Tri.MAYBE, self.problem
        key = self.key.lower()
        if key not in ctx.modeled:
            return Tri.MAYBE, f"condition key {self.key} is not modeled by this tool"
        value = ctx.values.get(key)
        if self.null_check:
            wanted = {p.text.lower() for p in self.patterns}
            present = "false" if value is not None else "true"
            return (Tri.YES if present in wanted else Tri.NO), None
        if value is None:
            return (Tri.YES if self.if_exists or self.negated else Tri.NO), None
        if self.compare is not None:
            return self._compare(value), None
        if self.arn and value.count(":") < ARN_PARTS - 1:
            # the documentation does not say how an ARN operator treats a value that is not an
            # ARN (a KMS key id in s3:x-amz-server-side-encryption-aws-kms-key-id, say)
            return Tri.MAYBE, f"{self.operator} on {self.key}: the request value is not an ARN"
        matched = any_match(self.patterns, value)
        if matched is Tri.MAYBE:
            doubts = [p.doubt for p in self.patterns if p.match(value) is Tri.MAYBE]
            return Tri.MAYBE, f"{self.operator} on {self.key}: {'; '.join(doubts)}"
        return (negate(matched) if self.negated else matched), None

    def _compare(self, value: str) -> Tri:
        assert self.compare is not None
        number = _number(value)
        if number is None:  # a request value that is not a number matches no number
            return Tri.YES if self.negated else Tri.NO
        matched = any(self.compare(number, n) for n in self.numbers)
        return Tri.YES if matched != self.negated else Tri.NO


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric_clause(operator_name: str, key: str, base: str, values: list[str]) -> Clause:
    compare, negated = _NUMERIC_OPERATORS[base]
    numbers = [_number(v) for v in values]
    if any(n is None for n in numbers):
        return Clause(
            operator_name, key, problem=f"{operator_name} on {key} has a non-numeric value"
        )
    return Clause(
        operator_name,
        key,
        negated=negated,
        if_exists=operator_name.lower().endswith("ifexists"),
        compare=compare,
        numbers=tuple(n for n in numbers if n is not None),
    )


def _values(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    return [condition_value(v) for v in items]


def compile_clause(operator: str, key: str, raw: Any, *, variables: bool) -> Clause:
    name = operator.lower()
    if ":" in name:
        return Clause(operator, key, problem=f"set operator {operator} is not supported")
    if_exists = name.endswith("ifexists")
    base = name[: -len("ifexists")] if if_exists else name
    values = _values(raw)
    if base == "null" and not if_exists:
        literal = tuple(compile_pattern(v, wildcards=False) for v in values)
        return Clause(operator, key, literal, null_check=True)
    if base in _NUMERIC_OPERATORS:
        return _numeric_clause(operator, key, base, values)
    spec = _STRING_OPERATORS.get(base)
    if spec is None:
        return Clause(operator, key, problem=f"condition operator {operator} is not supported")
    negated, wildcards, ignore_case, arn = spec
    patterns = tuple(
        compile_pattern(
            v, wildcards=wildcards, ignore_case=ignore_case, arn=arn, variables=variables
        )
        for v in values
    )
    return Clause(operator, key, patterns, negated=negated, if_exists=if_exists, arn=arn)


def compile_conditions(block: Any, *, variables: bool) -> tuple[Clause, ...]:
    if block is None:
        return ()
    if not isinstance(block, Mapping):
        return (Clause("Condition", "?", problem="the Condition element is not an object"),)
    clauses: list[Clause] = []
    for operator, pairs in block.items():
        if not isinstance(pairs, Mapping):
            clauses.append(Clause(operator, "?", problem=f"{operator} does not hold key: values"))
            continue
        for key, raw in pairs.items():
            clauses.append(compile_clause(str(operator), str(key), raw, variables=variables))
    return tuple(clauses)


def evaluate_all(clauses: tuple[Clause, ...], ctx: Context) -> tuple[Tri, tuple[str, ...]]:
    """AND over the clauses, with the reasons for any MAYBE."""
    result = Tri.YES
    reasons: list[str] = []
    for clause in clauses:
        value, reason = clause.evaluate(ctx)
        if value is Tri.NO:
            return Tri.NO, ()
        if value is Tri.MAYBE:
            result = Tri.MAYBE
            if reason:
                reasons.append(reason)
    return result, tuple(reasons)
