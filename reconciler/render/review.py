"""Wording shared by the plan renderers for reviewers: the drift section (changes made outside
the tool, which apply will revert) and the note on a targeted run (--only). Pure."""

from __future__ import annotations

from reconciler.plan.changes import Plan

DRIFT_TITLE = "Changed outside the tool: will be reverted (drift)"
DRIFT_EXPLAINED = (
    "collaborators.yaml does not ask for these changes: live AWS moved away from what was "
    "applied (by hand, or by another tool), and apply puts it back."
)


def drift_intro(plan: Plan) -> str:
    """The sentence under the drift heading; says how drift was told apart when it is known."""
    if plan.origin_basis:
        return f"{DRIFT_EXPLAINED} {plan.origin_basis}"
    return DRIFT_EXPLAINED


def scope_note(plan: Plan) -> str:
    """`Targeted run (--only alice): ...`, or "" when the whole file was planned."""
    if not plan.scope:
        return ""
    left = plan.not_planned
    rest = (
        f"{left} other change{'s' if left != 1 else ''} (other collaborators, bucket settings) "
        f"{'are' if left != 1 else 'is'} left out"
        if left
        else "nothing else would change"
    )
    return (
        f"Targeted run (--only {', '.join(plan.scope)}): only these collaborators and the "
        f"bucket-level changes they need were planned; the rest was not planned: {rest}."
    )
