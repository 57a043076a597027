"""The `reconcile verify` checks: for every collaborator, a row of checks computed by evaluating
requests against the policies of a state (live, or what the YAML would produce).

The seed's five console tests, for every collaborator:
  1 console       with `console: true`, the S3 console works (list buckets and access points,
                  open its access point at the top level); otherwise, and for a suspended
                  collaborator, nothing lists bucket or access point names or the top level
  2 direct        requests straight to the bucket are denied
  3 own-ap        through its own access point, under its own folder, every granted level works
  4 other-prefix  through its own access point, nothing outside its folder is reachable
  5 other-ap      no other access point admits it
and four more: ungranted levels denied (levels), anonymous callers denied (anonymous), callers
from other accounts denied (other-account), nothing granted works without TLS (tls).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.access.analyzer import AnalyzerFinding
from reconciler.access.evaluator import Decision, Evaluation, evaluate_identity_only
from reconciler.access.key_checks import key_policy_outcomes
from reconciler.access.logic import Tri
from reconciler.access.requests import (
    LEVEL_ACTIONS,
    LEVEL_ORDER,
    PLAIN,
    SIGV2,
    Details,
    Identity,
    Principal,
)
from reconciler.access.state import LISTING, OBJECT, PROBE, AccessState, Probes, Target
from reconciler.access.subjects import (
    Subject,
    anonymous_subject,
    collaborator_arns,
    collaborator_subject,
    outsider_subject,
    session_subjects,
    stranger_subjects,
)
from reconciler.documents.policies import KMS_ACTIONS, is_other_account
from reconciler.model import AccessLevel, Config, LiveState
from reconciler.plan.changes import and_more_folders


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NA = "n/a"


class Check(StrEnum):
    CONSOLE = "console"
    DIRECT = "direct"
    OWN_AP = "own-ap"
    OTHER_PREFIX = "other-prefix"
    OTHER_AP = "other-ap"
    LEVELS = "levels"
    ANONYMOUS = "anonymous"
    OTHER_ACCOUNT = "other-account"
    TLS = "tls"


SEED_CHECKS = {
    Check.CONSOLE: "the S3 console works with console: true; otherwise no names beyond its own",
    Check.DIRECT: "cannot upload to the bucket directly",
    Check.OWN_AP: "can upload to its folder through its access point (every granted level)",
    Check.OTHER_PREFIX: "cannot upload to another's folder through its access point",
    Check.OTHER_AP: "cannot use another's access point",
}
MORE_CHECKS = {
    Check.LEVELS: "levels it was not granted are denied",
    Check.ANONYMOUS: "anonymous callers are denied on its folder and access point",
    Check.OTHER_ACCOUNT: "callers from other AWS accounts are denied there",
    Check.TLS: "nothing it was granted works without TLS",
}
CONSOLE_ACTIONS = ("s3:ListAllMyBuckets", "s3:ListAccessPoints")
# how the S3 console opens an access point: a listing of its top level, with delimiter "/"
CONSOLE_TOP_LEVEL = Target(LISTING, "", "/")
_WORST = {Status.FAIL: 3, Status.UNKNOWN: 2, Status.OK: 1, Status.NA: 0}


class BucketCheckName(StrEnum):
    TLS_ONLY = "tls-only"
    BLOCK_PUBLIC_ACCESS = "block-public-access"
    DEFAULT_ENCRYPTION = "default-encryption"
    ACLS_DISABLED = "acls-disabled"
    NO_PUBLIC_ACCESS = "no-public-access"
    PRESIGNED_URL_MAX_AGE = "presigned-url-max-age"
    SIGNATURE_V4_ONLY = "signature-v4-only"
    TLS_1_2 = "tls-1.2-or-later"
    UPLOAD_ENCRYPTION = "upload-encryption"
    UNLISTED_ACCESS_POINTS = "unlisted-access-points"
    KMS_KEY_POLICY = "kms-key-policy"
    # the bucket baseline (reconciler.access.baseline)
    VERSIONING = "versioning"
    LIFECYCLE = "lifecycle"
    ACCESS_LOGS = "access-logs"
    DATA_EVENTS = "data-events"
    KMS_ROTATION = "kms-rotation"


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    message: str
    collaborator: str | None = None  # the row; None for bucket-level findings
    principal: str | None = None
    principal_kind: str = "collaborator"
    outside_own: bool = False  # the target is outside the collaborator's own folder
    statements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    collaborator: str
    cells: tuple[tuple[Check, Status], ...]

    def status(self, check: Check) -> Status:
        return dict(self.cells)[check]


@dataclass(frozen=True)
class BucketCheck:
    name: BucketCheckName
    status: Status
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    source: str  # "live" or "desired"
    bucket: str
    account: str
    region: str
    bucket_checks: tuple[BucketCheck, ...]
    rows: tuple[Row, ...]
    findings: tuple[Finding, ...]
    evaluations: int
    analyzer: tuple[AnalyzerFinding, ...] | None = None
    analyzer_note: str | None = None
    # what the checks rest on that no policy here shows (a partner's own identity policy)
    assumptions: tuple[str, ...] = ()

    @property
    def violations(self) -> int:
        """Failed findings, failed bucket checks not already counted as findings, and blocking
        Access Analyzer findings."""
        fails = sum(1 for f in self.findings if f.status is Status.FAIL)
        with_findings = {f.check for f in self.findings}
        fails += sum(
            1
            for b in self.bucket_checks
            if b.status is Status.FAIL and b.name.value not in with_findings
        )
        return fails + sum(1 for a in self.analyzer or () if a.blocking)

    @property
    def unknowns(self) -> int:
        return sum(1 for f in self.findings if f.status is Status.UNKNOWN)

    @property
    def ok(self) -> bool:
        return self.violations == 0 and self.unknowns == 0


def level_status(evaluations: list[Evaluation], allowed: bool) -> tuple[Status, Evaluation | None]:
    """Expected allowed: every action of the level must be allowed; expected denied: every one
    denied. Returns the status and the evaluation that decided it."""
    good, bad = (Decision.ALLOW, Decision.DENY) if allowed else (Decision.DENY, Decision.ALLOW)
    for evaluation in evaluations:
        if evaluation.decision is bad:
            return Status.FAIL, evaluation
    for evaluation in evaluations:
        if evaluation.decision is not good:
            return Status.UNKNOWN, evaluation
    return Status.OK, None


@dataclass
class Owners:
    """Which collaborators' folders a key or listing falls into."""

    by_prefix: dict[str, list[str]]
    sorted_prefixes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sorted_prefixes = sorted(self.by_prefix)

    def of(self, target: Target) -> set[str]:
        value = target.value
        found = {
            cid
            for i, c in enumerate(value)
            if c == "/"
            for cid in self.by_prefix.get(value[: i + 1], ())
        }
        if target.kind == LISTING:  # a listing also reveals every folder below it
            start = bisect.bisect_left(self.sorted_prefixes, value)
            for prefix in self.sorted_prefixes[start:]:
                if not prefix.startswith(value):
                    break
                found.update(self.by_prefix[prefix])
        return found

    def own(self, subject: Subject, target: Target) -> bool:
        return (
            subject.prefix is not None
            and target.value.startswith(subject.prefix)
            and self.of(target) == {subject.id}
        )

    def describe(self, subject: Subject, target: Target) -> str:
        owners = sorted(self.of(target) - {subject.id})
        if owners:
            return f"folder of {', '.join(owners)}"
        if subject.prefix and target.value.startswith(subject.prefix):
            return f"in {subject.id}'s folder"
        return "outside every collaborator's folder"


