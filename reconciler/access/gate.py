"""The security gate: `plan` and `apply` refuse (exit 3, no override) a plan whose resulting state
would let a collaborator reach outside its own folder, allow anonymous or public access, or drop
the TLS-only statement, the presigned-URL age limit, the Signature Version 4 and TLS 1.2 minimums,
the upload-encryption statements, Block Public Access or default encryption.
What cannot be proven either way is reported as a warning, never silently passed."""

from __future__ import annotations

from reconciler.access.checks import BucketCheckName, Check, Finding, Status, VerifyReport
from reconciler.errors import RefusedError
from reconciler.plan.changes import Plan

GATED_BUCKET_CHECKS = {
    BucketCheckName.TLS_ONLY,
    BucketCheckName.BLOCK_PUBLIC_ACCESS,
    BucketCheckName.DEFAULT_ENCRYPTION,
    BucketCheckName.PRESIGNED_URL_MAX_AGE,
    BucketCheckName.SIGNATURE_V4_ONLY,
    BucketCheckName.TLS_1_2,
    BucketCheckName.UPLOAD_ENCRYPTION,
}
REACH_CHECKS = {Check.DIRECT.value, Check.OTHER_PREFIX.value, Check.OTHER_AP.value}
PUBLIC_KINDS = {"anonymous", "outsider"}


def gated(finding: Finding) -> bool:
    if finding.principal_kind in PUBLIC_KINDS:
        return True
    return (
        finding.principal_kind == "collaborator"
        and finding.outside_own
        and finding.check in REACH_CHECKS
    )


def gate(report: VerifyReport) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(refusals, doubts) for the state a plan would leave."""
    refusals = [
        f"{check.name}: {check.detail}"
        for check in report.bucket_checks
        if check.name in GATED_BUCKET_CHECKS and check.status is Status.FAIL
    ]
    doubts: dict[tuple[str | None, str], list[str]] = {}
    for finding in report.findings:
        if not gated(finding):
            continue
        if finding.status is Status.FAIL:
            refusals.append(finding.message)
        elif finding.status is Status.UNKNOWN:
            doubts.setdefault((finding.collaborator, finding.check), []).append(finding.message)
    warnings = [
        f"security gate cannot prove isolation: {messages[0]}"
        + (f" (and {len(messages) - 1} more like it)" if len(messages) > 1 else "")
        for messages in doubts.values()
    ]
    return tuple(dict.fromkeys(refusals)), tuple(warnings)


def refuse_unsafe(plan: Plan, *, doing: str = "nothing was applied") -> None:
    """Raise RefusedError (exit 3) when the security gate refuses the plan. No override."""
    if not plan.refusals:
        return
    count = len(plan.refusals)
    reasons = "\n".join(f"  x {reason}" for reason in plan.refusals)
    raise RefusedError(
        f"the security gate refuses this plan ({count} reason{'s' if count != 1 else ''}); "
        f"{doing}:\n{reasons}\nfix collaborators.yaml or the statement named; there is no override"
    )
