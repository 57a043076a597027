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
        }
    }
    status, detail = check(config, cloud, BucketCheckName.LIFECYCLE)
    assert status is Status.OK and "7 days" in detail


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
    assert set(rules(cloud)) == {ABORT, NONCURRENT, "scratch-cleanup"}
    assert rules(cloud)[NONCURRENT] == {
        "Filter": {},
        "Status": "Enabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
    }
    # and back: our noncurrent rule goes, the foreign one stays
    converge(config, cloud)
    assert set(rules(cloud)) == {ABORT, "scratch-cleanup"}


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
        ],
    }
    cloud.buckets[BUCKET]["lifecycle"] = canonical_lifecycle(returned)
    assert set(rules(cloud)) == {ABORT, "(no ID 2)"}
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
