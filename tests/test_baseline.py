"""The bucket baseline of issue 21 against the in-memory fake: versioning, lifecycle, server
access logging, CloudTrail data events, KMS key rotation. Each is planned when it differs,
applied, and planned no more once applied; what the tool does not own is kept."""

from __future__ import annotations

from reconciler.access.checks import BucketCheckName, Status, verify
from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.importer import Discovery, import_config
from reconciler.model import Config, ResourceType
from reconciler.plan.changes import Action, Plan
from reconciler.plan.planner import VERSIONING_OFF_WARNING, settings_warnings
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

BUCKET = "clinical-share-123456789012"


def converge(config: Config, cloud: FakeCloud) -> Plan:
    first = plan(config, cloud.read(config))
    result = apply_plan(first, cloud)
    assert result.ok, result.failures
    assert plan(config, cloud.read(config)).is_empty
    return first


def of_type(p: Plan, rtype: ResourceType) -> list[tuple[str, object, object]]:
    return [(c.action.value, c.before, c.after) for c in p.changes if c.type is rtype]


def with_bucket(extra: str) -> Config:
    return config_from(BASE_YAML.replace(f"  name: {BUCKET}\n", f"  name: {BUCKET}\n{extra}"))


def check(config: Config, cloud: FakeCloud, name: BucketCheckName) -> tuple[Status, str]:
    report = verify(config, cloud.read(config))
    found = next(b for b in report.bucket_checks if b.name is name)
    return found.status, found.detail


# --- versioning -------------------------------------------------------------------------------


def test_versioning_is_enabled_by_default_and_kept_enabled(config: Config) -> None:
    cloud = FakeCloud()
    first = converge(config, cloud)
    assert of_type(first, ResourceType.BUCKET_VERSIONING) == [
        ("create", None, {"Status": "Enabled"})
    ]
    assert cloud.buckets[BUCKET]["versioning"] == {"Status": "Enabled"}
    assert check(config, cloud, BucketCheckName.VERSIONING) == (Status.OK, "enabled")
    # suspended by hand: drift, put back
    cloud.buckets[BUCKET]["versioning"] = {"Status": "Suspended"}
    assert check(config, cloud, BucketCheckName.VERSIONING)[0] is Status.FAIL
    drift = plan(config, cloud.read(config))
    assert of_type(drift, ResourceType.BUCKET_VERSIONING) == [
        ("update", {"Status": "Suspended"}, {"Status": "Enabled"})
    ]
    apply_plan(drift, cloud)
    assert cloud.buckets[BUCKET]["versioning"] == {"Status": "Enabled"}


def test_versioning_false_leaves_the_bucket_as_found_and_warns() -> None:
    config = with_bucket("  versioning: false\n")
    cloud = FakeCloud()
    first = converge(config, cloud)
    assert of_type(first, ResourceType.BUCKET_VERSIONING) == []
    assert "versioning" not in cloud.buckets[BUCKET]
    assert settings_warnings(config) == [VERSIONING_OFF_WARNING]
    assert settings_warnings(config_from(BASE_YAML)) == []
    # an enabled bucket stays enabled: the tool never suspends versioning
    cloud.buckets[BUCKET]["versioning"] = {"Status": "Enabled"}
    assert plan(config, cloud.read(config)).is_empty
    status, detail = check(config, cloud, BucketCheckName.VERSIONING)
    assert status is Status.NA and "versioning is enabled" in detail
    assert all(name != "enable_versioning" for name, _ in cloud.calls)


def test_the_writer_interface_has_no_way_to_suspend_versioning() -> None:
    from reconciler.interfaces import Writer

    assert [n for n in dir(Writer) if "versioning" in n] == ["enable_versioning"]


def discovery(**kwargs: object) -> Discovery:
    return Discovery(
        account_id="123456789012",
        region="us-east-1",
        bucket=BUCKET,
        encryption=None,
        access_points=[],
        users={},
        **kwargs,  # type: ignore[arg-type]
    )


def test_import_writes_versioning_back() -> None:
    on = config_from(import_config(discovery(versioning={"Status": "Enabled"})).text)
    assert on.bucket.versioning is True
    for found in (None, {"Status": "Suspended"}):
        off = config_from(import_config(discovery(versioning=found)).text)
        assert off.bucket.versioning is False


# --- lifecycle --------------------------------------------------------------------------------

