"""Evaluation test vectors taken from the examples in AWS's documentation. Each vector cites the
page its policies and expected outcome come from; outcomes the page leaves open are UNKNOWN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.access.conditions import Context, compile_clause
from reconciler.access.evaluator import Decision, evaluate, evaluate_identity_only
from reconciler.access.logic import Tri
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import AccessPointRef, Identity, Principal, Request

AP_PAGE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html"
EVAL_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
)
XACCT_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
    "reference_policies_evaluation-logic-cross-account.html"
)
COND_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
    "reference_policies_elements_condition_operators.html"
)
BUCKET_PAGE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html"
KEYS_PAGE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html"
PRINCIPAL_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
)
NOTPRINCIPAL_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html"
)
NOTRESOURCE_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html"
)
NOTACTION_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html"
)
RESOURCE_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"
)

ALLOW, DENY, UNKNOWN = Decision.ALLOW, Decision.DENY, Decision.UNKNOWN
ACCT = "123456789012"
BUCKET = "awsexamplebucket1"
V = "2012-10-17"


def doc(*statements: dict[str, Any], version: str = V) -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def user(arn: str, *identity_docs: dict[str, Any], unrestricted: bool = False) -> Principal:
    policies = tuple(
        p
        for i, d in enumerate(identity_docs)
        if (p := compile_policy(d, PolicyRef("identity policy", f"{arn}#{i}"))) is not None
    )
    identity = Identity(policies, unrestricted="assumed" if unrestricted else None)
    return Principal(arn.rsplit("/", 1)[-1], arn, identity)


ANONYMOUS = Principal("anonymous", None)
ALICE = user(f"arn:aws:iam::{ACCT}:user/Alice")
BOB = user(f"arn:aws:iam::{ACCT}:user/Bob")
CHARLES = user(f"arn:aws:iam::{ACCT}:user/Charles")
MY_AP = AccessPointRef(
    "my-access-point", f"arn:aws:s3:us-west-2:{ACCT}:accesspoint/my-access-point", ACCT
)
AP_ARN = MY_AP.arn

DELEGATE = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCT}},
    }
)
ALICE_AP_GRANT = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/Alice"},
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"{AP_ARN}/object/Alice/*",
    }
)
ALICE_BUCKET_GRANT = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/Alice"},
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"arn:aws:s3:::{BUCKET}/Alice/*",
    }
)
BOB_TAG_GRANT = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/Bob"},
        "Action": "s3:GetObject",
        "Resource": f"{AP_ARN}/object/*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/data": "finance"}},
    }
)
CHARLES_LIST = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/Charles"},
        "Action": "s3:ListBucket",
        "Resource": AP_ARN,
    }
)
VPC_ONLY = doc(
    {
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::examplebucket/*",
        "Condition": {"StringNotEquals": {"s3:AccessPointNetworkOrigin": "VPC"}},
    },
    DELEGATE["Statement"][0]
    | {"Resource": ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/*"]},
)

CARLOS_IDENTITY = doc(
    {
        "Sid": "AllowS3ListRead",
        "Effect": "Allow",
        "Action": [
            "s3:GetBucketLocation",
            "s3:GetAccountPublicAccessBlock",
            "s3:ListAccessPoints",
            "s3:ListAllMyBuckets",
        ],
        "Resource": "arn:aws:s3:::*",
    },
    {
        "Sid": "AllowS3Self",
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
    },
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
)
CARLOS_BUCKET = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/carlossalazar"},
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
    }
)
CARLOS = user(f"arn:aws:iam::{ACCT}:user/carlossalazar", CARLOS_IDENTITY)
CARLOS_NO_IDENTITY = user(f"arn:aws:iam::{ACCT}:user/carlossalazar")

XCARLOS_IDENTITY = doc(
    {"Sid": "AllowS3ListRead", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
    {
        "Sid": "AllowS3ProductionObjectActions",
        "Effect": "Allow",
        "Action": "s3:*Object*",
        "Resource": "arn:aws:s3:::Production/*",
    },
    {
        "Sid": "DenyS3Logs",
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"],
    },
)
XCARLOS_BUCKET = doc(
    {
        "Effect": "Allow",
        "Action": ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject"],
        "Principal": {"AWS": "arn:aws:iam::111111111111:user/carlossalazar"},
        "Resource": "arn:aws:s3:::Production/*",
    }
)
XCARLOS = user("arn:aws:iam::111111111111:user/carlossalazar", XCARLOS_IDENTITY)
XCARLOS_NO_IDENTITY = user("arn:aws:iam::111111111111:user/carlossalazar")

TLS_DENY = doc(
    {
        "Sid": "BooleanExample",
        "Action": "s3:*",
        "Effect": "Deny",
        "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
)
ALLOW_ALL_S3 = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
HOME_DIRS = doc(
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::BUCKET-NAME",
        "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}},
    }
)
PUBLIC_READ = doc(
    {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
    }
)
CANNED_ACL = doc(
    {
        "Sid": "AddCannedAcl",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]},
        "Action": ["s3:PutObject", "s3:PutObjectAcl"],
        "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": ["public-read"]}},
    }
)
IP_DENY = doc(
    {
        "Sid": "IPAllow",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
        "Condition": {"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}},
    },
    PUBLIC_READ["Statement"][0],
)
MFA_DENY = doc(
    {
        "Sid": "",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/taxdocuments/*",
        "Condition": {"Null": {"aws:MultiFactorAuthAge": True}},
    },
    PUBLIC_READ["Statement"][0],
)
PROJECTS_ONLY = doc(
    {
        "Sid": "statement1",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::awsexamplebucket1",
        "Condition": {"StringEquals": {"s3:prefix": "projects"}},
    },
    {
        "Sid": "statement2",
        "Effect": "Deny",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::awsexamplebucket1",
        "Condition": {"StringNotEquals": {"s3:prefix": "projects"}},
    },
)
DAVE = user(f"arn:aws:iam::{ACCT}:user/Dave", PROJECTS_ONLY)
ACCOUNT_GRANT = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": ["123456789012", "arn:aws:iam::555555555555:root"]},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::shared/*",
    }
)
ONLY_USER_NAME = doc(
    {
        "Sid": "UsePrincipalArnInsteadOfNotPrincipalWithDeny",
        "Effect": "Deny",
        "Action": "s3:*",
        "Principal": "*",
        "Resource": ["arn:aws:s3:::BUCKETNAME/*", "arn:aws:s3:::BUCKETNAME"],
        "Condition": {
            "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::444455556666:user/user-name"}
        },
    },
    {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::BUCKETNAME/*",
    },
)
NOT_BOB = doc(
    {
        "Effect": "Deny",
        "NotPrincipal": {
            "AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]
        },
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"],
    }
)
NOT_BOB_ONLY = doc(
    NOT_BOB["Statement"][0] | {"NotPrincipal": {"AWS": "arn:aws:iam::444455556666:user/Bob"}}
)
BOB_GRANT = {
    "Sid": "AnotherStatementMustAllowBob",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::444455556666:user/Bob"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::BUCKETNAME/*",
}
NOT_BOB_WITH_GRANT = doc(NOT_BOB["Statement"][0], BOB_GRANT)
NOT_BOB_ONLY_WITH_GRANT = doc(NOT_BOB_ONLY["Statement"][0], BOB_GRANT)
HR_PAYROLL = doc(
    {
        "Effect": "Deny",
        "Action": "s3:*",
        "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
    },
    ALLOW_ALL_S3["Statement"][0],
)
NOT_DELETE_BUCKET = doc(
    {"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}
)
CORPORATE = doc(
    {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::my_corporate_bucket/*"}
)
EXPLICIT_IMPLICIT = doc(
    {
        "Sid": "AllowGetList",
        "Effect": "Allow",
        "Action": ["iam:Get*", "iam:List*"],
        "Resource": "*",
    },
    {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
)
RUN_INSTANCES = doc(
    {
        "Sid": "THISPOLICYDOESNOTWORK",
        "Effect": "Allow",
        "Action": "ec2:RunInstances",
        "Resource": "*",
        "Condition": {"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
    }
)


@dataclass(frozen=True)
class Vector:
    name: str
    source: str
    principal: Principal
    action: str
    expected: Decision
    key: str | None = None
    prefix: str | None = None
    via: AccessPointRef | None = None
    tls: bool = True
    ap_policy: dict[str, Any] | None = None
    bucket_policy: dict[str, Any] | None = None
    bucket: str = BUCKET
    bucket_account: str = ACCT


VPC_AP = AccessPointRef("vpc-ap", f"arn:aws:s3:us-west-2:{ACCT}:accesspoint/vpc-ap", ACCT, "VPC")
NET_AP = AccessPointRef("net-ap", f"arn:aws:s3:us-west-2:{ACCT}:accesspoint/net-ap", ACCT)
EAST_AP = AccessPointRef("east-ap", f"arn:aws:s3:us-east-1:{ACCT}:accesspoint/east-ap", ACCT)
ANY_AP_IN_WEST = doc(
    DELEGATE["Statement"][0]
    | {
        "Condition": {
            "StringLike": {"s3:DataAccessPointArn": f"arn:aws:s3:us-west-2:{ACCT}:accesspoint/*"}
        }
    }
)
OPEN_AP = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"})
OTHER_ACCOUNT_DELEGATE = doc(
    DELEGATE["Statement"][0]
    | {"Condition": {"StringEquals": {"s3:DataAccessPointAccount": "111122223333"}}}
)

VECTORS = [
    # --- access point policies ------------------------------------------------------------
    Vector(
        "ap grant: Alice GETs under Alice/",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        ALLOW,
        key="Alice/photo.jpg",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
        bucket_policy=DELEGATE,
    ),
    Vector(
        "ap grant: Alice PUTs under Alice/",
        AP_PAGE,
        ALICE,
        "s3:PutObject",
        ALLOW,
        key="Alice/new.csv",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
        bucket_policy=DELEGATE,
    ),
    Vector(
        "ap grant: DELETE is not granted",
        AP_PAGE,
        ALICE,
        "s3:DeleteObject",
        DENY,
        key="Alice/new.csv",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
        bucket_policy=DELEGATE,
    ),
    Vector(
        "ap grant: outside the Alice/ prefix",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        DENY,
        key="Bob/data.csv",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
        bucket_policy=DELEGATE,
    ),
    Vector(
        "ap grant: another user",
        AP_PAGE,
        BOB,
        "s3:GetObject",
        DENY,
        key="Alice/photo.jpg",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
        bucket_policy=DELEGATE,
    ),
    Vector(
        "delegation grants nothing to direct requests",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        DENY,
        key="Alice/photo.jpg",
        bucket_policy=DELEGATE,
    ),
    Vector(
        "ap grant needs the bucket to allow too",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        DENY,
        key="Alice/photo.jpg",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
    ),
    Vector(
        "ap grant + same grant in the bucket policy",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        ALLOW,
        key="Alice/photo.jpg",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
        bucket_policy=ALICE_BUCKET_GRANT,
    ),
    Vector(
        "bucket policy grant applies to direct requests",
        AP_PAGE,
        ALICE,
        "s3:PutObject",
        ALLOW,
        key="Alice/photo.jpg",
        bucket_policy=ALICE_BUCKET_GRANT,
    ),
    Vector(
        "tag condition cannot be evaluated",
        AP_PAGE,
        BOB,
        "s3:GetObject",
        UNKNOWN,
        key="reports/q1.csv",
        via=MY_AP,
        ap_policy=BOB_TAG_GRANT,
        bucket_policy=DELEGATE,
    ),
    Vector(
        "Charles lists through the access point",
        AP_PAGE,
        CHARLES,
        "s3:ListBucket",
        ALLOW,
        prefix="",
        via=MY_AP,
        ap_policy=CHARLES_LIST,
        bucket_policy=DELEGATE,
    ),
    Vector(
        "Charles cannot list the bucket directly",
        AP_PAGE,
        CHARLES,
        "s3:ListBucket",
        DENY,
        prefix="",
        ap_policy=CHARLES_LIST,
        bucket_policy=DELEGATE,
    ),
    Vector(
        "delegation to another account's access points",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        DENY,
        key="Alice/photo.jpg",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
        bucket_policy=OTHER_ACCOUNT_DELEGATE,
    ),
    Vector(
        "s3:DataAccessPointArn matches us-west-2 access points",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        ALLOW,
        key="Alice/a",
        via=MY_AP,
        ap_policy=ALICE_AP_GRANT,
        bucket_policy=ANY_AP_IN_WEST,
    ),
    Vector(
        "s3:DataAccessPointArn does not match us-east-1",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        DENY,
        key="Alice/a",
        via=EAST_AP,
        ap_policy=OPEN_AP,
        bucket_policy=ANY_AP_IN_WEST,
    ),
    Vector(
        "VPC-only bucket: Internet access point denied",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        DENY,
        key="a",
        via=NET_AP,
        ap_policy=OPEN_AP,
        bucket_policy=VPC_ONLY,
        bucket="examplebucket",
    ),
    Vector(
        "VPC-only bucket: VPC access point allowed",
        AP_PAGE,
        ALICE,
        "s3:GetObject",
        ALLOW,
        key="a",
        via=VPC_AP,
        ap_policy=OPEN_AP,
        bucket_policy=VPC_ONLY,
        bucket="examplebucket",
    ),
    Vector(
        "VPC-only bucket: direct request denied (key absent)",
        AP_PAGE,
        user(ALICE.arn or "", ALLOW_ALL_S3),
        "s3:GetObject",
        DENY,
        key="a",
        bucket_policy=VPC_ONLY,
        bucket="examplebucket",
    ),
    # --- evaluation logic, one account ----------------------------------------------------
    Vector(
        "Carlos: explicit deny on *log* buckets",
        EVAL_PAGE,
        CARLOS,
        "s3:PutObject",
        DENY,
        key="f.txt",
        bucket="carlossalazar-logs",
    ),
    Vector(
        "Carlos: identity and bucket policy allow",
        EVAL_PAGE,
        CARLOS,
        "s3:PutObject",
        ALLOW,
        key="f.txt",
        bucket="carlossalazar",
        bucket_policy=CARLOS_BUCKET,
    ),
    Vector(
        "Carlos: identity policy alone is enough",
        EVAL_PAGE,
        CARLOS,
        "s3:PutObject",
        ALLOW,
        key="f.txt",
        bucket="carlossalazar",
    ),
    Vector(
        "Carlos: resource policy alone is enough",
        EVAL_PAGE,
        CARLOS_NO_IDENTITY,
        "s3:PutObject",
        ALLOW,
        key="f.txt",
        bucket="carlossalazar",
        bucket_policy=CARLOS_BUCKET,
    ),
    Vector(
        "Carlos: no policy at all is an implicit deny",
        EVAL_PAGE,
        CARLOS_NO_IDENTITY,
        "s3:PutObject",
        DENY,
        key="f.txt",
        bucket="carlossalazar",
    ),
    # --- evaluation logic, across accounts ------------------------------------------------
    Vector(
        "cross-account: both allow",
        XACCT_PAGE,
        XCARLOS,
        "s3:PutObject",
        ALLOW,
        key="f.txt",
        bucket="Production",
        bucket_account="222222222222",
        bucket_policy=XCARLOS_BUCKET,
    ),
    Vector(
        "cross-account: identity deny on Production-logs",
        XACCT_PAGE,
        XCARLOS,
        "s3:PutObject",
        DENY,
        key="f.txt",
        bucket="Production-logs",
        bucket_account="222222222222",
    ),
    Vector(
        "cross-account: bucket policy does not grant delete",
        XACCT_PAGE,
        XCARLOS,
        "s3:DeleteObject",
        DENY,
        key="f.txt",
        bucket="Production",
        bucket_account="222222222222",
        bucket_policy=XCARLOS_BUCKET,
    ),
    Vector(
        "cross-account: the resource policy alone is not enough",
        XACCT_PAGE,
        XCARLOS_NO_IDENTITY,
        "s3:PutObject",
        DENY,
        key="f.txt",
        bucket="Production",
        bucket_account="222222222222",
        bucket_policy=XCARLOS_BUCKET,
    ),
    # --- condition operators ----------------------------------------------------------------
    Vector(
        "Bool aws:SecureTransport=false denies plain HTTP",
        COND_PAGE,
        user(ALICE.arn or "", ALLOW_ALL_S3),
        "s3:PutObject",
        DENY,
        key="k",
        tls=False,
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=TLS_DENY,
    ),
    Vector(
        "Bool aws:SecureTransport=false lets TLS through",
        COND_PAGE,
        user(ALICE.arn or "", ALLOW_ALL_S3),
        "s3:PutObject",
        ALLOW,
        key="k",
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=TLS_DENY,
    ),
    Vector(
        "StringLike s3:prefix: the empty prefix",
        COND_PAGE,
        user(ALICE.arn or "", HOME_DIRS),
        "s3:ListBucket",
        ALLOW,
        prefix="",
        bucket="BUCKET-NAME",
    ),
    Vector(
        "StringLike s3:prefix: home/",
        COND_PAGE,
        user(ALICE.arn or "", HOME_DIRS),
        "s3:ListBucket",
        ALLOW,
        prefix="home/",
        bucket="BUCKET-NAME",
    ),
    Vector(
        "StringLike s3:prefix with ${aws:username} is unknown",
        COND_PAGE,
        user(ALICE.arn or "", HOME_DIRS),
        "s3:ListBucket",
        UNKNOWN,
        prefix="home/Alice/",
        bucket="BUCKET-NAME",
    ),
    # --- bucket policy examples -----------------------------------------------------------
    Vector(
        "public read: anonymous GET",
        BUCKET_PAGE,
        ANONYMOUS,
        "s3:GetObject",
        ALLOW,
        key="index.html",
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=PUBLIC_READ,
    ),
    Vector(
        "public read: anonymous PUT",
        BUCKET_PAGE,
        ANONYMOUS,
        "s3:PutObject",
        DENY,
        key="index.html",
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=PUBLIC_READ,
    ),
    Vector(
        "canned-ACL condition key is not modeled",
        BUCKET_PAGE,
        user("arn:aws:iam::111122223333:user/Uploader", unrestricted=True),
        "s3:PutObject",
        UNKNOWN,
        key="k",
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=CANNED_ACL,
    ),
    Vector(
        "canned-ACL grant names other accounts only",
        BUCKET_PAGE,
        user("arn:aws:iam::999999999999:user/Stranger", unrestricted=True),
        "s3:PutObject",
        DENY,
        key="k",
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=CANNED_ACL,
    ),
    Vector(
        "NotIpAddress deny cannot be evaluated",
        BUCKET_PAGE,
        ANONYMOUS,
        "s3:GetObject",
        UNKNOWN,
        key="k",
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=IP_DENY,
    ),
    Vector(
        "MFA Null check on taxdocuments is unknown",
        BUCKET_PAGE,
        ANONYMOUS,
        "s3:GetObject",
        UNKNOWN,
        key="taxdocuments/2020.pdf",
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=MFA_DENY,
    ),
    Vector(
        "MFA deny does not cover other keys",
        BUCKET_PAGE,
        ANONYMOUS,
        "s3:GetObject",
        ALLOW,
        key="public/readme.txt",
        bucket="DOC-EXAMPLE-BUCKET",
        bucket_policy=MFA_DENY,
    ),
    # --- S3 condition keys ------------------------------------------------------------------
    Vector("s3:prefix equals projects", KEYS_PAGE, DAVE, "s3:ListBucket", ALLOW, prefix="projects"),
    Vector(
        "s3:prefix other than projects: explicit deny",
        KEYS_PAGE,
        user(DAVE.arn or "", PROJECTS_ONLY, ALLOW_ALL_S3),
        "s3:ListBucket",
        DENY,
        prefix="examplefolder",
    ),
    Vector(
        "listing without a prefix: StringNotEquals on an absent key denies",
        KEYS_PAGE,
        user(DAVE.arn or "", PROJECTS_ONLY, ALLOW_ALL_S3),
        "s3:ListBucket",
        DENY,
    ),
    # --- principals -------------------------------------------------------------------------
    Vector(
        "account principal: cross-account user with identity allow",
        PRINCIPAL_PAGE,
        user("arn:aws:iam::555555555555:user/Ann", ALLOW_ALL_S3),
        "s3:GetObject",
        ALLOW,
        key="k",
        bucket="shared",
        bucket_account="999999999999",
        bucket_policy=ACCOUNT_GRANT,
    ),
    Vector(
        "account principal delegates: no identity allow, no access",
        PRINCIPAL_PAGE,
        user("arn:aws:iam::555555555555:user/Ann"),
        "s3:GetObject",
        DENY,
        key="k",
        bucket="shared",
        bucket_account="999999999999",
        bucket_policy=ACCOUNT_GRANT,
    ),
    Vector(
        "aws:PrincipalArn exception keeps the named user",
        PRINCIPAL_PAGE,
        user("arn:aws:iam::444455556666:user/user-name", ALLOW_ALL_S3),
        "s3:GetObject",
        ALLOW,
        key="k",
        bucket="BUCKETNAME",
        bucket_account="444455556666",
        bucket_policy=ONLY_USER_NAME,
    ),
    Vector(
        "aws:PrincipalArn exception denies everyone else",
        PRINCIPAL_PAGE,
        user("arn:aws:iam::444455556666:user/other", ALLOW_ALL_S3),
        "s3:GetObject",
        DENY,
        key="k",
        bucket="BUCKETNAME",
        bucket_account="444455556666",
        bucket_policy=ONLY_USER_NAME,
    ),
    Vector(
        "aws:PrincipalArn absent for anonymous: denied",
        PRINCIPAL_PAGE,
        ANONYMOUS,
        "s3:GetObject",
        DENY,
        key="k",
        bucket="BUCKETNAME",
        bucket_account="444455556666",
        bucket_policy=ONLY_USER_NAME,
    ),
    Vector(
        "NotPrincipal with user and account: Bob not denied",
        NOTPRINCIPAL_PAGE,
        user("arn:aws:iam::444455556666:user/Bob", ALLOW_ALL_S3),
        "s3:GetObject",
        ALLOW,
        key="k",
        bucket="BUCKETNAME",
        bucket_account="111122223333",
        bucket_policy=NOT_BOB_WITH_GRANT,
    ),
    Vector(
        "NotPrincipal denies principals it does not name",
        NOTPRINCIPAL_PAGE,
        user("arn:aws:iam::111122223333:user/Carol", ALLOW_ALL_S3),
        "s3:GetObject",
        DENY,
        key="k",
        bucket="BUCKETNAME",
        bucket_account="111122223333",
        bucket_policy=NOT_BOB_WITH_GRANT,
    ),
    Vector(
        "NotPrincipal naming only the user is ambiguous",
        NOTPRINCIPAL_PAGE,
        user("arn:aws:iam::444455556666:user/Bob", ALLOW_ALL_S3),
        "s3:GetObject",
        UNKNOWN,
        key="k",
        bucket="BUCKETNAME",
        bucket_account="111122223333",
        bucket_policy=NOT_BOB_ONLY_WITH_GRANT,
    ),
    # --- NotResource, NotAction, Resource ---------------------------------------------------
    Vector(
        "NotResource deny leaves Payroll allowed",
        NOTRESOURCE_PAGE,
        user(ALICE.arn or "", HR_PAYROLL),
        "s3:GetObject",
        ALLOW,
        key="Payroll/jan.csv",
        bucket="HRBucket",
    ),
    Vector(
        "NotResource deny covers everything else",
        NOTRESOURCE_PAGE,
        user(ALICE.arn or "", HR_PAYROLL),
        "s3:GetObject",
        DENY,
        key="Marketing/plan.doc",
        bucket="HRBucket",
    ),
    Vector(
        "NotAction allow: GetObject is not DeleteBucket",
        NOTACTION_PAGE,
        user(ALICE.arn or "", NOT_DELETE_BUCKET),
        "s3:GetObject",
        ALLOW,
        key="k",
        bucket="any-bucket",
    ),
    Vector(
        "Resource bucket/* covers objects",
        RESOURCE_PAGE,
        user(ALICE.arn or "", CORPORATE),
        "s3:GetObject",
        ALLOW,
        key="reports/2020.csv",
        bucket="my_corporate_bucket",
    ),
    Vector(
        "Resource bucket/* does not cover the bucket",
        RESOURCE_PAGE,
        user(ALICE.arn or "", CORPORATE),
        "s3:ListBucket",
        DENY,
        prefix="",
        bucket="my_corporate_bucket",
    ),
]


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_documented_example(vector: Vector) -> None:
    assert vector.source.startswith("https://docs.aws.amazon.com/")
    request = Request(
        vector.principal,
        vector.action,
        vector.bucket,
        vector.bucket_account,
        key=vector.key,
        prefix=vector.prefix,
        access_point=vector.via,
        secure_transport=vector.tls,
    )
    result = evaluate(
        request,
        access_point_policy=compile_policy(
            vector.ap_policy, PolicyRef("access point policy", "ap")
        ),
        bucket_policy=compile_policy(vector.bucket_policy, PolicyRef("bucket policy", "b")),
    )
    assert result.decision is vector.expected, result.because()
    if vector.expected is Decision.UNKNOWN:
        assert result.reasons, "an unknown decision always says why"


IDENTITY_ONLY = [
    ("AllowGetList allows iam:GetUser", EVAL_PAGE, EXPLICIT_IMPLICIT, "iam:GetUser", ALLOW),
    (
        "iam:CreatePolicy is implicitly denied",
        EVAL_PAGE,
        EXPLICIT_IMPLICIT,
        "iam:CreatePolicy",
        DENY,
    ),
    (
        "DenyReports beats AllowGetList",
        EVAL_PAGE,
        EXPLICIT_IMPLICIT,
        "iam:GetOrganizationsAccessReport",
        DENY,
    ),
    (
        "NotAction on arn:aws:s3:::* does not allow ListAllMyBuckets",
        NOTACTION_PAGE,
        NOT_DELETE_BUCKET,
        "s3:ListAllMyBuckets",
        DENY,
    ),
    ("ec2:InstanceType is not modeled", COND_PAGE, RUN_INSTANCES, "ec2:RunInstances", UNKNOWN),
]


@pytest.mark.parametrize(
    ("name", "source", "policy", "action", "expected"),
    IDENTITY_ONLY,
    ids=[v[0] for v in IDENTITY_ONLY],
)
def test_documented_identity_example(
    name: str, source: str, policy: dict[str, Any], action: str, expected: Decision
) -> None:
    assert source.startswith("https://docs.aws.amazon.com/")
    result = evaluate_identity_only(user(f"arn:aws:iam::{ACCT}:user/u", policy), action, "*")
    assert result.decision is expected, result.because()


def test_explicit_deny_names_the_statement() -> None:
    """EVAL_PAGE: the DenyS3Logs statement is what denies Carlos."""
    request = Request(CARLOS, "s3:PutObject", "carlossalazar-logs", ACCT, key="f.txt")
    result = evaluate(request)
    assert [r.sid for r in result.denied_by] == ["DenyS3Logs"]
    assert "DenyS3Logs" in result.because()


@pytest.mark.parametrize(("operator", "expected"), [("StringLike", Tri.YES), ("ArnLike", Tri.NO)])
def test_arn_operators_match_component_by_component(operator: str, expected: Tri) -> None:
    """COND_PAGE: StringLike matches across colons where ArnLike does not."""
    clause = compile_clause(
        operator, "aws:SourceArn", "arn:aws:someservice:*:111122223333:finance/*", variables=True
    )
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    ctx = Context({"aws:sourcearn": value}, frozenset({"aws:sourcearn"}))
    assert clause.evaluate(ctx)[0] is expected


def test_if_exists_treats_an_absent_key_as_true() -> None:
    """COND_PAGE (...IfExists): a missing key does not make the condition fail."""
    clause = compile_clause("StringLikeIfExists", "s3:prefix", "home/*", variables=True)
    assert clause.evaluate(Context({}, frozenset({"s3:prefix"})))[0] is Tri.YES
    plain = compile_clause("StringLike", "s3:prefix", "home/*", variables=True)
    assert plain.evaluate(Context({}, frozenset({"s3:prefix"})))[0] is Tri.NO
    negated = compile_clause("StringNotLike", "s3:prefix", "home/*", variables=True)
    assert negated.evaluate(Context({}, frozenset({"s3:prefix"})))[0] is Tri.YES
