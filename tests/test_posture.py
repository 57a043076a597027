"""The posture scan's pure parts (posture/): the allow-list parsed from docs/compliance.md, the
choice of Prowler checks and of the findings that concern the tool. No Prowler, no AWS: the
scan itself runs in its own CI job (`posture` in .github/workflows/ci.yml)."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from posture import allowlist
from posture.allowlist import AllowListError, parse, parse_file
from posture.scan import (
    ACCOUNT,
    COMPLIANCE_DOC,
    Collaborator,
    EmulatorGaps,
    Scan,
    Share,
    hipaa_summary,
    install_emulator_extensions,
    logged_errors,
    prowler_command,
    prowler_hipaa,
    shares,
    summary,
    supported,
)
from posture.selection import (
    CHECKS,
    EMULATOR_GAPS,
    SCANNER_ERRORS,
    Finding,
    Kind,
    Managed,
    hipaa_requirements,
    judge,
    parse_ocsf,
    silent,
    trail_uids,
)

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "| Prowler check | applies to | what it needs | why the tool does not do it |\n"
    "| --- | --- | --- | --- |\n"
)


def table(*rows: str) -> str:
    return f"# Title\n\n{allowlist.MARKER}\n{HEADER}" + "".join(f"{r}\n" for r in rows)


# --- the allow-list in docs/compliance.md ----------------------------------------------------


def test_every_allow_listed_check_is_selected_and_justified() -> None:
    entries = parse_file(COMPLIANCE_DOC)
    assert entries, "the allow-list is empty"
    for entry in entries:
        assert entry.check in CHECKS, f"{entry.check}: not a check the scan runs (a typo?)"
        assert len(entry.needs) > 20 and len(entry.reason) > 40, entry.check


def test_the_documented_reasons_are_there() -> None:
    """The issue names what must be justified: MFA delete, Object Lock, replication, a
    hardware MFA per person, and the false positive on the delegation statement."""
    entries = {e.check: e for e in parse_file(COMPLIANCE_DOC)}
    assert "root user" in entries["s3_bucket_no_mfa_delete"].needs
    assert "`delete`" in entries["s3_bucket_object_lock"].reason
    assert "s3_bucket_cross_region_replication" in entries
    assert "person" in entries["iam_user_hardware_mfa_enabled"].reason
    cross = entries["s3_bucket_cross_account_access"].reason
    assert "false positive" in cross and "s3:DataAccessPointArn" in cross


def test_a_setting_scoped_entry_covers_only_resources_with_that_setting() -> None:
    [entry] = parse(table("| `s3_bucket_kms_encryption` | `bucket.encryption: AES256` | a | b |"))
    assert entry.setting == ("bucket.encryption", "AES256")
    assert entry.covers("s3_bucket_kms_encryption", {"bucket.encryption": "AES256"})
    assert not entry.covers("s3_bucket_kms_encryption", {"bucket.encryption": "aws:kms"})
    assert not entry.covers("s3_bucket_object_lock", {"bucket.encryption": "AES256"})


def test_an_every_share_entry_covers_any_resource() -> None:
    [entry] = parse(table("| `s3_bucket_object_lock` | every share | a | b |"))
    assert entry.setting is None and entry.covers("s3_bucket_object_lock", {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# no marker\n", "no line '<!-- posture:allow-list -->'"),
        (table(), ":3: the allow-list table has no rows"),
        (table("| `s3_bucket_object_lock` | every share | needs |  |"), "needs both"),
        (table("| `s3_bucket_object_lock` | every share |  | why |"), "needs both"),
        (table("| s3_bucket_object_lock | every share | a | b |"), "check id in backticks"),
        (table("| `s3_bucket_object_lock` | some shares | a | b |"), "'applies to' must be"),
        (table("| `s3_bucket_object_lock` | every share | a |"), "expected 4 columns"),
        (
            table(
                "| `s3_bucket_object_lock` | every share | a | b |",
                "| `s3_bucket_object_lock` | every share | c | d |",
            ),
            "doc.md:7: s3_bucket_object_lock is listed twice (also line 6)",
        ),
    ],
)
def test_a_malformed_allow_list_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(AllowListError) as error:
        parse(text, "doc.md")
    assert message in str(error.value)
    assert str(error.value).startswith("doc.md")


# --- the checks and the findings that concern the tool ---------------------------------------


def test_the_selection_covers_the_issue_checks_and_no_account_wide_ones() -> None:
    for check in (
        "s3_bucket_object_versioning",
        "s3_bucket_server_access_logging_enabled",
        "s3_bucket_lifecycle_enabled",
        "kms_cmk_rotation_enabled",
        "cloudtrail_s3_dataevents_read_enabled",
        "cloudtrail_s3_dataevents_write_enabled",
        "s3_access_point_public_access_block",
        "s3_bucket_secure_transport_policy",
        "iam_user_mfa_enabled_console_access",
    ):
        assert check in CHECKS, check
    for account_wide in ("s3_account_level_public_access_blocks", "iam_root_mfa_enabled"):
        assert account_wide not in CHECKS
    assert set(EMULATOR_GAPS) <= set(CHECKS)


def test_prowler_runs_exactly_the_selected_checks() -> None:
    """`--compliance hipaa_aws` cannot be combined with `--service`: the scan names checks."""
    command = prowler_command("prowler", sorted(CHECKS), Path("/out"))
    start = command.index("--checks") + 1
    assert command[start : start + len(CHECKS)] == sorted(CHECKS)
    assert "--service" not in command and "--compliance" not in command
    assert command[command.index("--region") + 1] == "us-east-1"
    assert "--scan-unused-services" in command  # the boundary is attached to no one


BUCKET = Managed("arn:aws:s3:::share", Kind.BUCKET, "kms", {"bucket.encryption": "aws:kms"})
USER = Managed(f"arn:aws:iam::{ACCOUNT}:user/p/Alice", Kind.IAM_USER, "kms", {"console": "true"})
AP = Managed(f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/a", Kind.ACCESS_POINT, "kms", {})


def finding(check: str, resource: str, status: str = "FAIL") -> Finding:
    return Finding(check, status, resource, "detail")


def test_findings_on_other_resources_or_checks_are_dropped() -> None:
    findings = [
        finding("s3_bucket_object_lock", "arn:aws:s3:::posture-access-logs"),  # the log bucket
        finding("s3_account_level_public_access_blocks", "arn:aws:s3:::share"),  # not selected
        finding("s3_access_point_public_access_block", "arn:aws:s3:::share"),  # wrong kind
        finding("s3_bucket_object_lock", "arn:aws:s3:::share-2"),  # a prefix is not a match
    ]
    assert judge(findings, [BUCKET, USER, AP], []) == []


def test_an_inline_policy_finding_belongs_to_its_user() -> None:
    uid = f"{USER.uid}:policy/reconciler-access-point-access"
    [verdict] = judge([finding("iam_inline_policy_no_full_access_to_kms", uid, "PASS")], [USER], [])
    assert verdict.managed is USER and verdict.outcome == "PASS"


def test_a_fail_is_allowed_only_where_the_allow_list_applies() -> None:
    allow = parse(
        table(
            "| `iam_policy_attached_only_to_group_or_roles` | `console: true` | a | b |",
            "| `s3_bucket_kms_encryption` | `bucket.encryption: AES256` | a | b |",
        )
    )
    cli_user = Managed(f"arn:aws:iam::{ACCOUNT}:user/p/Bob", Kind.IAM_USER, "kms", {})
    verdicts = judge(
        [
            finding("iam_policy_attached_only_to_group_or_roles", USER.uid),
            finding("iam_policy_attached_only_to_group_or_roles", cli_user.uid),
            finding("s3_bucket_kms_encryption", BUCKET.uid),
        ],
        [BUCKET, USER, cli_user],
        allow,
    )
    assert [v.outcome for v in verdicts] == ["ALLOWED", "FAIL", "FAIL"]


def test_a_trail_finding_counts_for_every_share_that_names_the_trail() -> None:
    uids = trail_uids("us-east-1", ACCOUNT, "org-trail")
    managed = [Managed(uid, Kind.TRAIL, share) for share in ("a", "b") for uid in uids]
    no_trail = finding("cloudtrail_s3_dataevents_read_enabled", uids[1])  # Prowler's template
    assert sorted(v.managed.share for v in judge([no_trail], managed, [])) == ["a", "b"]
    # Prowler reports a PASS per S3 data-event selector: the same finding twice is one line
    one_per_share = judge([no_trail, no_trail], managed, [])
    assert sorted(v.managed.share for v in one_per_share) == ["a", "b"]


def test_a_check_that_reports_nothing_on_a_share_is_named() -> None:
    """Without the S3 Control host fix, the access point check finds no access point and
    says nothing: that must not pass as a clean result."""
    verdicts = judge([finding("s3_bucket_object_lock", BUCKET.uid)], [BUCKET, AP], [])
    quiet = silent(verdicts, [BUCKET, AP])
    assert ("s3_access_point_public_access_block", "kms") in quiet
    assert ("s3_bucket_object_lock", "kms") not in quiet
    assert not any(check in EMULATOR_GAPS for check, _ in silent([], [USER]))


def test_prowler_ocsf_output_is_read() -> None:
    item = {
        "metadata": {"event_code": "s3_bucket_object_versioning"},
        "status_code": "FAIL",
        "status_detail": "S3 Bucket share has versioning disabled.",
        "resources": [{"uid": "arn:aws:s3:::share", "region": "us-east-1"}],
    }
    [parsed] = parse_ocsf(json.dumps([item]))
    assert parsed == Finding(
        "s3_bucket_object_versioning",
        "FAIL",
        "arn:aws:s3:::share",
        "S3 Bucket share has versioning disabled.",
    )


def test_prowler_errors_are_read_from_its_log(tmp_path: Path) -> None:
    log = tmp_path / "prowler.log"
    log.write_text(
        '{"timestamp": "t", "filename": "iam_service.py:1", "level": "ERROR", "module": '
        '"iam_service", "message": "us-east-1 -- ResponseParserError: invalid XML:\n'
        "b'<html>...'\"}\n"
        '{"timestamp": "t", "filename": "s3.py:2", "level": "WARNING", "module": "s3", '
        '"message": "ignored"}\n'
    )
    assert logged_errors(log) == ["iam_service: us-east-1 -- ResponseParserError: invalid XML:"]


# --- the shares the scan applies ------------------------------------------------------------


def test_the_shares_name_the_resources_the_tool_creates() -> None:
    kms, s3 = shares(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k")
    assert kms.encryption["encryption"] == "aws:kms" and s3.encryption["encryption"] == "AES256"
    uids = {m.uid: m for m in kms.managed("arn:aws:kms:us-east-1:123456789012:key/k")}
    assert f"arn:aws:iam::{ACCOUNT}:user/posture-kms/Alice" in uids
    alice_ap = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/kms-alice-access-point"
    assert uids[alice_ap].settings["console"] == "true"
    assert uids[f"arn:aws:s3:::{kms.bucket}"].settings["bucket.encryption"] == "aws:kms"
    assert {m.kind for m in uids.values()} == set(Kind)
    assert not any(m.kind is Kind.KMS_KEY for m in s3.managed(None))
    kinds = {c.principal is not None for c in kms.collaborators}
    assert kinds == {True, False} and any(c.console for c in kms.collaborators)


def test_baseline_settings_missing_from_the_schema_are_reported() -> None:
    share = Share(
        label="x",
        bucket="b",
        iam_path="/x/",
        access_point_prefix="x-",
        encryption={"encryption": "AES256"},
        collaborators=(Collaborator("a", ("read",), "A"),),
        baseline={"presigned_url_max_age_seconds": 300, "no_such_setting": True},
    )
    kept, missing = supported(share)
    assert kept.baseline == {"presigned_url_max_age_seconds": 300}
    assert missing == ["bucket.no_such_setting"]


def test_the_hook_sends_s3_control_requests_to_the_configured_host() -> None:
    path = ROOT / "posture" / "prowler_hook" / "sitecustomize.py"
    spec = importlib.util.spec_from_file_location("posture_sitecustomize", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # inactive: POSTURE_STRIP_S3CONTROL_ACCOUNT is not set
    request = SimpleNamespace(url="http://123456789012.127.0.0.1:5000/v20180820/accesspoint")
    module.strip_account_host_prefix(request)
    assert request.url == "http://127.0.0.1:5000/v20180820/accesspoint"


def test_ci_runs_the_scan_with_prowler_in_its_own_environment() -> None:
    import yaml

    job = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())["jobs"]["posture"]
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert any(
        ".venv-prowler/bin/pip install -q -r posture/prowler-requirements.txt" in r for r in runs
    )
    assert runs[-1] == ".venv/bin/python -m posture.scan --prowler .venv-prowler/bin/prowler"
    pins = (ROOT / "posture" / "prowler-requirements.txt").read_text().splitlines()
    assert any(line.startswith("prowler==5.") for line in pins)
    assert "prowler" not in (ROOT / "pyproject.toml").read_text().lower()


def test_prowlers_hipaa_framework_is_read_per_check() -> None:
    framework = {
        "Framework": "HIPAA",
        "Requirements": [
            {"Id": "164_312_b", "Name": "164.312(b) Audit controls", "Checks": ["a", "b"]},
            {"Id": "164_312_c_1", "Name": "164.312(c)(1) Integrity", "Checks": ["a"]},
            {"Id": "164_312_e_1", "Name": "164.312(e)(1) Transmission", "Checks": []},
        ],
    }
    assert hipaa_requirements(json.dumps(framework)) == {
        "a": ("164.312(b)", "164.312(c)(1)"),
        "b": ("164.312(b)",),
    }


def test_a_check_voided_by_an_error_inside_prowler_is_an_error_not_a_pass() -> None:
    """Prowler 5.46 raises inside its privilege-escalation check for every policy and then
    reports PASS: that PASS must not count."""
    check = "iam_inline_policy_allows_privilege_escalation"
    assert check in SCANNER_ERRORS
    uid = f"{USER.uid}:policy/reconciler-access-point-access"
    logged = [f"privilege_escalation: {SCANNER_ERRORS[check]}: InvalidActionPatternError"]
    [voided] = judge([finding(check, uid, "PASS")], [USER], [], logged)
    assert voided.outcome == "ERROR"
    [fine] = judge([finding(check, uid, "PASS")], [USER], [], ["kms_service: KeyError"])
    assert fine.outcome == "PASS"


def test_actions_moto_does_not_implement_are_collected() -> None:
    gaps = EmulatorGaps()
    message = (
        "Error on request:\nTraceback (most recent call last):\n  ...\nNotImplementedError: "
        "The generate_service_last_accessed_details action has not been implemented"
    )
    gaps.handle(logging.LogRecord("werkzeug", logging.ERROR, "x", 1, message, None, None))
    assert gaps.actions == {"generate_service_last_accessed_details"}


def test_prowlers_hipaa_framework_is_found_in_its_virtual_environment(tmp_path: Path) -> None:
    folder = tmp_path / "lib/python3.11/site-packages/prowler/compliance/aws"
    folder.mkdir(parents=True)
    requirement = {"Name": "164.312(b) Audit controls", "Checks": ["c"]}
    (folder / "hipaa_aws.json").write_text(json.dumps({"Requirements": [requirement]}))
    (tmp_path / "bin").mkdir()
    assert prowler_hipaa(str(tmp_path / "bin" / "prowler")) == {"c": ("164.312(b)",)}
    assert prowler_hipaa(str(tmp_path / "elsewhere" / "bin" / "prowler")) == {}


def test_the_scans_moto_gets_every_emulator_extension() -> None:
    assert "iam_boundaries" in install_emulator_extensions()


def test_the_scan_is_ok_only_without_fail_missing_setting_or_silent_check() -> None:
    allow = parse(table("| `s3_bucket_object_lock` | every share | a | b |"))
    scan = Scan([], [], [], 1.0, ["prowler"])
    allowed = judge([finding("s3_bucket_object_lock", BUCKET.uid)], [BUCKET], allow)
    failed = judge([finding("s3_bucket_object_versioning", BUCKET.uid)], [BUCKET], allow)
    text, ok = summary(allowed, scan, [], [], 2)
    assert ok and text.endswith("posture: OK") and "1 ALLOWED" in text
    text, ok = summary(failed, scan, [], [], 2)
    assert not ok and f"s3_bucket_object_versioning  {BUCKET.uid}" in text
    assert not summary(allowed, scan, [], ["bucket.versioning"], 2)[1]
    assert not summary(allowed, scan, [("s3_bucket_object_lock", "kms")], [], 2)[1]


def test_the_hipaa_summary_names_mapped_checks_that_do_not_pass() -> None:
    allow = parse(table("| `s3_bucket_object_lock` | every share | a | b |"))
    verdicts = judge(
        [
            finding("s3_bucket_object_lock", BUCKET.uid),
            finding("s3_bucket_object_versioning", BUCKET.uid, "PASS"),
        ],
        [BUCKET],
        allow,
    )
    hipaa = {"s3_bucket_object_lock": ("164.312(c)(1)",), "s3_bucket_object_versioning": ()}
    text = hipaa_summary(verdicts, hipaa)
    assert "reported on the tool's resources: 2; passing on every share: 1" in text
    assert "not passing: s3_bucket_object_lock" in text
    assert "allow-listed, and in the framework: s3_bucket_object_lock" in text
    assert "not found" in hipaa_summary(verdicts, {})


def test_the_documented_check_list_is_the_scans() -> None:
    text = COMPLIANCE_DOC.read_text()
    section = text[text.index("### The checks") : text.index("## Results")]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    documented = {name for row in rows for name in re.findall(r"`([a-z0-9_]+)`", row)}
    documented -= {"CHECKS", "data_events_trail"}
    assert documented == set(CHECKS)
