"""Which CloudTrail event selectors record a bucket's object-level data events (S3 reads and
writes), for `reconcile import` to write `bucket.data_events_trail` back. Pure.

How CloudTrail reads a selector (its documentation, not this tool's choices):

- Advanced event selectors (CloudTrail API Reference, AdvancedEventSelector and
  AdvancedFieldSelector, https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html;
  CloudTrail User Guide, "Filtering data events by using advanced event selectors",
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/filtering-data-events.html):
  the selectors of a trail are ORed; within one selector the field selectors are ANDed, and so
  are the operators of one field selector, while the values of one operator are ORed.
  `eventCategory` = `Data` and `resources.type` = `AWS::S3::Object` select S3 object events;
  without a `resources.ARN` field every bucket's objects are selected. "To log all data events
  for all objects in a specific S3 bucket, use the StartsWith operator, and include only the
  bucket ARN as the matching value" (`arn:aws:s3:::BUCKET/`, the trailing slash intended);
  Equals and NotEquals name one object's exact ARN. `readOnly` Equals `true` records reads
  only, `false` writes only; without it, both.
- Basic event selectors (CloudTrail API Reference, DataResource,
  https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DataResource.html): a
  DataResource of type `AWS::S3::Object` records the objects whose ARN starts with one of its
  values: `arn:aws:s3` is every bucket, `arn:aws:s3:::BUCKET/` every object of BUCKET,
  `arn:aws:s3:::BUCKET/prefix` only those under the prefix. `ReadWriteType` is `All`,
  `ReadOnly` or `WriteOnly`.

What this module answers is deliberately coarse: does a selector record *every* read (or
write) data event on *every* object of the bucket? A selector that narrows by prefix, object,
event name, caller or any other field records only some of them: it is reported as partial,
never counted as recording the bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

# The name of the tool's own advanced event selector in a trail: `reconciler:<bucket>`.
SELECTOR_NAME_PREFIX = "reconciler:"
S3_OBJECT = "AWS::S3::Object"
_ARN = "resources.ARN"
# fields that say what kind of event a selector is about, read separately below
_KIND_FIELDS = {"eventCategory", "resources.type", "readOnly", _ARN}


def own_selector_name(bucket: str) -> str:
    return f"{SELECTOR_NAME_PREFIX}{bucket}"


def bucket_objects_arn(bucket: str) -> str:
    """The ARN prefix of every object in the bucket."""
    return f"arn:aws:s3:::{bucket}/"


class _Scope(IntEnum):
    """How much of the bucket's objects (or events) a condition lets through."""

    NONE = 0
    PART = 1
    ALL = 2


