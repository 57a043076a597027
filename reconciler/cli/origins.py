"""Telling drift from the edit under review: `plan --base-config FILE`, or, without it, the
audit trail (the file has not changed since the last completed apply: every change is drift).
Labels are display only (reconciler.origin)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import click

from reconciler import lifecycle, origin, planner
from reconciler.audit import AuditSink, last_completed_apply, unchanged_since
from reconciler.cli.auditing import config_digest
from reconciler.errors import ReconcilerError
from reconciler.model import Config, LiveState
from reconciler.plan import Plan

base_config_option = click.option(
    "--base-config",
    envvar="RECONCILE_BASE_CONFIG",
    type=click.Path(exists=True, dir_okay=False),
    help="The same file as it is on the base branch: each change is labelled `edit` (this "
    "file asks for it) or `drift` (the base file would make the same change: AWS was changed "
    "outside the tool). The plan workflow passes it. Also RECONCILE_BASE_CONFIG.",
)

only_option = click.option(
    "--only",
    "only",
    multiple=True,
    metavar="ID",
    help="Plan (or apply) only this collaborator, plus the bucket-level changes it needs; "
    "repeatable. Nothing else is changed; safety rules still apply.",
)


@dataclass(frozen=True)
class Labels:
    """How to label a plan's changes: against a base file, or all drift because the audit
    trail shows the file unchanged since the last apply (`basis` says so)."""

    base: Config | None = None
    basis: str = ""

    def label(self, plan: Plan, config: Config, live: LiveState, today: date) -> Plan:
        if plan.is_empty:
            return plan
        scheduled = lifecycle.starting_suspensions(config, live, today)
        if self.base is not None:
            base_plan = planner.plan(self.base, live, today=today)
            return origin.label(plan, base_plan, scheduled=scheduled)
        if self.basis:
            return origin.all_drift(plan, basis=self.basis, scheduled=scheduled)
        return plan


def trail_labels(sinks: Sequence[AuditSink], config: Config) -> Labels:
    """All-drift labels when the newest completed apply in the audit trail used this very file;
    no labels otherwise, or when the trail cannot be read (a warning says why)."""
    records: list[dict[str, Any]] = []
    for sink in sinks:
        try:
            record = last_completed_apply(sink.newest_first())
        except ReconcilerError as err:
            click.echo(f"warning: drift not told apart: {err}", err=True)
            return Labels()
        if record is not None:
            records.append(record)
    newest = max(records, key=lambda r: str(r.get("time")), default=None)
    return Labels(basis=unchanged_since(newest, config_digest(config), config.source))
