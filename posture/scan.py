"""Proof by an independent scanner: Prowler 5.x against a moto server after `reconcile apply`.

    .venv/bin/python -m posture.scan --prowler .venv-prowler/bin/prowler

Prowler has heavy dependencies that conflict with the project's, so it lives in a virtual
environment of its own:

    python3 -m venv .venv-prowler
    .venv-prowler/bin/pip install -r posture/prowler-requirements.txt

`--prowler` names its executable (default: `$PROWLER`, then .venv-prowler/bin/prowler).

In order, on a moto server started here on 127.0.0.1 (with the project's moto extensions,
reconciler/aws/emulator/):

1. the prerequisites a real account has before adopting the tool: a KMS key, the
   collaborators' permissions boundary (from `reconcile iam-policy --boundary`), a log bucket,
   a CloudTrail trail and its bucket, a role of the account that pipelines assume, and a bucket
   for the apply lock;
2. `reconcile apply` of two realistic shares (SSE-KMS with `manage_key_policy`, and SSE-S3),
   each with console and CLI users, a partner in another account (and, for SSE-KMS, a role of
   the account),
   and every setting of the bucket baseline on; then `reconcile plan --detailed-exitcode`
   must find nothing left to do and `reconcile verify` must prove isolation;
3. Prowler, with the checks that concern what the tool manages (posture/selection.py), its
   S3 Control requests sent to the moto server (posture/prowler_hook/sitecustomize.py);
4. the findings on the tool's resources, per share: PASS, FAIL, ALLOWED (a FAIL on the
   allow-list of docs/compliance.md, with its reason), MANUAL. Errors Prowler logged (an API
   moto lacks) are listed apart: an emulator gap, not a finding.

Exit status: 0 when no FAIL is outside the allow-list, every baseline setting is in this
version's schema and every selected check reported on every share; 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import pkgutil
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

from posture.allowlist import Allowed, parse_file
from posture.selection import (
    CHECKS,
    EMULATOR_GAPS,
    SCANNER_ERRORS,
    Finding,
    Kind,
    Managed,
    Verdict,
    hipaa_requirements,
    judge,
    parse_ocsf,
    silent,
    trail_uids,
)

ROOT = Path(__file__).resolve().parents[1]
COMPLIANCE_DOC = ROOT / "docs" / "compliance.md"
HOOK = Path(__file__).resolve().parent / "prowler_hook"
ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTNER = "arn:aws:iam::111122223333:role/Uploader"
PIPELINE_ROLE = "analytics-pipeline"
LOCK_BUCKET = f"posture-locks-{ACCOUNT}"
LOG_BUCKET = f"posture-access-logs-{ACCOUNT}"
TRAIL_BUCKET = f"posture-cloudtrail-{ACCOUNT}"
TRAIL = "posture-data-events"
PROWLER_TIMEOUT = 1800


@dataclass(frozen=True)
class Collaborator:
    id: str
    access: tuple[str, ...]
    iam_user: str | None = None
    principal: str | None = None
    console: bool = False

    def yaml(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.id}
        if self.iam_user:
            entry["iam_user"] = self.iam_user
        if self.principal:
            entry["principal"] = self.principal
        entry["access"] = list(self.access)
        if self.console:
            entry["console"] = True
        return entry


@dataclass(frozen=True)
class Share:
    label: str
    bucket: str
    iam_path: str
    access_point_prefix: str
    encryption: Mapping[str, Any]
    collaborators: tuple[Collaborator, ...]
    baseline: Mapping[str, Any] = field(default_factory=dict)

    @property
    def boundary_name(self) -> str:
        return f"posture-{self.label}-boundary"

    @property
    def boundary_arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:policy/{self.boundary_name}"

    def bucket_settings(self) -> dict[str, Any]:
        return {"name": self.bucket, **self.encryption, **self.baseline}

    def yaml(self) -> str:
        document = {
            "version": 1,
            "account_id": ACCOUNT,
            "region": REGION,
            "bucket": self.bucket_settings(),
            "iam_path": self.iam_path,
            "iam_permissions_boundary": self.boundary_arn,
            "access_point_prefix": self.access_point_prefix,
            "collaborators": [c.yaml() for c in self.collaborators],
        }
        return yaml.safe_dump(document, sort_keys=False)

    def settings(self) -> dict[str, str]:
        """The share's bucket settings as the allow-list's 'applies to' names them."""
        return {f"bucket.{k}": _text(v) for k, v in self.bucket_settings().items()}

    def managed(self, key_arn: str | None) -> list[Managed]:
        share = self.settings()
        resources = [
            Managed(f"arn:aws:s3:::{self.bucket}", Kind.BUCKET, self.label, share),
            Managed(self.boundary_arn, Kind.BOUNDARY, self.label, share),
        ]
        for c in self.collaborators:
            mine = {**share, "console": _text(c.console)}
            name = f"{self.access_point_prefix}{c.id}-access-point"
            arn = f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/{name}"
            resources.append(Managed(arn, Kind.ACCESS_POINT, self.label, mine))
            if c.iam_user:
                user = f"arn:aws:iam::{ACCOUNT}:user{self.iam_path}{c.iam_user}"
                resources.append(Managed(user, Kind.IAM_USER, self.label, mine))
        if key_arn:
            resources.append(Managed(key_arn, Kind.KMS_KEY, self.label, share))
        if self.baseline.get("data_events_trail"):
            for uid in trail_uids(REGION, ACCOUNT, str(self.baseline["data_events_trail"])):
                resources.append(Managed(uid, Kind.TRAIL, self.label, share))
        return resources


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def baseline(label: str) -> dict[str, Any]:
    """Every setting of the bucket baseline (issue 21), on."""
    return {
        "versioning": True,
        "lifecycle": {
            "abort_incomplete_multipart_upload_days": 7,
            "noncurrent_version_expiration_days": 365,
        },
        "access_logs": {"bucket": LOG_BUCKET, "prefix": f"{label}/", "manage_policy": True},
        "data_events_trail": TRAIL,
    }


def shares(key_arn: str) -> tuple[Share, Share]:
    pipeline = f"arn:aws:iam::{ACCOUNT}:role/{PIPELINE_ROLE}"
    kms = Share(
        label="sse-kms",
        bucket=f"posture-kms-share-{ACCOUNT}",
        iam_path="/posture-kms/",
        access_point_prefix="kms-",
        encryption={"encryption": "aws:kms", "kms_key_id": key_arn, "manage_key_policy": True},
        collaborators=(
            Collaborator("alice", ("write", "read", "list", "delete"), "Alice", console=True),
            Collaborator("bob", ("read", "list"), "Bob"),
            Collaborator("pipeline", ("read", "list"), principal=pipeline),
            Collaborator("partner-site", ("write",), principal=PARTNER),
        ),
        baseline=baseline("sse-kms"),
    )
    s3 = Share(
        label="sse-s3",
        bucket=f"posture-s3-share-{ACCOUNT}",
        iam_path="/posture-s3/",
        access_point_prefix="s3-",
        encryption={"encryption": "AES256"},
        collaborators=(
            Collaborator("carol", ("write", "read", "list"), "Carol", console=True),
            Collaborator("dave", ("write",), "Dave"),
            Collaborator("partner-lab", ("read", "list"), principal=PARTNER),
        ),
        baseline=baseline("sse-s3"),
    )
    return kms, s3


def supported(share: Share) -> tuple[Share, list[str]]:
    """The share with only the baseline settings this version's schema knows, and the others
    (a version without them cannot be proven to pass)."""
    schema = json.loads((ROOT / "schema" / "collaborators.schema.json").read_text())
    known = schema["properties"]["bucket"]["properties"]
    keep = {k: v for k, v in share.baseline.items() if k in known}
    missing = [f"bucket.{k}" for k in share.baseline if k not in known]
    return Share(**{**share.__dict__, "baseline": keep}), missing


# --- the emulated account ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def install_emulator_extensions() -> list[str]:
    """Every faithful moto extension of reconciler/aws/emulator/ that has an `install()` (IAM
    user boundaries, CloudTrail selectors, ...), as the tests' and the sandbox's moto get."""
    import reconciler.aws.emulator as emulator

    installed = []
    for module in pkgutil.iter_modules(emulator.__path__):
        extension = importlib.import_module(f"{emulator.__name__}.{module.name}")
        if callable(getattr(extension, "install", None)):
            extension.install()
            installed.append(module.name)
    return installed


@contextmanager
def moto_server() -> Iterator[tuple[str, EmulatorGaps]]:
    """A moto server on loopback, in this process, with the project's moto extensions (as
    the tests' server: tests/e2e_support.py)."""
    from moto.server import ThreadedMotoServer

    install_emulator_extensions()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    werkzeug = logging.getLogger("werkzeug")
    gaps = EmulatorGaps()
    werkzeug.setLevel(logging.ERROR)  # no line per request
    werkzeug.propagate = False
    werkzeug.addHandler(gaps)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", gaps
    finally:
        server.stop()


