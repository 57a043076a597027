"""`reconcile import` writes bucket.data_events_trail back, pure: which event selectors record a
bucket's object-level reads and writes (reconciler.documents.data_events, read against the
CloudTrail API Reference's AdvancedFieldSelector and DataResource pages), and what the importer
writes for no trail, one, several, a foreign selector, basic selectors, a trail it could not
read, trails it could not list, and a trail named with --trail. Every file it writes loads."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.config.loader import load_config_text
from reconciler.documents.data_events import (
    advanced_coverage,
    basic_coverage,
    own_selector_name,
    trail_coverage,
)
from reconciler.importer import Discovery, FoundTrail, TrailSearch, import_config
from reconciler.model import Config

ACCOUNT = "123456789012"
REGION = "eu-west-2"
BUCKET = "trial-share"
OBJECTS = f"arn:aws:s3:::{BUCKET}/"


def advanced(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {"Name": name, "FieldSelectors": list(fields)}


DATA = {"Field": "eventCategory", "Equals": ["Data"]}
OBJECT = {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}
MANAGEMENT = advanced("Management events", {"Field": "eventCategory", "Equals": ["Management"]})


def arn(operator: str, *values: str) -> dict[str, Any]:
    return {"Field": "resources.ARN", operator: list(values)}


def ours() -> dict[str, Any]:
    """The selector `reconcile apply` writes (reconciler.plan.baseline.data_events_selector)."""
    return advanced(own_selector_name(BUCKET), DATA, OBJECT, arn("StartsWith", OBJECTS))


# --- advanced event selectors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reads", "writes", "partial"),
    [
        # the bucket's objects, by its ARN with the trailing slash (API Reference's own example)
        ((DATA, OBJECT, arn("StartsWith", OBJECTS)), True, True, False),
        # no resources.ARN: every bucket of the account
        ((DATA, OBJECT), True, True, False),
        # a shorter prefix still starts every object ARN of the bucket
        ((DATA, OBJECT, arn("StartsWith", "arn:aws:s3:::")), True, True, False),
        # one value of several (values are ORed)
        ((DATA, OBJECT, arn("StartsWith", "arn:aws:s3:::other/", OBJECTS)), True, True, False),
        # reads only / writes only
        ((DATA, OBJECT, {"Field": "readOnly", "Equals": ["true"]}), True, False, True),
        ((DATA, OBJECT, {"Field": "readOnly", "Equals": ["false"]}), False, True, True),
        # a folder of the bucket, or exact objects (Equals names one object ARN): only part
        ((DATA, OBJECT, arn("StartsWith", f"{OBJECTS}Alice/")), False, False, True),
        ((DATA, OBJECT, arn("Equals", f"{OBJECTS}report.csv")), False, False, True),
        # some event names only
        ((DATA, OBJECT, {"Field": "eventName", "Equals": ["PutObject"]}), False, False, True),
        # every bucket but some objects of this one
        ((DATA, OBJECT, arn("NotStartsWith", f"{OBJECTS}tmp/")), False, False, True),
        # every bucket but another one: all of this one
        ((DATA, OBJECT, arn("NotStartsWith", "arn:aws:s3:::other/")), True, True, False),
        ((DATA, OBJECT, arn("NotEquals", "arn:aws:s3:::other/x")), True, True, False),
    ],
)
def test_what_an_advanced_selector_records_of_the_bucket(
    fields: tuple[dict[str, Any], ...], reads: bool, writes: bool, partial: bool
) -> None:
    found = advanced_coverage(advanced("theirs", *fields), BUCKET)
    assert (found.reads, found.writes, bool(found.partial)) == (reads, writes, partial)
    assert not found.own


@pytest.mark.parametrize(
    "fields",
    [
        (DATA, OBJECT, arn("StartsWith", "arn:aws:s3:::other/")),  # another bucket
        (DATA, OBJECT, arn("StartsWith", f"arn:aws:s3:::{BUCKET}-logs/")),  # a longer name
        (DATA, OBJECT, arn("NotStartsWith", OBJECTS)),  # everything but this bucket
        (DATA, {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}),
        ({"Field": "eventCategory", "Equals": ["Management"]},),
        # the operators of one field selector are ANDed: all buckets, but not this one
        (DATA, OBJECT, {**arn("StartsWith", "arn:aws:s3:::"), "NotStartsWith": [OBJECTS]}),
    ],
)
def test_selectors_that_record_nothing_of_the_bucket(fields: tuple[dict[str, Any], ...]) -> None:
    found = advanced_coverage(advanced("theirs", *fields), BUCKET)
    assert (found.reads, found.writes, found.partial) == (False, False, ())


def test_the_tools_own_selector_is_recognised_by_its_name() -> None:
    found = advanced_coverage(ours(), BUCKET)
    assert found.complete and found.own and found.by == (f"reconciler:{BUCKET}",)
    # edited by hand to record less, it is still ours (the plan puts it back)
    narrowed = advanced(own_selector_name(BUCKET), DATA, OBJECT, arn("StartsWith", f"{OBJECTS}a/"))
    assert advanced_coverage(narrowed, BUCKET).own
    assert not advanced_coverage(narrowed, BUCKET).complete


def test_reads_and_writes_from_two_selectors_make_a_complete_trail() -> None:
    reads = advanced("reads", DATA, OBJECT, {"Field": "readOnly", "Equals": ["true"]})
    writes = advanced("writes", DATA, OBJECT, {"Field": "readOnly", "Equals": ["false"]})
    assert trail_coverage(BUCKET, (), [reads, writes]).complete
    assert not trail_coverage(BUCKET, (), [reads, MANAGEMENT]).complete


# --- basic event selectors -----------------------------------------------------------------------


def basic(*values: str, read_write: str = "All", kind: str = "AWS::S3::Object") -> dict[str, Any]:
    return {
        "ReadWriteType": read_write,
        "IncludeManagementEvents": True,
        "DataResources": [{"Type": kind, "Values": list(values)}],
    }


@pytest.mark.parametrize(
    ("selector", "reads", "writes", "partial"),
    [
        (basic(OBJECTS), True, True, False),
        (basic("arn:aws:s3"), True, True, False),  # every bucket (DataResource page)
        (basic(OBJECTS, read_write="ReadOnly"), True, False, True),
        (basic(OBJECTS, read_write="WriteOnly"), False, True, True),
        (basic(f"{OBJECTS}Alice/"), False, False, True),
        (basic("arn:aws:s3:::other/"), False, False, False),
        (basic("arn:aws:lambda", kind="AWS::Lambda::Function"), False, False, False),
        ({"ReadWriteType": "All", "IncludeManagementEvents": True}, False, False, False),
    ],
)
def test_what_a_basic_selector_records_of_the_bucket(
    selector: dict[str, Any], reads: bool, writes: bool, partial: bool
) -> None:
    found = basic_coverage(selector, BUCKET)
    assert (found.reads, found.writes, bool(found.partial)) == (reads, writes, partial)


# --- what import writes --------------------------------------------------------------------------


def trail(name: str, *selectors: dict[str, Any], **kw: Any) -> FoundTrail:
    home = kw.pop("home", REGION)
    return FoundTrail(
        name=name,
        arn=f"arn:aws:cloudtrail:{home}:{ACCOUNT}:trail/{name}",
        home_region=home,
        advanced_event_selectors=selectors,
        **kw,
    )


def prose(text: str) -> str:
    """The file's comments as one line of text, as a person reads them."""
    lines = [line.strip().removeprefix("#").strip() for line in text.splitlines()]
    return " ".join(line for line in lines if line)