ABORT = "reconciler-abort-incomplete-multipart-uploads"
NONCURRENT = "reconciler-expire-noncurrent-versions"
FOREIGN_RULE = {
    "Filter": {"Prefix": "scratch/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}


def rules(cloud: FakeCloud) -> dict[str, object]:
    return dict(cloud.buckets[BUCKET]["lifecycle"]["Rules"])


def test_lifecycle_aborts_incomplete_uploads_after_7_days_by_default(config: Config) -> None:
    cloud = FakeCloud()
    converge(config, cloud)
    assert rules(cloud) == {
        ABORT: {
            "Filter": {},
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
        LOCK_VERSIONS: LOCK_RULE,
    }
    status, detail = check(config, cloud, BucketCheckName.LIFECYCLE)
    assert status is Status.OK and "7 days" in detail


LOCK_VERSIONS = "reconciler-expire-lock-versions"
# the lock object is created and deleted by every apply: on a versioned bucket each run leaves a
# noncurrent version and a delete marker, which this rule (on the lock's key only) removes
LOCK_RULE = {
    "Filter": {"Prefix": ".reconciler/apply.lock"},
    "Status": "Enabled",
    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    "Expiration": {"ExpiredObjectDeleteMarker": True},
}


def test_the_lock_s_old_versions_expire_only_where_the_lock_lives_in_the_shared_bucket() -> None:
    cloud = FakeCloud()
    converge(with_bucket(""), cloud)
    assert rules(cloud)[LOCK_VERSIONS] == LOCK_RULE
    status, detail = check(with_bucket(""), cloud, BucketCheckName.LIFECYCLE)
    assert status is Status.OK and "lock's old versions expire after 1 day" in detail
    # the lock in a bucket of its own: nothing of the tool's accumulates in the shared bucket
    elsewhere = config_from(BASE_YAML + "lock:\n  bucket: ops-locks\n  key: share/apply.lock\n")
    moved = FakeCloud()
    converge(elsewhere, moved)
    assert LOCK_VERSIONS not in rules(moved)
    # the lock named in the shared bucket by its own name: the same rule
    named = config_from(BASE_YAML + f"lock:\n  bucket: {BUCKET}\n")
    converge(named, same := FakeCloud())
    assert rules(same)[LOCK_VERSIONS] == LOCK_RULE
    # a lock key outside .reconciler/ (here "a"): other files may start with it, so no rule
    short = FakeCloud()
    converge(config_from(BASE_YAML + "lock:\n  key: a\n"), short)
    assert LOCK_VERSIONS not in rules(short)
    # versioning left as found (perhaps turned on by hand): the rule is kept all the same
    unversioned = FakeCloud()
    converge(with_bucket("  versioning: false\n"), unversioned)
    assert rules(unversioned)[LOCK_VERSIONS] == LOCK_RULE
    # a hand-edited rule is drift, repaired like the others
    cloud.buckets[BUCKET]["lifecycle"]["Rules"][LOCK_VERSIONS]["Filter"] = {"Prefix": ""}
    status, detail = check(with_bucket(""), cloud, BucketCheckName.LIFECYCLE)
    assert status is Status.FAIL and LOCK_VERSIONS in detail
    converge(with_bucket(""), cloud)
    assert rules(cloud)[LOCK_VERSIONS] == LOCK_RULE


def test_lifecycle_keeps_every_rule_it_did_not_write(config: Config) -> None:
    cloud = FakeCloud()
    converge(config, cloud)
    # someone adds a rule of their own and edits ours by hand
    cloud.buckets[BUCKET]["lifecycle"]["Rules"]["scratch-cleanup"] = FOREIGN_RULE
    cloud.buckets[BUCKET]["lifecycle"]["Rules"][ABORT]["Status"] = "Disabled"
    drift = plan(config, cloud.read(config))
    [change] = [c for c in drift.changes if c.type is ResourceType.BUCKET_LIFECYCLE]
    assert change.action is Action.UPDATE
    assert change.after["Rules"]["scratch-cleanup"] == FOREIGN_RULE
    apply_plan(drift, cloud)
    assert rules(cloud)["scratch-cleanup"] == FOREIGN_RULE
    assert rules(cloud)[ABORT]["Status"] == "Enabled"  # type: ignore[index]
    # the YAML changes: noncurrent versions expire; the foreign rule is still kept
    longer = with_bucket(
        "  lifecycle:\n    abort_incomplete_multipart_upload_days: 3\n"
        "    noncurrent_version_expiration_days: 365\n"
    )
    converge(longer, cloud)
    assert set(rules(cloud)) == {ABORT, NONCURRENT, LOCK_VERSIONS, "scratch-cleanup"}
    assert rules(cloud)[NONCURRENT] == {
        "Filter": {},
        "Status": "Enabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
    }
    # and back: our noncurrent rule goes, the foreign one stays
    converge(config, cloud)
    assert set(rules(cloud)) == {ABORT, LOCK_VERSIONS, "scratch-cleanup"}


def test_lifecycle_filters_s3_treats_alike_plan_nothing(config: Config) -> None:
    from reconciler.model import canonical_lifecycle

    cloud = FakeCloud()
    converge(config, cloud)
    returned = {
        "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K",
        "Rules": [
            {
                "ID": ABORT,
                "Filter": {"Prefix": ""},
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
            {"Filter": {"Prefix": "x/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
            {"ID": LOCK_VERSIONS, **LOCK_RULE},
        ],
    }
    cloud.buckets[BUCKET]["lifecycle"] = canonical_lifecycle(returned)
    assert set(rules(cloud)) == {ABORT, "(no ID 2)", LOCK_VERSIONS}
    assert plan(config, cloud.read(config)).is_empty


def test_lifecycle_request_writes_foreign_rules_back_as_they_were() -> None:
    from reconciler.aws.writer import lifecycle_request

    value = {
        "Rules": {"(no ID 1)": FOREIGN_RULE, "keep": FOREIGN_RULE, ABORT: {"Status": "Enabled"}},
        "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
    }
    assert lifecycle_request(value) == {
        "LifecycleConfiguration": {
            "Rules": [
                FOREIGN_RULE,
                {"ID": "keep", **FOREIGN_RULE},
                {"ID": ABORT, "Status": "Enabled"},
            ]
        },
        "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
    }


# --- server access logging --------------------------------------------------------------------

LOG_BUCKET = "clinical-share-logs-123456789012"
LOG_SID = "ReconcilerServerAccessLogsFromClinicalShare123456789012"
FOREIGN_STATEMENT = {
    "Sid": "AuditorsRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/Auditor"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
}


def logged(manage: bool, prefix: str = "clinical-share/") -> Config:
    return with_bucket(
        f"  access_logs:\n    bucket: {LOG_BUCKET}\n    prefix: {prefix}\n"
        f"    manage_policy: {'true' if manage else 'false'}\n"
    )


def cloud_with_log_bucket(policy: dict[str, object] | None = None) -> FakeCloud:
    cloud = FakeCloud()
    cloud.buckets[LOG_BUCKET] = {"region": "us-east-1"}
    if policy is not None:
        cloud.buckets[LOG_BUCKET]["policy"] = policy
    return cloud


def test_access_logs_with_manage_policy_keep_their_statement_and_every_other() -> None:
    config = logged(manage=True)
    cloud = cloud_with_log_bucket({"Version": "2012-10-17", "Statement": [FOREIGN_STATEMENT]})
    first = converge(config, cloud)
    assert of_type(first, ResourceType.BUCKET_LOGGING) == [
        ("create", None, {"TargetBucket": LOG_BUCKET, "TargetPrefix": "clinical-share/"})
    ]
    statements = {s["Sid"]: s for s in cloud.buckets[LOG_BUCKET]["policy"]["Statement"]}
    assert statements["AuditorsRead"] == FOREIGN_STATEMENT
    assert statements[LOG_SID] == {
        "Sid": LOG_SID,
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{LOG_BUCKET}/clinical-share/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{BUCKET}"},
            "StringEquals": {"aws:SourceAccount": "123456789012"},
        },
    }
    assert check(config, cloud, BucketCheckName.ACCESS_LOGS)[0] is Status.OK
    # logging turned off by hand, our statement removed by hand: both come back
    del cloud.buckets[BUCKET]["logging"]
    cloud.buckets[LOG_BUCKET]["policy"]["Statement"] = [FOREIGN_STATEMENT]
    assert check(config, cloud, BucketCheckName.ACCESS_LOGS)[0] is Status.FAIL
    drift = plan(config, cloud.read(config))
    assert {c.type for c in drift.changes} == {
        ResourceType.BUCKET_LOGGING,
        ResourceType.LOG_BUCKET_POLICY,
    }
    converge(config, cloud)
    assert len(cloud.buckets[LOG_BUCKET]["policy"]["Statement"]) == 2


def test_access_logs_without_manage_policy_say_exactly_what_is_missing() -> None:
    config = logged(manage=False)
    cloud = cloud_with_log_bucket({"Version": "2012-10-17", "Statement": [FOREIGN_STATEMENT]})
    result = plan(config, cloud.read(config))
    [error] = result.errors
    assert error.startswith(
        f"bucket.access_logs: the policy of log bucket {LOG_BUCKET} does not let S3 deliver"
    )
    assert "logging.s3.amazonaws.com" in error and "manage_policy: true" in error
    assert f'"Sid": "{LOG_SID}"' in error
    assert not any(c.type is ResourceType.LOG_BUCKET_POLICY for c in result.changes)


def statement_with(**changes: object) -> dict[str, object]:
    base = {
        "Sid": "S3ServerAccessLogsPolicy",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": ["s3:PutObject"],
        "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_log_bucket_policy_written_by_hand_is_recognised_only_when_it_suffices() -> None:
    from reconciler.documents.log_delivery import allows_log_delivery

    config = logged(manage=False)
    ok = [
        statement_with(),
        statement_with(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3:::clinical-*"}}),
        statement_with(Resource=f"arn:aws:s3:::{LOG_BUCKET}/clinical-share/*", Action="s3:*"),
    ]
    not_enough = [
        statement_with(Condition=None),  # any bucket of any account could log into it
        statement_with(Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}}),
        statement_with(Resource=f"arn:aws:s3:::{LOG_BUCKET}/other/*"),
        statement_with(Principal={"Service": "delivery.logs.amazonaws.com"}),
        statement_with(Effect="Deny"),
        statement_with(Action="s3:GetObject"),
        statement_with(Condition={"Bool": {"aws:SecureTransport": "true"}}),
    ]
    for statement in ok:
        assert allows_log_delivery({"Statement": [statement]}, config), statement
    for statement in not_enough:
        assert not allows_log_delivery({"Statement": [statement]}, config), statement
    cloud = cloud_with_log_bucket({"Version": "2012-10-17", "Statement": [statement_with()]})
    converge(config, cloud)  # no error, and the log bucket's policy is never written
    assert all(args[0] != LOG_BUCKET for name, args in cloud.calls)


def test_a_missing_or_foreign_log_bucket_is_a_plan_error() -> None:
    config = logged(manage=True)
    [missing] = plan(config, FakeCloud().read(config)).errors
    assert missing.startswith(f"bucket.access_logs: log bucket {LOG_BUCKET} does not exist")
    cloud = cloud_with_log_bucket()
    cloud.buckets[LOG_BUCKET]["region"] = "eu-west-2"
    [elsewhere] = plan(config, cloud.read(config)).errors
    assert "is in Region eu-west-2" in elsewhere
    cloud.buckets[LOG_BUCKET].update(region="us-east-1", account="999999999999")
    [foreign] = plan(config, cloud.read(config)).errors
    assert "of another account" in foreign


def test_the_shared_bucket_cannot_be_its_own_log_bucket() -> None:
    import pytest

    from reconciler.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        with_bucket(f"  access_logs:\n    bucket: {BUCKET}\n")
    assert "bucket.access_logs.bucket: is the shared bucket itself" in str(raised.value)


def test_access_logs_prefix_defaults_to_the_bucket_name() -> None:
    config = with_bucket(f"  access_logs:\n    bucket: {LOG_BUCKET}\n")
    assert config.bucket.access_logs is not None
    assert config.bucket.access_logs.prefix == f"{BUCKET}/"
    assert config.bucket.access_logs.manage_policy is False


def test_import_writes_lifecycle_and_access_logs_back() -> None:
    found = discovery(
        versioning={"Status": "Enabled"},
        lifecycle={
            "Rules": {ABORT: {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}}
        },
        logging={"TargetBucket": LOG_BUCKET, "TargetPrefix": "logs/"},
    )
    config = config_from(import_config(found).text)
    assert config.bucket.lifecycle.abort_incomplete_multipart_upload_days == 3
    assert config.bucket.access_logs is not None
    assert (config.bucket.access_logs.bucket, config.bucket.access_logs.prefix) == (
        LOG_BUCKET,
        "logs/",
    )


# --- CloudTrail data events -------------------------------------------------------------------

TRAIL = "org-trail"
OURS = {
    "Name": f"reconciler:{BUCKET}",
    "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{BUCKET}/"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ],
}
LAMBDA_SELECTOR = {
    "Name": "lambda invocations",
    "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
    ],
}
# what CloudTrail gives every trail created without event selectors
DEFAULT_BASIC = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}
TRAILED = with_bucket(f"  data_events_trail: {TRAIL}\n")


def advanced(cloud: FakeCloud) -> list[dict[str, object]]:
    return list(cloud.trails[TRAIL]["advanced"])


def test_the_trail_gets_one_selector_for_the_bucket_and_keeps_the_others() -> None:
    cloud = FakeCloud(trails={TRAIL: {"basic": [], "advanced": [LAMBDA_SELECTOR]}})
    first = converge(TRAILED, cloud)
    assert [
        c.action.value for c in first.changes if c.type is ResourceType.TRAIL_EVENT_SELECTORS
    ] == ["update"]
    assert advanced(cloud) == [LAMBDA_SELECTOR, OURS]
    assert check(TRAILED, cloud, BucketCheckName.DATA_EVENTS)[0] is Status.OK
    # someone narrows ours to writes only: drift, put back in place
    cloud.trails[TRAIL]["advanced"][1] = {
        **OURS,
        "FieldSelectors": [*OURS["FieldSelectors"], {"Field": "readOnly", "Equals": ["false"]}],
    }
    assert check(TRAILED, cloud, BucketCheckName.DATA_EVENTS)[0] is Status.FAIL
    converge(TRAILED, cloud)
    assert advanced(cloud) == [LAMBDA_SELECTOR, OURS]


def test_a_new_trails_management_selector_becomes_its_exact_advanced_form() -> None:
    cloud = FakeCloud(trails={TRAIL: {"basic": [DEFAULT_BASIC], "advanced": []}})
    first = plan(TRAILED, cloud.read(TRAILED))
    assert any("become the advanced selectors" in w for w in first.warnings)
    converge(TRAILED, cloud)
    management = {
        "Name": "Management events",
        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
    }
    assert advanced(cloud) == [management, OURS]


def test_basic_selectors_translate_only_where_the_translation_is_exact() -> None:
    from reconciler.plan.baseline import translate_basic

    write_only = {**DEFAULT_BASIC, "ReadWriteType": "WriteOnly"}
    no_kms = {**DEFAULT_BASIC, "ExcludeManagementEventSources": ["kms.amazonaws.com"]}
    assert translate_basic(write_only) == [
        {
            "Name": "Management events",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "readOnly", "Equals": ["false"]},
            ],
        }
    ]
    assert translate_basic(no_kms) == [
        {
            "Name": "Management events",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
            ],
        }
    ]
    assert translate_basic({**DEFAULT_BASIC, "IncludeManagementEvents": False}) == []
    with_data = {
        **DEFAULT_BASIC,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::other/"]}],
    }
    assert translate_basic(with_data) is None