def client(endpoint: str, service: str) -> Any:
    from reconciler.aws.session import strip_account_host_prefix

    made: Any = boto3.client(  # type: ignore[call-overload]
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    if service == "s3control":
        made.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
    return made


def create_key(endpoint: str) -> str:
    kms = client(endpoint, "kms")
    key = kms.create_key(Description="clinical research data")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/clinical-research", TargetKeyId=key)
    return str(key)


def create_prerequisites(endpoint: str) -> None:
    """What the account has before the tool runs: buckets for the lock, the access logs and
    the trail, the trail itself (logging), and a role of the account for pipelines."""
    s3 = client(endpoint, "s3")
    for bucket in (LOCK_BUCKET, LOG_BUCKET, TRAIL_BUCKET):
        s3.create_bucket(Bucket=bucket)
        # AWS encrypts every new bucket with SSE-S3 (S3 User Guide, "Setting default
        # server-side encryption behavior"); moto leaves them without
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    s3.put_bucket_policy(Bucket=TRAIL_BUCKET, Policy=json.dumps(_trail_bucket_policy()))
    cloudtrail = client(endpoint, "cloudtrail")
    cloudtrail.create_trail(Name=TRAIL, S3BucketName=TRAIL_BUCKET, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name=TRAIL)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    client(endpoint, "iam").create_role(
        RoleName=PIPELINE_ROLE, AssumeRolePolicyDocument=json.dumps(trust)
    )


def _trail_bucket_policy() -> dict[str, Any]:
    """CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail"."""
    trail = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL}"
    source = {"StringEquals": {"aws:SourceArn": trail}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}",
                "Condition": source,
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{ACCOUNT}/*",
                "Condition": {
                    "StringEquals": {
                        **source["StringEquals"],
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            },
        ],
    }


# --- the tool ---------------------------------------------------------------------------


def reconcile(endpoint: str, *args: str, codes: Sequence[int] = (0,)) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        AWS_ENDPOINT_URL=endpoint,
        NO_COLOR="1",
        RECONCILE_LOCK_BUCKET=LOCK_BUCKET,
    )
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode not in codes:
        raise SystemExit(
            f"posture: `reconcile {' '.join(args)}` exited {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def apply_share(endpoint: str, share: Share, folder: Path) -> None:
    path = folder / f"{share.label}.yaml"
    path.write_text(share.yaml())
    boundary = reconcile(endpoint, "iam-policy", "--boundary", "-c", str(path))
    client(endpoint, "iam").create_policy(PolicyName=share.boundary_name, PolicyDocument=boundary)
    reconcile(endpoint, "apply", "-c", str(path), "--auto-approve")
    reconcile(endpoint, "plan", "-c", str(path), "--detailed-exitcode")  # converged
    print(verify(endpoint, path))


def verify(endpoint: str, path: Path) -> str:
    """`reconcile verify` on the live policies: no violation allowed. A role of the account is
    "unknown" for whatever its own identity policies could add (the tool does not read them):
    counted, not a failure."""
    report = json.loads(
        reconcile(endpoint, "verify", "-c", str(path), "--format", "json", codes=(0, 2))
    )
    if report["violations"]:
        bad = [f["message"] for f in report["findings"] if f["status"] == "fail"]
        raise SystemExit(f"posture: reconcile verify -c {path}: violations:\n" + "\n".join(bad))
    unknown = Counter(f["collaborator"] for f in report["findings"] if f["status"] == "unknown")
    who = "".join(f", {n} for {c}" for c, n in sorted(unknown.items()))
    return f"verify {path.name}: 0 violations, {report['unknowns']} unknown{who}"


# --- Prowler ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    findings: list[Finding]
    errors: list[str]
    unimplemented: list[str]  # actions moto does not implement, which Prowler called
    seconds: float
    command: list[str]


def prowler_command(prowler: str, checks: Sequence[str], out: Path) -> list[str]:
    return [
        prowler,
        "aws",
        "--region",
        REGION,
        "--checks",
        *checks,
        "--output-formats",
        "json-ocsf",
        "--output-directory",
        str(out),
        "--output-filename",
        "posture",
        "--log-level",
        "ERROR",
        "--log-file",
        str(out / "prowler.log"),
        "--no-banner",
        "--ignore-exit-code-3",
        # the permissions boundary is attached to no one (it bounds users): without this,
        # Prowler skips unattached customer managed policies
        "--scan-unused-services",
    ]


def prowler_env(endpoint: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        PYTHONPATH=str(HOOK),
        POSTURE_STRIP_S3CONTROL_ACCOUNT="1",
        HOME=str(home),
    )
    return env


def run_prowler(
    prowler: str, endpoint: str, checks: Sequence[str], out: Path, gaps: EmulatorGaps
) -> Scan:
    command = prowler_command(prowler, checks, out)
    gaps.actions.clear()
    started = time.monotonic()
    result = subprocess.run(
        command,
        env=prowler_env(endpoint, out),
        capture_output=True,
        text=True,
        timeout=PROWLER_TIMEOUT,
    )
    seconds = time.monotonic() - started
    (out / "prowler.stdout").write_text(result.stdout + result.stderr)
    reports = sorted(out.glob("posture*.ocsf.json"))
    if result.returncode != 0 or not reports:
        raise SystemExit(
            f"posture: Prowler exited {result.returncode} with no report; its output is in "
            f"{out / 'prowler.stdout'}:\n{(result.stdout + result.stderr)[-3000:]}"
        )
    findings = parse_ocsf(reports[0].read_text())
    return Scan(
        findings, logged_errors(out / "prowler.log"), sorted(gaps.actions), seconds, command
    )


_ENTRY = re.compile(r'^\{"timestamp": ".*?", "level": "(\w+)", "module": "([^"]*)", "message": "')


def logged_errors(path: Path) -> list[str]:
    """Prowler's ERROR log entries (`module: first line of the message`), once each: an API
    the emulator lacks, mostly. Prowler's log file has one entry per `{"timestamp"` line; a
    message may go on over several lines."""
    if not path.exists():
        return []
    errors: set[str] = set()
    for line in path.read_text().splitlines():
        match = _ENTRY.match(line)
        if match and match.group(1) == "ERROR":
            errors.add(f"{match.group(2)}: {line[match.end() :].rstrip(chr(34) + '}')[:240]}")
    return sorted(errors)


class EmulatorGaps(logging.Handler):
    """The AWS actions moto answered with "not implemented" while Prowler scanned (werkzeug
    logs each as an error, the traceback formatted into the message)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.actions: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.actions.update(_NOT_IMPLEMENTED.findall(record.getMessage()))


_NOT_IMPLEMENTED = re.compile(r"NotImplementedError: The (\w+) action has not been implemented")


def prowler_hipaa(prowler: str) -> dict[str, tuple[str, ...]]:
    """Prowler's HIPAA framework, from the virtual environment of `prowler` (empty if the
    file is not where Prowler 5 keeps it)."""
    venv = Path(prowler).resolve().parents[1]
    found = sorted(venv.glob("lib/python3*/site-packages/prowler/compliance/aws/hipaa_aws.json"))
    return hipaa_requirements(found[0].read_text()) if found else {}