def own_target(subject: Subject, level: AccessLevel) -> Target:
    prefix = subject.prefix or ""
    if level is AccessLevel.LIST:
        return Target(LISTING, prefix)
    return Target(OBJECT, prefix + PROBE)


def describe_target(target: Target) -> str:
    where = target.value or "(bucket root)"
    return where if target.delimiter is None else f"{where} (delimiter {target.delimiter})"


class Verifier:
    def __init__(self, config: Config, state: AccessState) -> None:
        self.config = config
        self.state = state
        self.owners = Owners(_prefix_owners(config))
        self.ours = collaborator_arns(config)
        self.findings: list[Finding] = []
        self.cells: dict[tuple[str, Check], Status] = {}

    # --- recording ----------------------------------------------------------------------------

    def record(self, row: str, check: Check, status: Status) -> None:
        key = (row, check)
        current = self.cells.get(key, Status.NA)
        if _WORST[status] > _WORST[current]:
            self.cells[key] = status

    def expect(
        self,
        row: Subject,
        check: Check,
        who: Subject,
        level: AccessLevel,
        target: Target,
        route: str | None,
        *,
        allowed: bool,
        tls: bool = True,
        more: int = 0,
    ) -> Status:
        """`more`: how many more folders the target stands for (decided alike)."""
        evaluations = [
            self.state.evaluate(who.principal, action, target, route, tls)
            for action in LEVEL_ACTIONS[level]
        ]
        status, deciding = level_status(evaluations, allowed)
        self.record(row.id, check, status)
        if deciding is not None:
            self.findings.append(
                self._finding(row, check, who, level, target, route, tls, status, deciding, more)
            )
        return status

    def deny_all(
        self, row: Subject, check: Check, who: Subject, route: str | None, probes: Probes
    ) -> None:
        """Expect every probe denied; where an Allow reaches every folder, one folder stands
        for the others that are decided alike."""
        targets = [(t, 0) for t in sorted(probes.targets, key=_target_order)]
        for kind in sorted(probes.spread):
            targets += self.state.rest(probes.targets, kind)
        for target, more in targets:
            if check is Check.OTHER_PREFIX and self.owners.own(row, target):
                continue
            if check is Check.OTHER_PREFIX and row.console and target == CONSOLE_TOP_LEVEL:
                continue  # the console check's request: opted in with console: true
            for level in _levels_for(target):
                self.expect(row, check, who, level, target, route, allowed=False, more=more)

    def _finding(
        self,
        row: Subject,
        check: Check,
        who: Subject,
        level: AccessLevel,
        target: Target,
        route: str | None,
        tls: bool,
        status: Status,
        evaluation: Evaluation,
        more: int = 0,
    ) -> Finding:
        where = f"via {route}" if route else "directly"
        tls_text = " without TLS" if not tls else ""
        place = f"{describe_target(target)} ({self.owners.describe(row, target)})"
        if more:
            place += and_more_folders(more) + " decided alike"
        if status is Status.UNKNOWN:
            text = f"cannot tell whether {who.id} can {level} {place} {where}{tls_text}"
        elif evaluation.decision is Decision.ALLOW:
            text = f"{who.id} can {level} {place} {where}{tls_text}"
        else:
            text = f"{who.id} cannot {level} {place} {where}{tls_text}"
        refs = (
            evaluation.allowed_by if evaluation.decision is Decision.ALLOW else evaluation.denied_by
        )
        return Finding(
            check=check.value,
            status=status,
            message=f"{row.id}: {check}: {text}: {evaluation.because()}",
            collaborator=row.id,
            principal=who.id,
            principal_kind=who.kind,
            outside_own=not self.owners.own(row, target),
            statements=tuple(dict.fromkeys(r.label for r in refs)),
        )

    # --- per collaborator -----------------------------------------------------------------

    def collaborator(self, subject: Subject, outsiders: list[Subject]) -> None:
        """`subject` signs as one session of its role when it is a role; the sessions that
        policies name are checked as well, since a grant or deny may name one of them alone."""
        self.console(subject)
        sessions = session_subjects(subject, self.state)
        for who in [subject, *sessions]:
            self.own_access_point(subject, who)
        for who in [subject, *sessions] if subject.exists else []:
            self.deny_everywhere(subject, Check.DIRECT, who, [None])
            self.other_prefixes(subject, who)
            others = sorted(self.state.candidate_points(who.principal) - {subject.home or ""})
            self.deny_everywhere(subject, Check.OTHER_AP, who, others)
        home_routes: list[str | None] = [subject.home, None]
        self.deny_everywhere(subject, Check.ANONYMOUS, anonymous_subject(), home_routes)
        strangers = stranger_subjects(self.ours, self.state, subject.home or "")
        for outsider in [*outsiders, *strangers]:
            self.deny_everywhere(subject, Check.OTHER_ACCOUNT, outsider, home_routes)
        self.state.forget()

    def console(self, subject: Subject) -> None:
        """With `console: true` (and something granted) the console's requests are allowed;
        otherwise the ones that show names beyond the collaborator's own folder are denied."""
        if subject.managed:
            requests = [(a, "*") for a in CONSOLE_ACTIONS]
            if subject.console:
                requests.append(("s3:GetAccessPoint", self.state.point_arn(subject.home or "")))
            for action, resource in requests:
                self._console_request(subject, action, resource)
        if subject.exists and subject.home:
            self.expect(
                subject,
                Check.CONSOLE,
                subject,
                AccessLevel.LIST,
                CONSOLE_TOP_LEVEL,
                subject.home,
                allowed=subject.console,
            )
        self.record(subject.id, Check.CONSOLE, Status.OK)

    def _console_request(self, subject: Subject, action: str, resource: str) -> None:
        evaluation = evaluate_identity_only(subject.principal, action, resource)
        if not subject.exists:
            evaluation = Evaluation(Decision.DENY)
        status, deciding = level_status([evaluation], allowed=subject.console)
        self.record(subject.id, Check.CONSOLE, status)
        if deciding is None:
            return
        if not subject.console:
            why = f"can {action} on {resource} without console: true: {deciding.because()}"
        elif not subject.exists:
            why = f"cannot {action} on {resource}: the IAM user does not exist"
        else:
            why = f"cannot {action} on {resource}: {deciding.because()}"
        self.findings.append(
            Finding(
                check=Check.CONSOLE.value,
                status=status,
                message=f"{subject.id}: console: {why}",
                collaborator=subject.id,
                principal=subject.id,
            )
        )

    def own_access_point(self, subject: Subject, who: Subject) -> None:
        """Granted levels must work for `subject` itself (for a role: a session no policy
        names); ungranted levels and requests without TLS must fail for every session."""
        for level in LEVEL_ORDER:
            granted = level.value in subject.levels
            target = own_target(subject, level)
            home = subject.home
            if not granted:
                self.expect(subject, Check.LEVELS, who, level, target, home, allowed=False)
                continue
            if who is subject:
                self.expect(subject, Check.OWN_AP, who, level, target, home, allowed=True)
                self.own_key(subject, level, target)
            self.expect(subject, Check.TLS, who, level, target, home, allowed=False, tls=False)

    def own_key(self, subject: Subject, level: AccessLevel, target: Target) -> None:
        """With SSE-KMS a granted read or write also needs the bucket's key: the KMS call S3
        makes for the request must be allowed (identity policy and key policy)."""
        key = self.state.key
        actions = KMS_ACTIONS.get(level, ())
        if key is None or not actions or not subject.exists:
            return
        # objects encrypted with the S3 Bucket Key (context: the bucket ARN) and without it
        # (the object ARN: written before the Bucket Key was on, or with it turned off per PUT)
        requests = [(a, with_key) for with_key in (True, False) for a in actions]
        evaluations = [
            self.state.evaluate_kms(subject.principal, a, target.value, bucket_key=with_key)
            for a, with_key in requests
        ]
        status, deciding = level_status(evaluations, allowed=True)
        self.record(subject.id, Check.OWN_AP, status)
        if deciding is None:
            return
        action, with_key = requests[evaluations.index(deciding)]
        context = "the bucket ARN (S3 Bucket Key)" if with_key else "the object ARN (no Bucket Key)"
        can = "cannot tell whether" if status is Status.UNKNOWN else "cannot"
        self.findings.append(
            Finding(
                check=Check.OWN_AP.value,
                status=status,
                message=f"{subject.id}: own-ap: {can} S3 call {action} on KMS key {key.arn} "
                f"to {level} {describe_target(target)} for {subject.id}, encryption context "
                f"{context}: {deciding.because()}",
                collaborator=subject.id,
                principal=subject.id,
                statements=tuple(dict.fromkeys(r.label for r in deciding.denied_by)),
            )
        )

    def key_policy(self, outsiders: list[Subject]) -> BucketCheck:
        name = BucketCheckName.KMS_KEY_POLICY
        found = key_policy_outcomes(
            self.state,
            [anonymous_subject().principal, *(o.principal for o in outsiders)],
            self.ours,
        )
        if not found:
            return BucketCheck(
                name, Status.OK, "only this account and collaborators can use the key"
            )
        status = Status.FAIL if any(d is Decision.ALLOW for d, _ in found) else Status.UNKNOWN
        return BucketCheck(name, status, "; ".join(what for _, what in found))

    def other_prefixes(self, subject: Subject, who: Subject) -> None:
        probes = self.state.probes(who.principal, subject.home, [subject.prefix or ""])
        self.deny_all(subject, Check.OTHER_PREFIX, who, subject.home, probes)
        self.record(subject.id, Check.OTHER_PREFIX, Status.OK)

    def deny_everywhere(
        self, row: Subject, check: Check, who: Subject, routes: Iterable[str | None]
    ) -> None:
        for route in routes:
            if not self.state.route_can_allow(who.principal, route):
                continue  # proven: nothing on this route can be allowed for this principal
            fixed = [p for p in (row.prefix, self._owner_prefix(route)) if p]
            self.deny_all(row, check, who, route, self.state.probes(who.principal, route, fixed))
        self.record(row.id, check, Status.OK)

    def _owner_prefix(self, route: str | None) -> str | None:
        for collab in self.config.collaborators:
            if collab.access_point == route:
                return collab.prefix
        return None

    # --- bucket -------------------------------------------------------------------------

    def bucket_checks(self, outsiders: list[Subject]) -> list[BucketCheck]:
        from reconciler.access.baseline import baseline_checks  # it builds on this module

        bucket = self.state.live.bucket
        if not bucket.exists:
            missing = f"bucket {bucket.name} does not exist"
            return [BucketCheck(name, Status.FAIL, missing) for name in BucketCheckName]
        return [
            self.tls_only(),
            _block_public_access(bucket.public_access_block),
            _encryption(bucket.encryption),
            _acls_disabled(bucket.ownership_controls),
            self.no_public_access(outsiders),
            self.presigned_url_max_age(),
            self.signature_v4_only(),
            self.tls_1_2(),
            self.upload_encryption(),
            self.unlisted_access_points(),
            *([self.key_policy(outsiders)] if self.state.key is not None else []),
            *baseline_checks(self.config, self.state.live),
        ]

    def _not_denied(
        self,
        route: str | None,
        *,
        tls: bool,
        age: int | None = None,
        details: Details = PLAIN,
        actions: tuple[str, ...] | None = None,
    ) -> list[str]:
        """Actions an administrator of the account could still do on this route (direct when
        None) in such a request: each must be denied explicitly by a policy."""
        gaps = []
        for level in LEVEL_ORDER:
            target = Target(LISTING, "") if level is AccessLevel.LIST else Target(OBJECT, PROBE)
            for action in LEVEL_ACTIONS[level]:
                if actions is not None and action not in actions:
                    continue
                evaluation = self.state.evaluate(
                    administrator(self.state.account), action, target, route, tls, age, details
                )
                if evaluation.decision is not Decision.DENY or not evaluation.denied_by:
                    gaps.append(action)
        return gaps

    def _routes(self) -> list[str | None]:
        """Directly, and through one access point (the bucket policy judges both alike)."""
        return [None, *sorted(self.state.points)[:1]]

    def signature_v4_only(self) -> BucketCheck:
        """A request signed with Signature Version 2 is explicitly denied: SigV2 reports
        s3:signatureAge 0, so it would escape the presigned-URL cap."""
        sigv2 = Details(signature_version=SIGV2)
        gaps = sorted(
            {a for r in self._routes() for a in self._not_denied(r, tls=True, details=sigv2)}
        )
        name = BucketCheckName.SIGNATURE_V4_ONLY
        if gaps:
            return BucketCheck(
                name,
                Status.FAIL,
                "the bucket policy does not deny requests signed with Signature Version 2 "
                "(s3:signatureversion AWS) for " + ", ".join(gaps),
            )
        return BucketCheck(
            name, Status.OK, "requests signed with Signature Version 2 are explicitly denied"
        )

    def tls_1_2(self) -> BucketCheck:
        """Requests over TLS 1.0 and 1.1 are explicitly denied."""
        gaps = sorted(
            {
                a
                for version in ("1.0", "1.1")
                for r in self._routes()
                for a in self._not_denied(r, tls=True, details=Details(tls_version=version))
            }
        )
        name = BucketCheckName.TLS_1_2
        if gaps:
            return BucketCheck(
                name,
                Status.FAIL,
                "the bucket policy does not deny requests over TLS older than 1.2 "
                "(s3:TlsVersion) for " + ", ".join(gaps),
            )
        return BucketCheck(name, Status.OK, "requests over TLS 1.0 or 1.1 are explicitly denied")

    def upload_encryption(self) -> BucketCheck:
        """Uploads that choose their own encryption (another algorithm, another KMS key, the AWS
        managed key, a customer-provided key) are explicitly denied; one that names the
        bucket's own encryption, like one with no header, is not."""
        name = BucketCheckName.UPLOAD_ENCRYPTION
        bad = [
            d
            for d in upload_variants(self.config, self._key_arn())[1]
            if any(self._not_denied(r, tls=True, details=d, actions=PUT) for r in self._routes())
        ]
        good = upload_variants(self.config, self._key_arn())[0]
        admin = administrator(self.state.account)
        refused = [
            d
            for d in good
            if self.state.evaluate(admin, PUT[0], Target(OBJECT, PROBE), None, details=d).decision
            is Decision.DENY
        ]
        problems = [f"an upload with {d.describe() or 'no header'} is not denied" for d in bad]
        problems += [f"an upload with {d.describe() or 'no header'} is denied" for d in refused]
        if problems:
            return BucketCheck(name, Status.FAIL, "; ".join(problems))
        return BucketCheck(
            name,
            Status.OK,
            f"uploads keep the bucket's encryption ({self.config.bucket.encryption}): other "
            "algorithms, KMS keys and customer-provided keys are explicitly denied",
        )

    def _key_arn(self) -> str | None:
        return self.state.key.arn if self.state.key is not None else self.config.bucket.key_arn

    def unlisted_access_points(self) -> BucketCheck:
        """Access points on the bucket that collaborators.yaml does not name. One the bucket
        policy delegates to is a violation: whoever writes its policy reaches the data, past
        review and verify."""
        name = BucketCheckName.UNLISTED_ACCESS_POINTS
        named = {c.access_point for c in self.config.collaborators}
        unlisted = sorted(set(self.state.points) - named)
        if not unlisted:
            return BucketCheck(
                name, Status.OK, f"every access point on the bucket is in {self.config.source}"
            )
        admitted = {n: self.state.bucket_admits(n) for n in unlisted}
        open_ = [n for n, t in admitted.items() if t is Tri.YES]
        unsure = [n for n, t in admitted.items() if t is Tri.MAYBE]
        closed = [n for n, t in admitted.items() if t is Tri.NO]
        where = f"not in {self.config.source}"
        if open_ or unsure:
            parts = []
            if open_:
                parts.append(
                    f"access point(s) {', '.join(open_)} on bucket {self.state.bucket} are "
                    f"{where}, and the bucket policy delegates to them: whoever writes their "
                    "policy reaches the data; delete them, or remove the bucket-policy statement "
                    "that admits them"
                )
            if unsure:
                parts.append(
                    f"cannot tell whether the bucket policy delegates to access point(s) "
                    f"{', '.join(unsure)} ({where})"
                )
            status = Status.FAIL if open_ else Status.UNKNOWN
            return BucketCheck(name, status, "; ".join(parts))
        return BucketCheck(
            name,
            Status.OK,
            f"access point(s) {', '.join(closed)} on bucket {self.state.bucket} are {where}; "
            "the bucket policy does not delegate to them, so they reach nothing",
        )

    def tls_only(self) -> BucketCheck:
        gaps = self._not_denied(None, tls=False)
        if gaps:
            return BucketCheck(
                BucketCheckName.TLS_ONLY,
                Status.FAIL,
                "the bucket policy does not explicitly deny requests without TLS for "
                + ", ".join(gaps),
            )
        return BucketCheck(
            BucketCheckName.TLS_ONLY, Status.OK, "every request without TLS is explicitly denied"
        )

    def presigned_url_max_age(self) -> BucketCheck:
        """A presigned URL used one millisecond past bucket.presigned_url_max_age_seconds is
        explicitly denied, directly and through an access point (the bucket policy judges both)."""
        max_ms = self.config.bucket.presigned_url_max_age_seconds * 1000
        routes: list[str | None] = [None, *sorted(self.state.points)[:1]]
        gaps = sorted({a for r in routes for a in self._not_denied(r, tls=True, age=max_ms + 1)})
        name = BucketCheckName.PRESIGNED_URL_MAX_AGE
        if gaps:
            return BucketCheck(
                name,
                Status.FAIL,
                f"the bucket policy does not deny presigned URLs older than {max_ms} ms "
                f"(s3:signatureAge) for " + ", ".join(gaps),
            )
        return BucketCheck(
            name, Status.OK, f"presigned URLs older than {max_ms // 1000} s are explicitly denied"
        )

    def no_public_access(self, outsiders: list[Subject]) -> BucketCheck:
        row = Subject("(bucket)", Principal("(bucket)", None), kind="bucket")
        before = len(self.findings)
        for who in [anonymous_subject(), *outsiders]:
            routes: list[str | None] = [None, *sorted(self.state.candidate_points(who.principal))]
            for route in filter(lambda r: self.state.route_can_allow(who.principal, r), routes):
                probes = self.state.probes(who.principal, route)
                self.deny_all(row, Check.ANONYMOUS, who, route, probes)
        new = self.findings[before:]
        self.findings[before:] = [
            Finding(
                BucketCheckName.NO_PUBLIC_ACCESS.value,
                f.status,
                f.message.replace("(bucket): anonymous: ", ""),
                None,
                f.principal,
                f.principal_kind,
                True,
                f.statements,
            )
            for f in new
        ]
        status = _worst(f.status for f in new) if new else Status.OK
        detail = (
            "anonymous callers and other accounts are denied everywhere"
            if status is Status.OK
            else f"{len(new)} request(s) by anonymous callers or other accounts not denied"
        )
        return BucketCheck(BucketCheckName.NO_PUBLIC_ACCESS, status, detail)


