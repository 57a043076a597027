"""CloudTrail event selectors for moto, which (5.2.5) differs from CloudTrail where this tool
depends on it (bucket.data_events_trail):

- a new trail has no event selectors at all, where CloudTrail gives every trail created without
  them one basic selector logging all read and write management events and no data events
  (CloudTrail API Reference, PutEventSelectors: "By default, trails created without specific
  event selectors are configured to log all read and write management events, and no data
  events");
- PutEventSelectors with basic EventSelectors keeps the advanced ones, and one with both kinds
  is accepted, where a trail holds either basic or advanced selectors, never both ("You cannot
  apply both event selectors and advanced event selectors to a trail"; applying one kind
  replaces the other; both in one request: InvalidParameterCombinationException);
- nothing is validated: CloudTrail refuses (InvalidEventSelectorsException) more than five basic
  selectors, an advanced selector without field selectors or without an `eventCategory` field,
  a field it does not know, and a field selector without any operator (CloudTrail API
  Reference, AdvancedEventSelector, AdvancedFieldSelector).

`install()` changes exactly these, in moto's backend (so the in-process mock, the moto server
of the tests and the sandbox all behave alike). Installing twice changes nothing.
"""

from __future__ import annotations

from typing import Any

_INSTALLED = False
MAX_BASIC_SELECTORS = 5
# AdvancedFieldSelector.Field values for trails (CloudTrail API Reference)
FIELDS = {
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "errorCode",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
    "vpcEndpointId",
}
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
DEFAULT_SELECTOR = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudtrail.models import CloudTrailBackend, Trail

    _extend_trail(Trail)
    _extend_backend(CloudTrailBackend)
    _INSTALLED = True


def _extend_trail(trail_cls: Any) -> None:
    original_init = trail_cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.event_selectors = [dict(DEFAULT_SELECTOR)]

    def put_event_selectors(
        self: Any,
        event_selectors: list[dict[str, Any]] | None,
        advanced_event_selectors: list[dict[str, Any]] | None,
    ) -> None:
        if event_selectors:
            self.event_selectors = event_selectors
            self.advanced_event_selectors = []
        else:
            self.event_selectors = []
            self.advanced_event_selectors = advanced_event_selectors or []

    trail_cls.__init__ = __init__
    trail_cls.put_event_selectors = put_event_selectors


def _invalid(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("InvalidEventSelectorsException", message)


def check_selectors(
    event_selectors: list[dict[str, Any]] | None,
    advanced_event_selectors: list[dict[str, Any]] | None,
) -> None:
    from moto.cloudtrail.exceptions import InvalidParameterCombinationException

    if event_selectors and advanced_event_selectors:
        raise InvalidParameterCombinationException(
            "Only one of EventSelectors or AdvancedEventSelectors may be specified."
        )
    if not event_selectors and not advanced_event_selectors:
        raise InvalidParameterCombinationException(
            "Either EventSelectors or AdvancedEventSelectors must be specified."
        )
    if event_selectors and len(event_selectors) > MAX_BASIC_SELECTORS:
        raise _invalid(f"A trail can have at most {MAX_BASIC_SELECTORS} event selectors.")
    for selector in advanced_event_selectors or []:
        _check_advanced(selector)


def _check_advanced(selector: dict[str, Any]) -> None:
    fields = selector.get("FieldSelectors") or []
    if not fields:
        raise _invalid("An advanced event selector needs at least one field selector.")
    names = [f.get("Field") for f in fields]
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise _invalid(f"Invalid field {unknown[0]} in advanced event selector.")
    if "eventCategory" not in names:
        raise _invalid("An advanced event selector must include the eventCategory field.")
    for field in fields:
        if not any(field.get(op) for op in OPERATORS):
            raise _invalid(f"Field selector {field.get('Field')} has no operator.")


def _extend_backend(backend_cls: Any) -> None:
    original_put = backend_cls.put_event_selectors

    def put_event_selectors(
        self: Any,
        trail_name: str,
        event_selectors: list[dict[str, Any]] | None,
        advanced_event_selectors: list[dict[str, Any]] | None,
    ) -> Any:
        self.get_trail(trail_name)  # TrailNotFoundException first, as CloudTrail answers
        check_selectors(event_selectors, advanced_event_selectors)
        return original_put(self, trail_name, event_selectors, advanced_event_selectors)

    backend_cls.put_event_selectors = put_event_selectors