# --- the report -------------------------------------------------------------------------


def render(
    verdicts: Sequence[Verdict],
    quiet: set[tuple[str, str]],
    hipaa: Mapping[str, tuple[str, ...]],
) -> str:
    lines = []
    for share in sorted({v.managed.share for v in verdicts} | {s for _, s in quiet}):
        lines.append(f"\n== share {share}")
        mine = sorted(
            (v for v in verdicts if v.managed.share == share),
            key=lambda v: (v.finding.check, v.finding.resource),
        )
        for v in mine:
            sections = " ".join(hipaa.get(v.finding.check, ()))
            hipaa_note = f"  [HIPAA {sections}]" if sections else ""
            lines.append(f"{v.outcome:8} {v.finding.check}  {v.finding.resource}{hipaa_note}")
            if v.outcome in {"FAIL", "ALLOWED"}:
                why = v.allowed.reason if v.allowed else v.finding.detail
                lines.append(f"{'':8}   {why}")
            if v.outcome == "ERROR":
                error = SCANNER_ERRORS[v.finding.check]
                lines.append(
                    f"{'':8}   Prowler logged {error!r}: its {v.finding.status} means nothing"
                )
        for check, _ in sorted(q for q in quiet if q[1] == share):
            lines.append(f"SILENT   {check}  (no finding on this share's resources)")
    return "\n".join(lines)


