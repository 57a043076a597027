"""Telling drift from the edit under review: `plan --base-config FILE`, or, without it, the
audit trail (the file has not changed since the last completed apply: every change is drift).
Labels are display only (reconciler.plan.origin)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click

from reconciler.apply.audit import AuditSink, last_completed_apply, unchanged_since
from reconciler.cli.auditing import config_digest
from reconciler.config import load_config
from reconciler.errors import ReconcilerError
from reconciler.model import Config, LiveState
from reconciler.plan import lifecycle, origin, planner
from reconciler.plan.changes import Plan

base_config_option = click.option(
    "--base-config",
    envvar="RECONCILE_BASE_CONFIG",
    type=click.Path(dir_okay=False),
    help="The same file as it is on the base branch: each change is labelled `edit` (this "
    "file asks for it) or `drift` (the base file would make the same change: AWS was changed "
    "outside the tool). Missing (a new file): every change is an edit. The plan workflow "
    "passes it. Also RECONCILE_BASE_CONFIG.",
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
    no_base: bool = False  # the base branch has no such file: everything is the edit

    def label(self, plan: Plan, config: Config, live: LiveState, today: date) -> Plan:
        if plan.is_empty:
            return plan
        scheduled = lifecycle.starting_suspensions(config, live, today)
        if self.no_base:
            return origin.label(plan, Plan(), scheduled=scheduled)
        if self.base is not None:
            base_plan = planner.plan(self.base, live, today=today)
            return origin.label(plan, base_plan, scheduled=scheduled)
        if self.basis:
            return origin.all_drift(plan, basis=self.basis, scheduled=scheduled)
        return plan


def base_labels(path: str) -> Labels:
    """Labels against the base branch's file. A base file that does not exist means the file is
    new: all edit. One that does not load (e.g. written for an older version of the tool) only
    costs the labels: a warning says so and the plan goes on."""
    if not Path(path).exists():
        click.echo(
            f"note: --base-config {path} does not exist: taken as a file new on the base branch, "
            "every change is labelled edit (check the path if the file is not new)",
            err=True,
        )
        return Labels(no_base=True)
    try:
        return Labels(base=load_config(path))
    except ReconcilerError as err:
        first = str(err).splitlines()[0]
        click.echo(f"warning: --base-config {path}: drift not told apart: {first}", err=True)
        return Labels()


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
