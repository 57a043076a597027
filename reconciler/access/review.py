"""The stage after planning: what a plan does to access (the state it would leave, the
per-collaborator access changes) and the security gate's verdict.

The pipeline is load -> read -> plan -> review -> render/apply: this module imports the planner's
output, the planner never imports this package."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import date

from reconciler.access.changes import access_changes_and_newcomers
from reconciler.access.checks import access_state, verify_state
from reconciler.access.gate import gate
from reconciler.access.key_checks import key_gaps
from reconciler.access.projected import project
from reconciler.model import Config, LiveState
from reconciler.plan import lifecycle, planner, targeting
from reconciler.plan.changes import Plan


def review(config: Config, live: LiveState, plan: Plan) -> Plan:
    if plan.is_empty:
        # nothing changes, so no access changes and nothing for the gate to refuse (verify
        # reports on the live state); this keeps a no-op plan at the API-call floor's speed.
        # With SSE-KMS the key policy is still checked: it is not the tool's to fix.
        if live.kms_key is None:
            return plan
        gaps = key_gaps(config, access_state(config, live))
        return replace(plan, warnings=tuple(sorted(set(plan.warnings) | set(gaps))))
    before = access_state(config, live)
    after = access_state(config, project(config, live, plan), before.prefixes, like=before)
    before.extend_prefixes(after.prefixes)
    changes, newcomers = access_changes_and_newcomers(config, before, after)
    refusals, doubts = gate(verify_state(config, after, source="plan"))
    return replace(
        plan,
        access_changes=changes,
        without_access_before=tuple(sorted(newcomers & set(plan.managed_collaborators))),
        refusals=refusals,
        warnings=tuple(sorted(set(plan.warnings) | set(doubts) | set(key_gaps(config, after)))),
    )


def reviewed_plan(
    config: Config,
    live: LiveState,
    *,
    today: date | None = None,
    adopt: bool = False,
    only: Collection[str] = (),
) -> Plan:
    """Plan, then review: the plan every command shows or applies. `only` (--only) cuts the plan
    down to those collaborators before the review, so the security gate judges the whole state
    the cut-down plan would leave."""
    changes = planner.plan(config, live, today=today, adopt=adopt)
    if only:
        known = {c.id for c in config.collaborators} | set(changes.managed_collaborators)
        targeting.check_targets(only, known, config.source)
        points = {c.id: config.access_point_arn(c.access_point) for c in config.collaborators}
        changes = targeting.target(changes, only, points)
    return review(lifecycle.granted(lifecycle.resolve(config, today)), live, changes)