def summary(
    verdicts: Sequence[Verdict],
    scan: Scan,
    quiet: Sequence[tuple[str, str]],
    missing: list[str],
    checks: int,
) -> tuple[str, bool]:
    counts = Counter(v.outcome for v in verdicts)
    failing = [v for v in verdicts if v.outcome == "FAIL"]
    lines = [
        "",
        f"Prowler: {checks} checks, {scan.seconds:.0f} s; findings on the tool's "
        f"resources: {counts['PASS']} PASS, {counts['FAIL']} FAIL, "
        f"{counts['ALLOWED']} ALLOWED (allow-list), {counts['MANUAL']} MANUAL, "
        f"{counts['ERROR']} ERROR (voided by an error inside Prowler); "
        f"checks passing on every share: {len(_clean_checks(verdicts))}",
    ]
    if scan.unimplemented:
        lines.append("\nActions moto does not implement (emulator gaps, not findings):")
        lines.append(f"  {', '.join(scan.unimplemented)}")
    gaps = [f"  {check}: {why}" for check, why in EMULATOR_GAPS.items()]
    lines.extend(["\nSelected checks that cannot report on moto:", *gaps])
    if scan.errors:
        lines.append("\nErrors Prowler logged (not findings; details in its log):")
        lines.extend(f"  {e}" for e in scan.errors)
    if missing:
        lines.append(f"\nBaseline settings this version does not have: {', '.join(missing)}")
    if failing:
        lines.append("\nFAIL outside the allow-list of docs/compliance.md:")
        lines.extend(f"  {v.finding.check}  {v.finding.resource}" for v in failing)
    if quiet:
        lines.append("\nSelected checks that reported nothing on a share (not seen):")
        lines.extend(f"  {check} ({share})" for check, share in quiet)
    ok = not failing and not missing and not quiet
    lines.append("\nposture: OK" if ok else "\nposture: NOT OK")
    return "\n".join(lines), ok


