"""The audit trail, pure: one JSON record per apply (who, when, on whose commit, which plan, what
was applied, what failed, with AWS request ids), its storage key, and parsing it back.

Storage lives elsewhere: reconciler/apply/audit_log.py (a JSON Lines file) and
reconciler/aws/audit_store.py (one S3 object per record, never overwritten).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from reconciler.apply.executor import ApplyResult
from reconciler.plan.changes import Change, Plan

FORMAT_VERSION = 1
# GitHub Actions' default variables worth keeping: the commit, who triggered the run, where.
GITHUB_VARIABLES = {
    "sha": "GITHUB_SHA",
    "actor": "GITHUB_ACTOR",
    "triggering_actor": "GITHUB_TRIGGERING_ACTOR",
    "repository": "GITHUB_REPOSITORY",
    "ref": "GITHUB_REF",
    "event": "GITHUB_EVENT_NAME",
    "run_id": "GITHUB_RUN_ID",
}


ChangeKey = tuple[str, str, str]


def change_key(change: Change) -> ChangeKey:
    return (change.action.value, change.type.value, change.id)


class AuditSink(Protocol):
    location: str

    def check(self) -> None:
        """Raise a ReconcilerError when records cannot be written there (before any change)."""

    def append(self, record: Mapping[str, Any]) -> str:
        """Store one record without touching earlier ones; return where it went."""

    def read(self) -> list[str]:
        """Every stored record as JSON text, oldest first."""

    def newest_first(self) -> Iterator[str]:
        """The stored records as JSON text, newest first, read lazily."""


class Outcome(StrEnum):
    NO_CHANGES = "no-changes"
    APPLIED = "applied"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    REFUSED = "refused"
    ERROR = "error"


@dataclass(frozen=True)
class Context:
    """Who ran the apply, when, with which file, and for which day expiry was judged."""

    time: datetime
    caller_arn: str
    account_id: str
    bucket: str
    config: str
    today: date
    adopt: bool = False
    github: Mapping[str, str] = field(default_factory=dict)
    # SHA-256 of the file's bytes: tells later runs whether the file changed since this apply
    config_sha256: str = ""


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def github_context(env: Mapping[str, str]) -> dict[str, str]:
    return {name: env[var] for name, var in GITHUB_VARIABLES.items() if env.get(var)}


def outcome_of(result: ApplyResult | None, error: BaseException | None, refused: bool) -> Outcome:
    if result is not None and result.interrupted:
        return Outcome.INTERRUPTED
    if error is not None:
        return Outcome.REFUSED if refused else Outcome.ERROR
    if result is None:
        return Outcome.NO_CHANGES
    return Outcome.APPLIED if result.ok else Outcome.FAILED


def build_record(
    ctx: Context,
    plan: Plan,
    *,
    outcome: Outcome,
    result: ApplyResult | None = None,
    request_ids: Mapping[ChangeKey, Sequence[str]] | None = None,
    converged: bool | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    ids = request_ids or {}
    record: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "time": ctx.time.isoformat(timespec="microseconds"),
        "caller_arn": ctx.caller_arn,
        "account_id": ctx.account_id,
        "bucket": ctx.bucket,
        "config": ctx.config,
        "config_sha256": ctx.config_sha256,
        "today": ctx.today.isoformat(),
        "adopt": ctx.adopt,
        "github": dict(ctx.github),
        "plan_checksum": plan.checksum(),
        "only": list(plan.scope),  # a targeted apply (--only) leaves the rest of the file unapplied
        "summary": plan.summary(),
        "lifecycle": [event.to_json() for event in plan.events],
        "outcome": outcome.value,
        "reason": reason,
        "applied": [],
        "failures": [],
        "skipped": [],
        "converged": converged,
    }
    if result is not None:
        record["applied"] = [
            {**c.to_json(), "request_ids": list(ids.get(change_key(c), ()))} for c in result.applied
        ]
        record["failures"] = [f.to_json() for f in result.failures]
        record["skipped"] = [c.to_json() for c in result.skipped]
    return record


def to_line(record: Mapping[str, Any]) -> str:
    """One line of JSON (JSON Lines): keys sorted so equal records serialise alike."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def record_key(prefix: str, record: Mapping[str, Any], token: str) -> str:
    """`<prefix>YYYY/MM/DD/<time>-<checksum>-<token>.json`: keys sort by time; the token keeps
    two records of the same microsecond apart."""
    when = datetime.fromisoformat(str(record["time"]))
    stamp = when.strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{prefix}{when:%Y/%m/%d}/{stamp}-{str(record['plan_checksum'])[:12]}-{token}.json"


@dataclass(frozen=True)
class Parsed:
    records: list[dict[str, Any]]
    problems: list[str]


def parse_records(items: Iterable[tuple[str, str]]) -> Parsed:
    """(where, text) pairs -> records sorted by time; unreadable ones become problems."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    for where, text in items:
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as err:
            problems.append(f"{where}: not a JSON record ({err})")
            continue
        if not isinstance(record, dict) or "time" not in record:
            problems.append(f"{where}: not an audit record (no time)")
            continue
        records.append(record)
    records.sort(key=lambda r: str(r["time"]))
    return Parsed(records, problems)


def touches(record: Mapping[str, Any], collaborator: str) -> bool:
    """Whether a record applied, failed or skipped anything for this collaborator."""
    changes = [*record.get("applied", []), *record.get("skipped", [])]
    changes += [f.get("change", {}) for f in record.get("failures", [])]
    return any(c.get("collaborator") == collaborator for c in changes)


# outcomes of an apply that left live AWS as the file describes (converged, or nothing to do)
_COMPLETED = {Outcome.APPLIED.value, Outcome.NO_CHANGES.value}


def parsed(texts: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Records from their JSON text, lazily; unreadable ones are skipped (`history` reports
    them)."""
    for text in texts:
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def last_completed_apply(texts: Iterable[str]) -> dict[str, Any] | None:
    """The newest record (`texts` newest first) of an apply that completed: applied and
    converged, or found nothing to change. Targeted applies (--only) do not count: they left
    the rest of the file unapplied. Unreadable records are skipped."""
    for record in parsed(texts):
        if (
            record.get("outcome") in _COMPLETED
            and record.get("converged") is not False
            and not record.get("only")
        ):
            return record
    return None


def unchanged_since(record: Mapping[str, Any] | None, digest: str, source: str) -> str:
    """Why every change counts as drift ("" when it does not: no record, or the file changed
    since the last completed apply; records written before config_sha256 existed count as
    changed)."""
    if record is None or not digest or record.get("config_sha256") != digest:
        return ""
    github = record.get("github") or {}
    commit = f", commit {str(github['sha'])[:12]}" if github.get("sha") else ""
    return (
        f"{source} has not changed since the last apply recorded in the audit trail "
        f"({record.get('time')}{commit}), so every change here is drift."
    )