@dataclass(frozen=True)
class Coverage:
    """What a trail's selectors record of one bucket's object-level data events.

    reads / writes: every read (write) event on every object is recorded. `partial`: the
    selectors that record only some of the bucket's data events (a prefix, one kind of event,
    some event names), described for a person. `own`: the trail holds the tool's own selector
    `reconciler:<bucket>` (whatever it says now). `by`: names of the selectors that record
    the whole bucket."""

    reads: bool = False
    writes: bool = False
    partial: tuple[str, ...] = ()
    own: bool = False
    by: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Every object-level read and write of the bucket is recorded."""
        return self.reads and self.writes

    def __or__(self, other: Coverage) -> Coverage:
        return Coverage(
            reads=self.reads or other.reads,
            writes=self.writes or other.writes,
            partial=self.partial + other.partial,
            own=self.own or other.own,
            by=self.by + other.by,
        )


def trail_coverage(
    bucket: str,
    event_selectors: Iterable[Mapping[str, Any]] = (),
    advanced_event_selectors: Iterable[Mapping[str, Any]] = (),
) -> Coverage:
    """What all of one trail's selectors record of the bucket (a trail holds basic or
    advanced selectors, never both; either list may be empty)."""
    result = Coverage()
    for index, basic in enumerate(event_selectors, start=1):
        result = result | basic_coverage(basic, bucket, index)
    for advanced in advanced_event_selectors:
        result = result | advanced_coverage(advanced, bucket)
    return result


# --- advanced event selectors ------------------------------------------------------------------


def advanced_coverage(selector: Mapping[str, Any], bucket: str) -> Coverage:
    name = str(selector.get("Name") or "(unnamed)")
    own = name == own_selector_name(bucket)
    fields = [f for f in selector.get("FieldSelectors") or [] if isinstance(f, Mapping)]
    if "Data" not in _equals(fields, "eventCategory"):
        return Coverage(own=own)
    if S3_OBJECT not in _equals(fields, "resources.type"):
        return Coverage(own=own)
    scope = min(
        [_Scope.ALL]
        + [_arn_scope(f, bucket) for f in fields if f.get("Field") == _ARN]
        + [_Scope.PART for f in fields if f.get("Field") not in _KIND_FIELDS]
    )
    reads, writes = _read_write(_equals(fields, "readOnly") if _has(fields, "readOnly") else None)
    if scope is _Scope.NONE or not (reads or writes):
        return Coverage(own=own)
    if scope is _Scope.PART:
        return Coverage(own=own, partial=(f"{name} (only some objects or events)",))
    return Coverage(
        reads=reads,
        writes=writes,
        own=own,
        by=(name,),
        partial=() if reads and writes else (f"{name} ({'reads' if reads else 'writes'} only)",),
    )


def _has(fields: list[Mapping[str, Any]], field: str) -> bool:
    return any(f.get("Field") == field for f in fields)


def _equals(fields: list[Mapping[str, Any]], field: str) -> set[str]:
    """The values `field` Equals, ANDed over its field selectors (one usually)."""
    found: set[str] | None = None
    for f in fields:
        if f.get("Field") == field:
            values = {str(v) for v in f.get("Equals") or []}
            found = values if found is None else found & values
    return found or set()


def _read_write(read_only: set[str] | None) -> tuple[bool, bool]:
    """(records reads, records writes) for the readOnly values (None: no readOnly field)."""
    if read_only is None:
        return True, True
    return "true" in read_only, "false" in read_only


def _arn_scope(field: Mapping[str, Any], bucket: str) -> _Scope:
    """One resources.ARN field selector: its operators are ANDed."""
    prefix = bucket_objects_arn(bucket)
    scopes = [_Scope.ALL]
    for operator, values in field.items():
        if operator == "Field" or not values:
            continue
        scopes.append(_operator_scope(operator, [str(v) for v in values], prefix))
    return min(scopes)


def _operator_scope(operator: str, values: list[str], prefix: str) -> _Scope:
    inside = any(v.startswith(prefix) for v in values)  # names objects of this bucket
    if operator == "StartsWith":
        if any(prefix.startswith(v) for v in values):
            return _Scope.ALL
        return _Scope.PART if inside else _Scope.NONE
    if operator == "Equals":  # exact object ARNs
        return _Scope.PART if inside else _Scope.NONE
    if operator == "NotStartsWith":
        if any(prefix.startswith(v) for v in values):
            return _Scope.NONE
        return _Scope.PART if inside else _Scope.ALL
    if operator == "NotEquals":
        return _Scope.PART if inside else _Scope.ALL
    return _Scope.PART  # EndsWith, NotEndsWith, or an operator this tool does not know


# --- basic event selectors ---------------------------------------------------------------------

_READ_WRITE = {"All": (True, True), "ReadOnly": (True, False), "WriteOnly": (False, True)}


def basic_coverage(selector: Mapping[str, Any], bucket: str, index: int = 1) -> Coverage:
    prefix = bucket_objects_arn(bucket)
    name = f"basic event selector {index}"
    values = [
        str(v)
        for resource in selector.get("DataResources") or []
        if resource.get("Type") == S3_OBJECT
        for v in resource.get("Values") or []
    ]
    reads, writes = _READ_WRITE.get(str(selector.get("ReadWriteType", "All")), (False, False))
    if any(prefix.startswith(v) for v in values) and (reads or writes):
        partial = () if reads and writes else (f"{name} ({'reads' if reads else 'writes'} only)",)
        return Coverage(reads=reads, writes=writes, by=(name,), partial=partial)
    if any(v.startswith(prefix) for v in values):
        return Coverage(partial=(f"{name} (only some objects)",))
    return Coverage()


def logs_data_with_basic_selectors(event_selectors: Iterable[Mapping[str, Any]]) -> bool:
    """The trail has basic selectors with data resources: the plan cannot keep the tool's
    advanced selector in it until someone converts them (reconciler.plan.baseline)."""
    return any(s.get("DataResources") for s in event_selectors)
