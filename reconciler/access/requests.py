"""The requests this product cares about, and who makes them.

A request is one S3 data action (PutObject, GetObject, DeleteObject, AbortMultipartUpload on a
key; ListBucket with an s3:prefix), made directly to the bucket or through an access point, by a
principal, with or without TLS. Resource ARNs and condition keys follow the S3 User Guide:
through an access point the access point policy sees
`arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/object/KEY` (or the access point ARN for listing) and
the bucket policy sees the bucket ARN with `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`
and `s3:AccessPointNetworkOrigin` set ("Configuring IAM policies for using access points",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from reconciler.access.arns import RoleKey, session_arn, session_role
from reconciler.access.conditions import Context
from reconciler.access.policy import CompiledPolicy
from reconciler.documents.policies import LIST_ACTION, OBJECT_ACTIONS, SIGV4
from reconciler.model import AccessLevel

LEVEL_ACTIONS: dict[AccessLevel, tuple[str, ...]] = {
    **OBJECT_ACTIONS,
    AccessLevel.LIST: (LIST_ACTION,),
}
LEVEL_ORDER = (AccessLevel.READ, AccessLevel.WRITE, AccessLevel.LIST, AccessLevel.DELETE)

KEY_SECURE_TRANSPORT = "aws:securetransport"
KEY_PRINCIPAL_ARN = "aws:principalarn"
KEY_PRINCIPAL_ACCOUNT = "aws:principalaccount"
KEY_PREFIX = "s3:prefix"
KEY_DELIMITER = "s3:delimiter"
KEY_AP_ARN = "s3:dataaccesspointarn"
KEY_AP_ACCOUNT = "s3:dataaccesspointaccount"
KEY_AP_ORIGIN = "s3:accesspointnetworkorigin"
# milliseconds since a presigned URL was signed; absent for every other request (S3 API
# Reference, "Amazon S3 Signature Version 4 Authentication Specific Policy Keys": "This
# condition works only for presigned URLs")
KEY_SIGNATURE_AGE = "s3:signatureage"
# "AWS" for Signature Version 2, "AWS4-HMAC-SHA256" for Signature Version 4; set for every
# authenticated request (S3 API Reference, "Amazon S3 Signature Version 4 Authentication Specific
# Policy Keys"), absent for anonymous ones
KEY_SIGNATURE_VERSION = "s3:signatureversion"
# the TLS version of an HTTPS request, a number ("1.2"); absent without TLS
KEY_TLS_VERSION = "s3:tlsversion"
# an upload's encryption headers, each present only when the request carries it (S3 User Guide,
# "Amazon S3 condition key examples"; Service Authorization Reference, s3:PutObject)
KEY_SSE = "s3:x-amz-server-side-encryption"
KEY_SSE_KMS_KEY_ID = "s3:x-amz-server-side-encryption-aws-kms-key-id"
KEY_SSE_CUSTOMER = "s3:x-amz-server-side-encryption-customer-algorithm"
SIGV2 = "AWS"
MODELED_KEYS = frozenset(
    {
        KEY_SIGNATURE_AGE,
        KEY_SIGNATURE_VERSION,
        KEY_TLS_VERSION,
        KEY_SSE,
        KEY_SSE_KMS_KEY_ID,
        KEY_SSE_CUSTOMER,
        KEY_SECURE_TRANSPORT,
        KEY_PRINCIPAL_ARN,
        KEY_PRINCIPAL_ACCOUNT,
        KEY_PREFIX,
        KEY_DELIMITER,
        KEY_AP_ARN,
        KEY_AP_ACCOUNT,
        KEY_AP_ORIGIN,
    }
)


# The KMS call S3 makes on a requester's behalf with SSE-KMS (AWS KMS Developer Guide,
# "kms:ViaService" and "kms:EncryptionContext:context-key"; S3 User Guide, "Reducing the cost of
# SSE-KMS with Amazon S3 Bucket Keys": with a Bucket Key the context is the bucket ARN).
KEY_VIA_SERVICE = "kms:viaservice"
KEY_S3_CONTEXT = "kms:encryptioncontext:aws:s3:arn"
KEY_CALLER_ACCOUNT = "kms:calleraccount"
KMS_MODELED_KEYS = frozenset(
    {
        KEY_SECURE_TRANSPORT,
        KEY_PRINCIPAL_ARN,
        KEY_PRINCIPAL_ACCOUNT,
        KEY_VIA_SERVICE,
        KEY_S3_CONTEXT,
        KEY_CALLER_ACCOUNT,
    }
)


@dataclass(frozen=True)
class Identity:
    """What the principal's own account grants it.

    `policies` are the identity policies this tool can read. `unrestricted` names identity
    policies that are not visible but must be assumed to allow anything (a principal in another
    account: the worst case for isolation). `unknown` lists parts that are not visible and could
    allow (attached managed policies, groups, roles this tool does not read): they make an allow
    MAYBE. Unseen policies are assumed to deny nothing; a deny only narrows access.
    """

    policies: tuple[CompiledPolicy, ...] = ()
    unrestricted: str | None = None
    unknown: tuple[str, ...] = ()
    # an IAM user's permissions boundary, when its document is known: what the identity policies
    # allow counts only where it allows too, and its denies apply. It never limits what a
    # resource policy grants to the user's ARN ("Permissions boundaries for IAM entities",
    # evaluating effective permissions). None: no boundary, or one not read (it only narrows).
    boundary: CompiledPolicy | None = None


NO_IDENTITY = Identity()


@dataclass(frozen=True)
class Principal:
    """Who signs a request. A role signs through its sessions: `arn` is then the session's ARN
    and `role_arn` the role's (reconciler/access/arns.py)."""

    label: str  # how reports name it: a collaborator id, "anonymous", an ARN
    arn: str | None  # None: anonymous
    identity: Identity = field(default=NO_IDENTITY, compare=False)
    role_arn: str | None = None  # a role session: the role's ARN, path included

    @property
    def anonymous(self) -> bool:
        return self.arn is None

    @cached_property
    def session_of(self) -> RoleKey | None:
        """The role this principal is a session of, or None."""
        return session_role(self.arn) if self.arn is not None else None

    @property
    def principal_arn(self) -> str | None:
        """The value of aws:PrincipalArn: for a role session the role's ARN, None when that is
        not known (a session named in a policy, whose role's path is not visible)."""
        if self.session_of is not None:
            return self.role_arn
        return self.arn

    @property
    def account(self) -> str | None:
        if self.arn is None:
            return None
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 4 else None


