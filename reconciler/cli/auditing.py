"""The audit trail as apply uses it: options, where records go, and one record per apply,
written under the apply lock whatever the apply's outcome."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import click

from reconciler.apply.audit import (
    AuditSink,
    ChangeKey,
    Context,
    build_record,
    change_key,
    file_digest,
    github_context,
    outcome_of,
    to_line,
)
from reconciler.apply.executor import ApplyResult, Failure, Outcome, Progress
from reconciler.errors import PlanError, ReconcilerError, RefusedError
from reconciler.model import Config
from reconciler.plan.changes import Change, Plan


@dataclass(frozen=True)
class AuditOptions:
    log: str | None = None
    bucket: str | None = None
    prefix: str | None = None


_WRITING_HELP = (
    "Append one JSON record per apply to this JSON Lines file (default: audit.log).",
    "Store one new S3 object per apply in this existing bucket (default: audit.bucket).",
)
_READING_HELP = (
    "Read the audit records from this JSON Lines file, which must exist (default: audit.log).",
    "Read the audit records stored in this bucket (default: audit.bucket).",
)


def audit_options(func: Any, *, reading: bool = False) -> Any:
    log_help, bucket_help = _READING_HELP if reading else _WRITING_HELP
    options = [
        click.option(
            "--audit-log",
            envvar="RECONCILE_AUDIT_LOG",
            type=click.Path(dir_okay=False, exists=reading),
            help=log_help,
        ),
        click.option("--audit-bucket", envvar="RECONCILE_AUDIT_BUCKET", help=bucket_help),
        click.option(
            "--audit-prefix",
            envvar="RECONCILE_AUDIT_PREFIX",
            help="Key prefix of the audit objects (default: audit.prefix, reconciler-audit/).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def audit_sinks(clients: Any, config: Config, opts: AuditOptions) -> list[AuditSink]:
    """Flags win over the YAML `audit:` block; a relative audit.log is read from the YAML's
    folder. No bucket and no log: no audit trail."""
    sinks: list[AuditSink] = []
    log = opts.log or _from_config_dir(config, config.audit.log)
    if log:
        from reconciler.apply.audit_log import JsonLinesLog

        sinks.append(JsonLinesLog(log))
    bucket = opts.bucket or config.audit.bucket
    if bucket:
        from reconciler.aws.audit_store import S3AuditStore

        prefix = opts.prefix or config.audit.prefix
        sinks.append(
            S3AuditStore(clients, bucket, prefix if prefix.endswith("/") else prefix + "/")
        )
    return sinks


def _from_config_dir(config: Config, path: str | None) -> str | None:
    if not path:
        return None
    return str(Path(config.source).parent / path)


@dataclass
class AuditRun:
    """What one apply did, filled in as it goes; written as a record when the apply ends."""

    sinks: list[AuditSink]
    context: Context | None = None
    plan: Plan | None = None
    result: ApplyResult | None = None
    after: Plan | None = None
    request_log: Any = None
    request_ids: dict[ChangeKey, list[str]] = field(default_factory=dict)

    def track(self, progress: Progress) -> Progress:
        """Wrap apply's progress callback: each change gets the request ids of its calls."""

        def report(change: Change, outcome: Outcome, failure: Failure | None) -> None:
            if self.request_log is not None:
                self.request_ids[change_key(change)] = self.request_log.ids(change_key(change))
            progress(change, outcome, failure)

        return report

    def around(self, change: Change) -> AbstractContextManager[None]:
        """Wraps each change's calls (in its worker thread) so their request ids are its own."""
        if self.request_log is None:
            return nullcontext()
        return cast(AbstractContextManager[None], self.request_log.collecting(change_key(change)))

    def record(self, error: BaseException | None) -> dict[str, Any] | None:
        if self.context is None or self.plan is None:
            return None
        refused = isinstance(error, RefusedError | PlanError)
        return build_record(
            self.context,
            self.plan,
            outcome=outcome_of(self.result, error, refused),
            result=self.result,
            request_ids=self.request_ids,
            converged=None if self.after is None else self.after.is_empty,
            reason=str(error) if isinstance(error, ReconcilerError) else None,
        )


@contextmanager
def audited(
    clients: Any, config: Config, opts: AuditOptions, *, today: date, adopt: bool
) -> Iterator[AuditRun]:
    """Checks the audit location before anything changes, then records the apply on the way
    out (success, failure, refusal or interruption), still under the apply lock."""
    run = AuditRun(audit_sinks(clients, config, opts))
    if run.sinks:
        for sink in run.sinks:
            sink.check()
        run.context = _context(clients, config, today, adopt)
        from reconciler.aws.request_log import RequestLog

        run.request_log = RequestLog()
        run.request_log.attach(clients)
    try:
        yield run
    except BaseException as err:
        error = None if isinstance(err, SystemExit) else err
        _write(run, run.record(error), failing=True)
        raise
    _write(run, run.record(None), failing=False)


def _context(clients: Any, config: Config, today: date, adopt: bool) -> Context:
    from reconciler.aws.reader import AwsReader

    return Context(
        time=datetime.now(UTC),
        caller_arn=AwsReader(clients).caller_arn(),
        account_id=config.account_id,
        bucket=config.bucket.name,
        config=config.source,
        today=today,
        adopt=adopt,
        github=github_context(os.environ),
        config_sha256=config_digest(config),
    )


def config_digest(config: Config) -> str:
    """SHA-256 of the file the config was loaded from ("" when it cannot be read again)."""
    try:
        return file_digest(Path(config.source).read_bytes())
    except OSError:
        return ""


def _write(run: AuditRun, record: dict[str, Any] | None, *, failing: bool) -> None:
    if record is None:
        return
    lost = []
    for sink in run.sinks:
        try:
            where = sink.append(record)
        except ReconcilerError as err:
            lost.append(f"{sink.location}: {err}")
            continue
        click.echo(f"audit: recorded in {where}", err=True)
    if not lost:
        return
    message = (
        "the audit record could not be written to "
        + "; ".join(lost)
        + ". The record:\n"
        + to_line(record)
    )
    if failing or run.result is None:
        click.echo(f"warning: {message}", err=True)
        return
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