def hipaa_summary(verdicts: Sequence[Verdict], hipaa: Mapping[str, tuple[str, ...]]) -> str:
    """How the checks Prowler's own HIPAA framework (hipaa_aws) maps came out."""
    if not hipaa:
        return "\nProwler's HIPAA framework: not found next to Prowler"
    mapped = {v.finding.check for v in verdicts if v.finding.check in hipaa}
    failing = sorted(
        {v.finding.check for v in verdicts if v.finding.check in mapped} - _clean_checks(verdicts)
    )
    text = (
        f"\nChecks in Prowler's HIPAA framework (hipaa_aws) that reported on the tool's "
        f"resources: {len(mapped)}; passing on every share: {len(mapped) - len(failing)}"
    )
    allowed = sorted({v.finding.check for v in verdicts if v.outcome == "ALLOWED"} & mapped)
    return (
        text
        + "".join(f"\n  not passing: {check}" for check in failing)
        + "".join(f"\n  allow-listed, and in the framework: {check}" for check in allowed)
    )


def _clean_checks(verdicts: Sequence[Verdict]) -> set[str]:
    failing = {v.finding.check for v in verdicts if v.outcome != "PASS"}
    return {v.finding.check for v in verdicts} - failing


# --- main -------------------------------------------------------------------------------