def role_session(label: str, role_arn: str, session: str, identity: Identity) -> Principal:
    """A session of an IAM role, the only way a role signs requests."""
    return Principal(label, session_arn(role_arn, session), identity, role_arn)


def principal_keys(principal: Principal) -> dict[str, str]:
    """aws:PrincipalArn (left out when unknown) and aws:PrincipalAccount of a signed request."""
    values = {KEY_PRINCIPAL_ACCOUNT: principal.account or ""}
    if (arn := principal.principal_arn) is not None:
        values[KEY_PRINCIPAL_ARN] = arn
    return values


@dataclass(frozen=True)
class AccessPointRef:
    name: str
    arn: str
    account: str
    network_origin: str = "Internet"


@dataclass(frozen=True)
class Details:
    """How a request is made beyond who, what and where: its signature version, its TLS version
    (used only over TLS), and an upload's encryption headers (None: the header is not sent). The
    defaults are what the AWS CLI sends for `aws s3 cp` without --sse options."""

    signature_version: str = SIGV4
    tls_version: str = "1.2"
    sse: str | None = None
    sse_kms_key_id: str | None = None
    sse_customer_algorithm: str | None = None

    def values(self, *, signed: bool, tls: bool) -> dict[str, str]:
        found = {KEY_SIGNATURE_VERSION: self.signature_version} if signed else {}
        if tls:
            found[KEY_TLS_VERSION] = self.tls_version
        for key, value in (
            (KEY_SSE, self.sse),
            (KEY_SSE_KMS_KEY_ID, self.sse_kms_key_id),
            (KEY_SSE_CUSTOMER, self.sse_customer_algorithm),
        ):
            if value is not None:
                found[key] = value
        return found

    def describe(self) -> str:
        parts = [] if self.signature_version == SIGV4 else ["signed with SigV2"]
        if self.tls_version != "1.2":
            parts.append(f"over TLS {self.tls_version}")
        for label, value in (
            ("x-amz-server-side-encryption", self.sse),
            ("x-amz-server-side-encryption-aws-kms-key-id", self.sse_kms_key_id),
            ("x-amz-server-side-encryption-customer-algorithm", self.sse_customer_algorithm),
        ):
            if value is not None:
                parts.append(f"{label}: {value}")
        return ", ".join(parts)