def imported(search: TrailSearch | None) -> tuple[str, list[str], Config]:
    found = Discovery(ACCOUNT, REGION, BUCKET, None, (), {}, trails=search)
    result = import_config(found)
    config = load_config_text(result.text.encode(), "imported.yaml")
    return result.text, result.warnings, config


def test_a_trail_holding_the_tools_selector_is_written_back_without_a_comment() -> None:
    text, warnings, config = imported(
        TrailSearch(trails=(trail("audit", MANAGEMENT, ours()), trail("ops", MANAGEMENT)))
    )
    assert config.bucket.data_events_trail == "audit"
    assert "  data_events_trail: audit\n" in text
    assert warnings == []
    line = text.index("  data_events_trail: audit")
    assert "# trail" not in text[:line].splitlines()[-1]


def test_a_foreign_selector_is_adopted_with_a_comment_saying_theirs_stays() -> None:
    theirs = advanced("S3 data", DATA, OBJECT)  # every bucket
    text, warnings, config = imported(TrailSearch(trails=(trail("org-audit", theirs),)))
    assert config.bucket.data_events_trail == "org-audit"
    assert "not the tool's (S3 data)" in prose(text)
    assert f"adds the tool's selector reconciler:{BUCKET} beside it" in prose(text)
    assert warnings == []