def test_a_trail_with_basic_data_event_selectors_is_refused_not_rewritten() -> None:
    with_data = {
        **DEFAULT_BASIC,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::other/"]}],
    }
    cloud = FakeCloud(trails={TRAIL: {"basic": [with_data], "advanced": []}})
    result = plan(TRAILED, cloud.read(TRAILED))
    [error] = result.errors
    assert error.startswith(f"bucket.data_events_trail: trail {TRAIL} uses basic event selectors")
    assert "Switch to advanced event selectors" in error
    assert not any(c.type is ResourceType.TRAIL_EVENT_SELECTORS for c in result.changes)


def test_a_missing_trail_is_a_plan_error_with_the_reason() -> None:
    [error] = plan(TRAILED, FakeCloud().read(TRAILED)).errors
    assert error.startswith(f"bucket.data_events_trail: trail {TRAIL} was not found")
    assert "us-east-1 of account 123456789012" in error and "never creates trails" in error


def test_the_emulator_keeps_cloudtrails_rules_for_event_selectors() -> None:
    """reconciler/aws/emulator/cloudtrail_selectors.py, installed by tests/conftest.py."""
    import boto3
    import pytest
    from botocore.exceptions import ClientError
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="trail-logs-123")
        trails = boto3.client("cloudtrail", region_name="us-east-1")
        trails.create_trail(Name=TRAIL, S3BucketName="trail-logs-123")
        fresh = trails.get_event_selectors(TrailName=TRAIL)
        assert fresh["EventSelectors"] == [DEFAULT_BASIC]
        assert not fresh.get("AdvancedEventSelectors")
        trails.put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=[OURS])
        now = trails.get_event_selectors(TrailName=TRAIL)
        assert not now.get("EventSelectors") and now["AdvancedEventSelectors"] == [OURS]
        trails.put_event_selectors(TrailName=TRAIL, EventSelectors=[DEFAULT_BASIC])
        assert not trails.get_event_selectors(TrailName=TRAIL).get("AdvancedEventSelectors")
        refused = [
            {"EventSelectors": [DEFAULT_BASIC], "AdvancedEventSelectors": [OURS]},
            {"AdvancedEventSelectors": [{"FieldSelectors": [OURS["FieldSelectors"][1]]}]},
            {
                "AdvancedEventSelectors": [
                    {
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "nonsense", "Equals": ["x"]},
                        ]
                    }
                ]
            },
            {"EventSelectors": [DEFAULT_BASIC] * 6},
        ]
        for request in refused:
            with pytest.raises(ClientError) as raised:
                trails.put_event_selectors(TrailName=TRAIL, **request)
            assert raised.value.response["Error"]["Code"] in {
                "InvalidParameterCombinationException",
                "InvalidEventSelectorsException",
            }, request
        with pytest.raises(ClientError) as missing:
            trails.get_event_selectors(TrailName="no-such-trail")
        assert missing.value.response["Error"]["Code"] == "TrailNotFoundException"


