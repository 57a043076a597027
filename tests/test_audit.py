"""The audit trail: record contents, append-only storage (file and S3), history output."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.audit import (
    Context,
    Outcome,
    build_record,
    change_key,
    github_context,
    outcome_of,
    parse_records,
    record_key,
    to_line,
    touches,
)
from reconciler.apply.audit_log import JsonLinesLog
from reconciler.apply.executor import ApplyResult, Failure, apply_plan
from reconciler.errors import ReconcilerError
from reconciler.model import Config
from reconciler.plan.changes import Plan
from reconciler.render.history import render_history
from tests.fake import FakeCloud

CTX = Context(
    time=datetime(2025, 7, 1, 2, 0, 0, 123456, tzinfo=UTC),
    caller_arn="arn:aws:sts::123456789012:assumed-role/ci/run-42",
    account_id="123456789012",
    bucket="clinical-share-123456789012",
    config="collaborators.yaml",
    today=date(2025, 7, 1),
    github={"sha": "0123456789abcdef", "actor": "octocat"},
)


@pytest.fixture
def applied(config: Config) -> tuple[Plan, ApplyResult]:
    cloud = FakeCloud(fail=lambda name, args: name == "create_user" and args[0] == "Bob")
    p = plan(config, cloud.read(config))
    return p, apply_plan(p, cloud)


def test_github_context_keeps_only_what_is_set() -> None:
    env = {"GITHUB_SHA": "abc", "GITHUB_ACTOR": "octocat", "GITHUB_REF": "", "HOME": "/root"}
    assert github_context(env) == {"sha": "abc", "actor": "octocat"}
    assert github_context({}) == {}


def test_a_record_holds_who_when_which_plan_what_was_applied_and_failed(
    applied: tuple[Plan, ApplyResult],
) -> None:
    p, result = applied
    first = result.applied[0]
    record = build_record(
        CTX,
        p,
        outcome=outcome_of(result, None, False),
        result=result,
        request_ids={change_key(first): ["REQ-1", "REQ-2"]},
        converged=False,
    )
    assert record["time"] == "2025-07-01T02:00:00.123456+00:00"
    assert record["caller_arn"] == CTX.caller_arn
    assert record["github"] == {"sha": "0123456789abcdef", "actor": "octocat"}
    assert record["plan_checksum"] == p.checksum()
    assert record["outcome"] == "failed"
    assert record["applied"][0]["request_ids"] == ["REQ-1", "REQ-2"]
    assert record["applied"][0]["id"] == first.id
    (failure,) = record["failures"]
    assert failure["change"]["id"] == "Bob" and failure["request_id"] == "req-fake-1"
    assert {c["collaborator"] for c in record["skipped"]} == {"bob"}
    assert json.loads(to_line(record)) == record
    assert "\n" not in to_line(record)


@pytest.mark.parametrize(
    ("result", "error", "refused", "expected"),
    [
        (None, None, False, Outcome.NO_CHANGES),
        (ApplyResult((), (), ()), None, False, Outcome.APPLIED),
        (ApplyResult((), (), (), interrupted=True), None, False, Outcome.INTERRUPTED),
        (None, ReconcilerError("x"), True, Outcome.REFUSED),
        (None, ReconcilerError("x"), False, Outcome.ERROR),
    ],
)
def test_outcomes(
    result: ApplyResult | None, error: BaseException | None, refused: bool, expected: Outcome
) -> None:
    assert outcome_of(result, error, refused) is expected


def test_failed_outcome_when_a_change_failed(applied: tuple[Plan, ApplyResult]) -> None:
    _, result = applied
    assert isinstance(result.failures[0], Failure)
    assert outcome_of(result, None, False) is Outcome.FAILED


def test_record_keys_sort_by_time_and_carry_the_checksum() -> None:
    early = {"time": "2025-07-01T02:00:00.000001+00:00", "plan_checksum": "ab" * 32}
    late = {"time": "2025-07-01T10:00:00+00:00", "plan_checksum": "cd" * 32}
    k1, k2 = record_key("audit/", early, "t1"), record_key("audit/", late, "t0")
    assert k1 == "audit/2025/07/01/20250701T020000.000001Z-abababababab-t1.json"
    assert sorted([k2, k1]) == [k1, k2]


def test_the_log_file_is_append_only(tmp_path: Path, applied: tuple[Plan, ApplyResult]) -> None:
    p, result = applied
    log = JsonLinesLog(tmp_path / "audit.jsonl")
    log.check()
    first = build_record(CTX, p, outcome=Outcome.FAILED, result=result)
    log.append(first)
    before = log.path.read_bytes()
    second = build_record(CTX, Plan(), outcome=Outcome.NO_CHANGES)
    log.append(second)
    after = log.path.read_bytes()
    assert after.startswith(before) and after != before
    assert [json.loads(line) for line in log.read()] == [first, second]


def test_a_missing_log_folder_is_refused_before_apply(tmp_path: Path) -> None:
    with pytest.raises(ReconcilerError, match="does not exist"):
        JsonLinesLog(tmp_path / "nope" / "audit.jsonl").check()


@pytest.fixture
def s3_store() -> Iterator[Any]:
    from reconciler.aws.audit_store import S3AuditStore
    from reconciler.aws.session import Clients, Connection

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="audit")
        yield S3AuditStore(Clients(Connection(region="us-east-1")), "audit", "trail/")


def test_s3_records_are_new_objects_and_an_existing_key_is_never_overwritten(
    s3_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_store.check()
    record = build_record(CTX, Plan(), outcome=Outcome.NO_CHANGES)
    tokens = iter(["same", "same", "other"])
    monkeypatch.setattr("reconciler.aws.audit_store.secrets.token_hex", lambda n: next(tokens))
    first = s3_store.append(record)
    second = s3_store.append({**record, "outcome": "applied"})  # same time, same checksum
    assert first.endswith("-same.json") and second.endswith("-other.json")
    keys = s3_store.keys()
    assert len(keys) == 2
    assert json.loads(s3_store.get(first.split("/", 3)[3]))["outcome"] == "no-changes"
    # keys sort by time, checksum, token: "other" before "same"
    assert [json.loads(t)["outcome"] for t in s3_store.read()] == ["applied", "no-changes"]


def test_a_missing_audit_bucket_is_refused() -> None:
    from reconciler.aws.audit_store import S3AuditStore
    from reconciler.aws.session import Clients, Connection

    with mock_aws():
        store = S3AuditStore(Clients(Connection(region="us-east-1")), "missing", "trail/")
        with pytest.raises(ReconcilerError, match="audit bucket missing does not exist"):
            store.check()


def test_history_parses_sorts_filters_and_renders(applied: tuple[Plan, ApplyResult]) -> None:
    p, result = applied
    old = build_record(CTX, p, outcome=Outcome.FAILED, result=result)
    new = {
        **build_record(CTX, Plan(), outcome=Outcome.NO_CHANGES),
        "time": "2025-07-02T00:00:00+00:00",
    }
    parsed = parse_records([("b", to_line(new)), ("a", to_line(old)), ("c", "{oops"), ("d", "")])
    assert parsed.records == [old, new]
    assert parsed.problems[0].startswith("c: not a JSON record")
    assert touches(old, "bob") and not touches(new, "bob")
    text = render_history(parsed.records, output_format="text", collaborator="bob")
    lines = text.splitlines()
    assert lines[0].startswith("2025-07-01T02:00:00.123456+00:00  failed: ")
    assert "actor octocat, commit 0123456789ab" in lines[0]
    assert (
        "    FAILED + iam_user Bob: InternalError: injected failure in create_user, "
        "request id req-fake-1" in lines
    )
    assert "    + iam_user Alice" not in lines  # filtered to bob
    jsonl = render_history(parsed.records, output_format="json")
    assert [json.loads(line) for line in jsonl.splitlines()] == [old, new]
    assert render_history([], output_format="text") == "No audit records.\n"


def test_apply_prints_the_record_and_fails_when_it_cannot_be_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changes were made but the record could not be written: exit 1, record on stderr."""
    from click.testing import CliRunner

    from reconciler.cli import cli
    from tests.conftest import BASE_YAML

    config = tmp_path / "collaborators.yaml"
    config.write_text(BASE_YAML)

    def broken(self: JsonLinesLog, record: dict[str, Any]) -> str:
        raise ReconcilerError("disk full")

    monkeypatch.setattr(JsonLinesLog, "append", broken)
    args = ["apply", "--sandbox", "--auto-approve", "-c", str(config)]
    result = CliRunner().invoke(cli, [*args, "--audit-log", str(tmp_path / "a.jsonl")])
    assert result.exit_code == 1, result.output
    assert "error: the audit record could not be written to" in result.stderr
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["outcome"] == "applied" and len(record["applied"]) == 15
    folder = CliRunner().invoke(cli, [*args, "--audit-log", str(tmp_path)])
    assert folder.exit_code == 2 and "is a directory" in folder.output  # refused up front
    with pytest.raises(ReconcilerError, match="is a folder"):
        JsonLinesLog(tmp_path).check()


def test_a_targeted_apply_is_recorded_with_its_ids_and_the_file_digest(
    applied: tuple[Plan, ApplyResult],
) -> None:
    p, result = applied
    ctx = dataclasses.replace(CTX, config_sha256="d" * 64)
    targeted = dataclasses.replace(p, scope=("alice",))
    record = build_record(ctx, targeted, outcome=Outcome.APPLIED, result=result, converged=True)
    assert record["only"] == ["alice"] and record["config_sha256"] == "d" * 64
    assert build_record(ctx, p, outcome=Outcome.APPLIED)["only"] == []
    head = render_history([record], output_format="text").splitlines()[0]
    assert head.endswith("; targeted: --only alice")