PUT = ("s3:PutObject",)
# a KMS key of no share: what an uploader's own key looks like to the checks
FOREIGN_KEY = "arn:aws:kms:us-east-1:999999999999:key/11111111-2222-3333-4444-555555555555"


def upload_variants(config: Config, key_arn: str | None) -> tuple[list[Details], list[Details]]:
    """(uploads that must work, uploads that must be denied) for the bucket's encryption."""
    own = config.bucket.encryption
    good = [PLAIN]
    if not config.bucket.kms:
        good.append(Details(sse=own))
    elif key_arn is not None:
        good.append(Details(sse=own, sse_kms_key_id=key_arn))
    bad = [
        Details(sse_customer_algorithm="AES256"),
        Details(sse="aws:kms:dsse", sse_kms_key_id=key_arn or FOREIGN_KEY),
        Details(sse="aws:kms", sse_kms_key_id=FOREIGN_KEY),
    ]
    if config.bucket.kms:
        bad += [
            Details(sse="AES256"),
            Details(sse="aws:kms"),  # S3 would use the AWS managed key aws/s3
            Details(sse_kms_key_id=FOREIGN_KEY),
        ]
    else:
        bad.append(Details(sse="aws:kms"))
    return good, bad


def administrator(account: str) -> Principal:
    return Principal(
        "an administrator of the account",
        f"arn:aws:iam::{account}:role/reconciler-verify-administrator",
        Identity(unrestricted="an administrator's identity policy (allows everything)"),
    )