def test_several_trails_the_tools_own_wins_and_the_others_are_named() -> None:
    theirs = advanced("S3 data", DATA, OBJECT)
    text, _, config = imported(
        TrailSearch(trails=(trail("a-org", theirs), trail("b-ours", MANAGEMENT, ours())))
    )
    assert config.bucket.data_events_trail == "b-ours"
    assert "trail(s) a-org record them too" in prose(text)


def test_several_foreign_trails_are_listed_for_a_person_to_choose() -> None:
    theirs = advanced("S3 data", DATA, OBJECT)
    text, warnings, config = imported(
        TrailSearch(trails=(trail("a-org", theirs), trail("b-sec", theirs)))
    )
    assert config.bucket.data_events_trail is None
    assert "  # data_events_trail: a-org\n" in text
    assert "several trails record this bucket's object-level reads and writes: a-org, b-sec" in (
        prose(text)
    )
    assert any("several CloudTrail trails" in w for w in warnings)


def test_no_trail_is_a_commented_hint_naming_the_trails_there() -> None:
    reads_only = advanced("reads", DATA, OBJECT, {"Field": "readOnly", "Equals": ["true"]})
    text, warnings, config = imported(
        TrailSearch(
            trails=(
                trail("ops", MANAGEMENT),
                trail("reader", reads_only),
                trail("global", home="us-east-1", read=False),
            )
        )
    )
    assert config.bucket.data_events_trail is None
    assert "  # data_events_trail: ops\n" in text
    flat = prose(text)
    assert f"no trail of this account whose home Region is {REGION} records all" in flat
    assert "Trail reader records only part of them: reads (reads only)." in flat
    assert "Not examined, their home Region is not the bucket's: global (us-east-1)." in flat
    assert "Trails here: ops, reader." in flat
    assert warnings == []
    # and with no trail at all
    text, _, _ = imported(TrailSearch())
    assert "There is no trail here." in prose(text)
    assert "  # data_events_trail: TRAIL-NAME\n" in text


def test_a_trail_with_basic_data_selectors_is_left_as_a_comment() -> None:
    found = FoundTrail(
        name="legacy",
        arn=f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/legacy",
        home_region=REGION,
        event_selectors=(basic(OBJECTS),),
    )
    text, warnings, config = imported(TrailSearch(trails=(found,)))
    assert config.bucket.data_events_trail is None
    assert "  # data_events_trail: legacy\n" in text
    assert "'Switch to advanced event selectors'), then uncomment:" in prose(text)
    assert any("basic event selectors" in w for w in warnings)


def test_listing_denied_is_a_warning_that_says_to_pass_trail() -> None:
    text, warnings, config = imported(
        TrailSearch(problem="cloudtrail:ListTrails: AccessDeniedException: not authorized")
    )
    assert config.bucket.data_events_trail is None
    assert "  # data_events_trail: NAME\n" in text
    assert len(warnings) == 1
    assert "could not list the CloudTrail trails" in warnings[0]
    assert "Pass --trail NAME" in warnings[0]


def test_a_trail_whose_selectors_cannot_be_read_is_a_warning() -> None:
    denied = trail("locked", problem="AccessDeniedException: no")
    _, warnings, config = imported(TrailSearch(trails=(denied, trail("audit", ours()))))
    assert config.bucket.data_events_trail == "audit"
    assert warnings == [
        "trail locked: its event selectors could not be read (AccessDeniedException: no); "
        "whether it records this bucket's object-level events is not known"
    ]


def test_a_named_trail_is_written_as_asked_saying_what_it_records_now() -> None:
    text, warnings, config = imported(TrailSearch(trails=(trail("ops", MANAGEMENT),), named="ops"))
    assert config.bucket.data_events_trail == "ops"
    flat = prose(text)
    assert "trail ops does not record all of this bucket's object-level reads and writes" in flat
    assert f"applying adds the tool's selector reconciler:{BUCKET} to it" in flat
    assert warnings == []
    denied = trail("ops", problem="AccessDeniedException: no")
    text, warnings, config = imported(TrailSearch(trails=(denied,), named="ops"))
    assert config.bucket.data_events_trail == "ops"
    assert warnings and "could not be read" in warnings[0]


def test_not_looked_at_writes_nothing_about_trails() -> None:
    text, warnings, config = imported(None)
    assert "data_events_trail" not in text and warnings == []
    assert config.bucket.data_events_trail is None