# --- KMS key rotation -------------------------------------------------------------------------

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def kms_config(manage: bool) -> Config:
    return with_bucket(
        f"  encryption: aws:kms\n  kms_key_id: {KEY}\n"
        f"  manage_key_policy: {'true' if manage else 'false'}\n"
    )


def key_cloud(rotation: bool) -> FakeCloud:
    from reconciler.access.desired import default_key_policy

    policy = default_key_policy("123456789012")
    return FakeCloud(keys={KEY: {"policy": policy, "rotation": rotation}})


def test_with_manage_key_policy_rotation_is_turned_on_and_kept_on() -> None:
    config = kms_config(manage=True)
    cloud = key_cloud(rotation=False)
    first = converge(config, cloud)
    assert [
        (c.action.value, c.id, c.after)
        for c in first.changes
        if c.type is ResourceType.KMS_KEY_ROTATION
    ] == [("update", KEY, {"KeyRotationEnabled": True})]
    assert cloud.keys[KEY]["rotation"] is True
    assert check(config, cloud, BucketCheckName.KMS_ROTATION) == (
        Status.OK,
        "automatic rotation on",
    )


def test_without_manage_key_policy_rotation_off_is_a_warning_only() -> None:
    config = kms_config(manage=False)
    cloud = key_cloud(rotation=False)
    result = plan(config, cloud.read(config))
    assert not any(c.type is ResourceType.KMS_KEY_ROTATION for c in result.changes)
    assert any(w.startswith(f"automatic rotation of KMS key {KEY} is off") for w in result.warnings)
    converge(config, cloud)
    assert cloud.keys[KEY]["rotation"] is False
    assert check(config, cloud, BucketCheckName.KMS_ROTATION)[0] is Status.NA
    on = key_cloud(rotation=True)
    assert not any("automatic rotation" in w for w in plan(config, on.read(config)).warnings)


def test_the_read_only_role_reads_rotation_and_only_the_apply_role_enables_it() -> None:
    from reconciler.documents.iam_policy import tool_policy

    for manage in (True, False):
        config = kms_config(manage)
        read = tool_policy(config, read_only=True).document["Statement"]
        apply = tool_policy(config, read_only=False).document["Statement"]
        [reading] = [s for s in read if "kms:GetKeyRotationStatus" in s["Action"]]
        assert reading["Resource"] == KEY
        enabling = [s for s in apply if "kms:EnableKeyRotation" in s["Action"]]
        assert [s["Resource"] for s in enabling] == ([KEY] if manage else [])
        assert not any("kms:EnableKeyRotation" in s["Action"] for s in read)


def test_operators_returned_empty_plan_nothing() -> None:
    from reconciler.plan.baseline import canonical_selector

    returned = {
        **OURS,
        "FieldSelectors": [
            {**f, "NotEquals": [], "EndsWith": []} for f in reversed(OURS["FieldSelectors"])
        ],
    }
    assert canonical_selector(returned) == OURS