def _worst(statuses: Iterable[Status]) -> Status:
    return max(statuses, key=lambda s: _WORST[s], default=Status.NA)


def _levels_for(target: Target) -> tuple[AccessLevel, ...]:
    if target.kind == LISTING:
        return (AccessLevel.LIST,)
    return tuple(level for level in LEVEL_ORDER if level is not AccessLevel.LIST)


def _target_order(target: Target) -> tuple[str, str]:
    return (target.kind, target.value)


def _prefix_owners(config: Config) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for collab in config.collaborators:
        owners.setdefault(collab.prefix, []).append(collab.id)
    return owners


def _block_public_access(value: object) -> BucketCheck:
    keys = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    settings = value if isinstance(value, dict) else {}
    off = [k for k in keys if settings.get(k) is not True]
    if value is None:
        return BucketCheck(
            BucketCheckName.BLOCK_PUBLIC_ACCESS, Status.FAIL, "Block Public Access is not set"
        )
    if off:
        return BucketCheck(
            BucketCheckName.BLOCK_PUBLIC_ACCESS, Status.FAIL, "off: " + ", ".join(off)
        )
    return BucketCheck(BucketCheckName.BLOCK_PUBLIC_ACCESS, Status.OK, "all four settings on")


def _encryption(value: object) -> BucketCheck:
    algorithm = value.get("SSEAlgorithm") if isinstance(value, dict) else None
    if not algorithm:
        return BucketCheck(
            BucketCheckName.DEFAULT_ENCRYPTION, Status.FAIL, "no default encryption configured"
        )
    return BucketCheck(BucketCheckName.DEFAULT_ENCRYPTION, Status.OK, str(algorithm))