PLAIN = Details()


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    bucket: str
    bucket_account: str
    key: str | None = None  # object actions
    prefix: str | None = None  # ListBucket: the s3:prefix value ("" lists from the root)
    delimiter: str | None = None  # ListBucket: the s3:delimiter value, if any
    access_point: AccessPointRef | None = None
    secure_transport: bool = True
    # a presigned URL used this many milliseconds after it was signed; None: not presigned
    signature_age_ms: int | None = None
    details: Details = PLAIN

    @property
    def bucket_resource(self) -> str:
        base = f"arn:aws:s3:::{self.bucket}"
        return base if self.key is None else f"{base}/{self.key}"

    @property
    def access_point_resource(self) -> str:
        assert self.access_point is not None
        base = self.access_point.arn
        return base if self.key is None else f"{base}/object/{self.key}"

    @cached_property
    def context(self) -> Context:
        values = {KEY_SECURE_TRANSPORT: "true" if self.secure_transport else "false"}
        modeled = MODELED_KEYS
        if self.principal.arn is not None:
            values.update(principal_keys(self.principal))
            if KEY_PRINCIPAL_ARN not in values:
                modeled = MODELED_KEYS - {KEY_PRINCIPAL_ARN}
        if self.prefix is not None:
            values[KEY_PREFIX] = self.prefix
        if self.delimiter is not None:
            values[KEY_DELIMITER] = self.delimiter
        if self.signature_age_ms is not None and self.principal.arn is not None:
            values[KEY_SIGNATURE_AGE] = str(self.signature_age_ms)
        values.update(
            self.details.values(signed=self.principal.arn is not None, tls=self.secure_transport)
        )
        if self.access_point is not None:
            values[KEY_AP_ARN] = self.access_point.arn
            values[KEY_AP_ACCOUNT] = self.access_point.account
            values[KEY_AP_ORIGIN] = self.access_point.network_origin
        return Context(values, modeled)

    def describe(self) -> str:
        target = self.key if self.key is not None else f"list {self.prefix or '(bucket root)'}"
        if self.delimiter is not None:
            target += f" with delimiter {self.delimiter}"
        via = f"via {self.access_point.name}" if self.access_point else "directly"
        tls = "" if self.secure_transport else " without TLS"
        if self.signature_age_ms is not None:
            tls += f" presigned {self.signature_age_ms} ms before"
        if self.details != PLAIN:
            tls += f" ({self.details.describe()})"
        return f"{self.action} {target} {via}{tls}"


@dataclass(frozen=True)
class KmsRequest:
    """kms:GenerateDataKey or kms:Decrypt on a key, for `principal`: made by S3 for a request
    (`via_service` s3.REGION.amazonaws.com, `s3_context` the encryption context's aws:s3:arn),
    or directly (both None)."""

    principal: Principal
    action: str
    key_arn: str
    via_service: str | None = None
    s3_context: str | None = None

    @cached_property
    def context(self) -> Context:
        values = {KEY_SECURE_TRANSPORT: "true"}
        if self.principal.arn is not None:
            values[KEY_PRINCIPAL_ARN] = self.principal.arn
            values[KEY_PRINCIPAL_ACCOUNT] = self.principal.account or ""
            values[KEY_CALLER_ACCOUNT] = self.principal.account or ""
        if self.via_service is not None:
            values[KEY_VIA_SERVICE] = self.via_service
        if self.s3_context is not None:
            values[KEY_S3_CONTEXT] = self.s3_context
        return Context(values, KMS_MODELED_KEYS)

    def describe(self) -> str:
        via = f"through {self.via_service}" if self.via_service else "directly"
        return f"{self.action} on {self.key_arn} {via}"