def default_prowler() -> str:
    return os.environ.get("PROWLER") or str(ROOT / ".venv-prowler" / "bin" / "prowler")


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m posture.scan", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--prowler", default=default_prowler(), help="Prowler's executable")
    parser.add_argument(
        "--checks",
        nargs="+",
        choices=sorted(CHECKS),
        metavar="CHECK",
        help="only these of the selected checks (a quick run; the result is not a proof)",
    )
    parser.add_argument("--out", type=Path, help="keep Prowler's output in this folder")
    return parser.parse_args(argv)


def prepare(endpoint: str, folder: Path) -> tuple[list[Managed], list[str]]:
    """The account's prerequisites, then both shares applied: the resources the tool manages,
    and the baseline settings this version lacks."""
    create_prerequisites(endpoint)
    key = create_key(endpoint)
    planned = [supported(s) for s in shares(key)]
    managed: list[Managed] = []
    for share, _ in planned:
        apply_share(endpoint, share, folder)
        managed += share.managed(key if "kms_key_id" in share.encryption else None)
        print(f"applied share {share.label} (bucket {share.bucket}):\n{share.yaml()}")
    return managed, sorted({m for _, ms in planned for m in ms})


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    allow: tuple[Allowed, ...] = parse_file(COMPLIANCE_DOC)
    if not shutil.which(args.prowler):
        raise SystemExit(f"posture: --prowler {args.prowler}: no such executable (see --help)")
    checks = args.checks or sorted(CHECKS)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="posture-") as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        with moto_server() as (endpoint, gaps):
            managed, missing = prepare(endpoint, Path(tmp))
            scan = run_prowler(args.prowler, endpoint, checks, out, gaps)
    verdicts = judge(scan.findings, managed, allow, scan.errors)
    quiet = [q for q in silent(verdicts, managed) if q[0] in checks]
    hipaa = prowler_hipaa(args.prowler)
    print(render(verdicts, set(quiet), hipaa))
    print(hipaa_summary(verdicts, hipaa))
    text, ok = summary(verdicts, scan, quiet, missing, len(checks))
    print(text)
    print(f"\ncommand: {' '.join(scan.command[:4])} --checks <{len(checks)} checks> ...")
    print(f"total: {time.monotonic() - started:.0f} s (Prowler {scan.seconds:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