def _acls_disabled(value: object) -> BucketCheck:
    owner = value.get("ObjectOwnership") if isinstance(value, dict) else None
    if owner != "BucketOwnerEnforced":
        return BucketCheck(
            BucketCheckName.ACLS_DISABLED,
            Status.FAIL,
            f"object ownership is {owner or 'not set'}: ACLs can grant access policies do not show",
        )
    return BucketCheck(BucketCheckName.ACLS_DISABLED, Status.OK, "BucketOwnerEnforced")


def verify_state(config: Config, state: AccessState, *, source: str) -> VerifyReport:
    verifier = Verifier(config, state)
    outsiders = [outsider_subject(config, state)]
    subjects = [collaborator_subject(config, c, state) for c in config.collaborators]
    for subject in subjects:
        verifier.collaborator(subject, outsiders)
    bucket_checks = verifier.bucket_checks(outsiders)
    rows = tuple(
        Row(s.id, tuple((check, verifier.cells.get((s.id, check), Status.NA)) for check in Check))
        for s in subjects
    )
    return VerifyReport(
        source=source,
        bucket=state.bucket,
        account=state.account,
        region=state.region,
        bucket_checks=tuple(bucket_checks),
        rows=rows,
        findings=tuple(verifier.findings),
        evaluations=state.evaluations,
        assumptions=partner_assumptions(config),
    )


