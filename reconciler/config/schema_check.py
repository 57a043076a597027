"""Layer 2 of validation: JSON Schema (draft 2020-12), the single structural contract.

Every schema failure becomes one problem at the line of the key it is about; failures of the
same value are merged into one sentence ("'/Alice' must end with '/' and must not start with
'/' (did you mean 'Alice/'?)").
"""

from __future__ import annotations

from dataclasses import dataclass

from jsonschema.exceptions import ValidationError, best_match

from reconciler.config.contract import validator
from reconciler.config.messages import Finding, explain
from reconciler.config.wording import show
from reconciler.config.yaml_source import Path, SourceDocument
from reconciler.errors import ConfigProblem


@dataclass(frozen=True)
class SchemaResult:
    problems: list[ConfigProblem]
    valid: bool


def schema_problems(doc: SourceDocument) -> SchemaResult:
    errors = [_most_specific(e) for e in validator().iter_errors(doc.data)]
    findings = [f for error in errors for f in explain(error, doc)]
    findings = [f for f in findings if not _under(f.path, doc.unreadable)]
    return SchemaResult(problems=_merge(findings, doc), valid=not errors)


def _most_specific(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf without a message of its own, report the branch error that went
    deepest (as Cloud Custodian's specific_error does)."""
    if error.context and not (isinstance(error.schema, dict) and "errorMessage" in error.schema):
        return _most_specific(best_match(error.context))
    return error


def _under(path: Path, roots: set[Path]) -> bool:
    return any(path[: len(root)] == root for root in roots)


def _merge(findings: list[Finding], doc: SourceDocument) -> list[ConfigProblem]:
    """A type error hides other errors of the same value; rule failures of one value merge."""
    typed = {f.path for f in findings if f.kind == "type"}
    rules: dict[Path, list[Finding]] = {}
    problems: list[ConfigProblem] = []
    for finding in findings:
        if finding.path in typed and finding.kind != "type":
            continue
        if finding.kind == "rule":
            rules.setdefault(finding.path, []).append(finding)
        else:
            problems.append(doc.problem(finding.path, finding.text))
    for path, group in rules.items():
        problems.append(doc.problem(path, _sentence(group)))
    return list(dict.fromkeys(problems))


def _sentence(group: list[Finding]) -> str:
    texts = list(dict.fromkeys(f.text for f in group))
    suggestion = next((f.suggestion for f in group if f.suggestion is not None), None)
    hint = f" (did you mean {show(suggestion)}?)" if suggestion is not None else ""
    return f"{show(group[0].value)} {' and '.join(texts)}{hint}"