def partner_assumptions(config: Config) -> tuple[str, ...]:
    """A principal in another account is evaluated as if its identity policy allowed everything
    (the worst case for isolation, so the checks that deny hold whatever its account attaches);
    its own levels work only once its administrator attaches the policy `reconcile show`
    prints (IAM User Guide, "Cross-account policy evaluation logic")."""
    return tuple(
        f"{c.id}: {Check.OWN_AP.value}"
        + (f" and {Check.CONSOLE.value} assume" if c.console else " assumes")
        + f" that account "
        f"{config.principal_arn(c).split(':')[4]} attaches to {c.principal} the identity "
        f"policy `reconcile show {c.id}` prints; the other checks hold whatever it attaches"
        for c in config.collaborators
        if c.principal is not None and c.access and is_other_account(config, c)
    )


def access_state(
    config: Config,
    live: LiveState,
    extra_prefixes: Iterable[str] = (),
    *,
    like: AccessState | None = None,
) -> AccessState:
    prefixes = {c.prefix for c in config.collaborators} | set(extra_prefixes)
    return AccessState(
        live, account=config.account_id, region=config.region, prefixes=prefixes, like=like
    )


def verify(config: Config, live: LiveState, *, source: str = "live") -> VerifyReport:
    return verify_state(config, access_state(config, live), source=source)
