"""`reconcile import`, pure: an existing bucket's access points, their policies and principals ->
the text of a collaborators.yaml that describes them, plus warnings.

What the file format can express (one principal, one prefix ending in '/', the read / write /
list / delete levels, an Internet access point on the bucket) is imported; everything else
becomes a YAML comment and a warning, so nothing is silently widened or dropped. Applying the
result with --adopt tags the resources as managed (see docs/lifecycle.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from reconciler.documents.data_events import (
    Coverage,
    logs_data_with_basic_selectors,
    own_selector_name,
    trail_coverage,
)
from reconciler.documents.policies import LIST_ACTION, OBJECT_ACTIONS
from reconciler.model import (
    ABORT_MULTIPART_RULE_ID,
    BUCKET_TAG_KEY,
    COLLABORATOR_TAG_KEY,
    EXPIRES_TAG_KEY,
    MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
    NONCURRENT_RULE_ID,
    STATUS_TAG_KEY,
    SUSPENDED_TAG_VALUE,
    AccessLevel,
    LiveAccessPoint,
)
from reconciler.render.describe import statement_line

_LEVEL_OF_ACTION = {a.lower(): lv for lv, actions in OBJECT_ACTIONS.items() for a in actions}
_LEVEL_ORDER = [AccessLevel.READ, AccessLevel.WRITE, AccessLevel.LIST, AccessLevel.DELETE]
_USER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):user(/(?:.*/)?)([^/]+)$")
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/[A-Za-z0-9+=,.@_/-]+$")
_ID_SUFFIXES = ("-access-point", "-accesspoint", "-ap")
MAX_ID = 37


@dataclass(frozen=True)
class FoundUser:
    name: str
    path: str
    inline_policies: tuple[str, ...] = ()
    managed_policies: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    permissions_boundary: str | None = None


@dataclass(frozen=True)
class FoundTrail:
    """A CloudTrail trail as ListTrails and GetEventSelectors found it. Only trails of this
    account whose home Region is the bucket's are read (`read`): the tool can keep its
    selector only there. `problem`: why its selectors could not be read."""

    name: str
    arn: str
    home_region: str
    read: bool = True
    event_selectors: tuple[Mapping[str, Any], ...] = ()
    advanced_event_selectors: tuple[Mapping[str, Any], ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class TrailSearch:
    """The trails `import` looked at for bucket.data_events_trail. `named`: the operator
    named the trail (--trail), so only that one was read. `problem`: listing the trails
    failed (why), so nothing is known."""

    trails: tuple[FoundTrail, ...] = ()
    named: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Discovery:
    """What `reconcile import` read from AWS."""

    account_id: str
    region: str
    bucket: str
    encryption: Mapping[str, Any] | None
    access_points: Sequence[LiveAccessPoint]
    users: Mapping[str, FoundUser]
    # the bucket baseline as found (the reader's values; None: not configured)
    versioning: Mapping[str, Any] | None = None
    lifecycle: Mapping[str, Any] | None = None
    logging: Mapping[str, Any] | None = None
    # the CloudTrail trails looked at (None: not looked at)
    trails: TrailSearch | None = None


@dataclass(frozen=True)
class Imported:
    text: str
    warnings: list[str]
    collaborators: int


@dataclass
class _Grant:
    """What one access point policy amounts to, in the file's terms."""

    principals: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    levels: set[AccessLevel] = field(default_factory=set)
    actions: set[str] = field(default_factory=set)
    unexpressed: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    """One collaborator to write, or one access point to write as a comment."""

    ap: LiveAccessPoint
    fields: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    skipped: str | None = None


# --- reading policies ---------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _object_prefix(resource: str, ap_name: str) -> str | None:
    """`arn:...:accesspoint/NAME/object/Alice/*` -> `Alice/`; None when not of that shape."""
    marker = f":accesspoint/{ap_name}/object/"
    if marker not in resource or not resource.endswith("*"):
        return None
    return resource.split(marker, 1)[1][:-1]


def _list_prefix(statement: Mapping[str, Any]) -> str | None:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping) or list(condition) != ["StringLike"]:
        return None
    like = condition["StringLike"]
    if not isinstance(like, Mapping) or list(like) != ["s3:prefix"]:
        return None
    values = _as_list(like["s3:prefix"])
    if len(values) != 1 or not str(values[0]).endswith("*"):
        return None
    return str(values[0])[:-1]


def _principals(statement: Mapping[str, Any]) -> list[str] | None:
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping) or list(principal) != ["AWS"]:
        return None
    return [str(p) for p in _as_list(principal["AWS"])]


def _read_statement(statement: Mapping[str, Any], ap: LiveAccessPoint, grant: _Grant) -> None:
    line = statement_line(statement)
    unsupported = {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
    principals = _principals(statement)
    if statement.get("Effect") != "Allow" or unsupported or principals is None:
        grant.unexpressed.append(f"{line} (only Allow statements naming AWS principals)")
        return
    has_condition = "Condition" in statement
    for action in [str(a) for a in _as_list(statement.get("Action", []))]:
        for resource in [str(r) for r in _as_list(statement.get("Resource", []))]:
            found = _read_grant(action, resource, statement, ap.name, has_condition)
            if found is None:
                grant.unexpressed.append(f"{action} on {resource}" + _cond(has_condition))
                continue
            grant.levels.add(found[0])
            grant.prefixes.add(found[1])
            grant.actions.add(action.lower())
            grant.principals.update(principals)


def _cond(has_condition: bool) -> str:
    return " (with a condition)" if has_condition else ""


def _read_grant(
    action: str, resource: str, statement: Mapping[str, Any], ap_name: str, has_condition: bool
) -> tuple[AccessLevel, str] | None:
    if action.lower() == LIST_ACTION.lower():
        prefix = _list_prefix(statement)
        on_ap = resource.endswith(f":accesspoint/{ap_name}")
        return (AccessLevel.LIST, prefix) if prefix is not None and on_ap else None
    level = _LEVEL_OF_ACTION.get(action.lower())
    prefix = _object_prefix(resource, ap_name)
    if level is None or prefix is None or has_condition:
        return None
    return level, prefix


def read_grant(ap: LiveAccessPoint) -> _Grant:
    grant = _Grant()
    for statement in (ap.policy or {}).get("Statement", []):
        _read_statement(statement, ap, grant)
    return grant


# --- one access point -> one collaborator -------------------------------------------------------


def _collaborator_id(ap_name: str, taken: set[str]) -> str:
    base = ap_name
    for suffix in _ID_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    base = re.sub(r"[^a-z0-9-]", "-", base.lower()).strip("-")[:MAX_ID].strip("-") or "collab"
    candidate, n = base, 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate, n = base[: MAX_ID - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def _why_not(grant: _Grant, ap: LiveAccessPoint) -> str | None:
    if ap.network_origin != "Internet" or ap.vpc_id:
        return f"its network origin is {ap.network_origin}; this tool keeps Internet access points"
    if ap.policy is None:
        return "it has no access point policy, so it grants nobody anything"
    if not grant.levels:
        return "no statement of its policy maps to the read/write/list/delete levels"
    if len(grant.principals) != 1:
        return f"its policy names {len(grant.principals)} principals; a collaborator has one"
    if len(grant.prefixes) != 1:
        return f"its policy uses {len(grant.prefixes)} prefixes; a collaborator has one"
    prefix = next(iter(grant.prefixes))
    if not prefix or not prefix.endswith("/") or prefix.startswith("/") or set("*?") & set(prefix):
        shown = prefix or "(the whole bucket)"
        return f"its prefix {shown!r} is not a folder ending in '/'"
    return None


def _entry(ap: LiveAccessPoint, taken: set[str]) -> tuple[_Entry, _Grant]:
    grant = read_grant(ap)
    entry = _Entry(ap)
    entry.skipped = _why_not(grant, ap)
    if entry.skipped is not None:
        entry.comments = [statement_line(s) for s in (ap.policy or {}).get("Statement", [])]
        return entry, grant
    cid = _collaborator_id(ap.name, taken)
    entry.fields = {"id": cid, "principal": next(iter(grant.principals))}
    entry.fields["prefix"] = next(iter(grant.prefixes))
    entry.fields["access"] = [lv.value for lv in _LEVEL_ORDER if lv in grant.levels]
    if ap.name != f"{cid}-access-point":
        entry.fields["access_point"] = ap.name
    entry.comments = [f"not imported: {item}" for item in grant.unexpressed]
    return entry, grant


EXPIRES_NOT_IN_AWS = (
    "this bucket is already managed by this tool; `expires` dates are read from the IAM users' "
    f"{EXPIRES_TAG_KEY} tag, which older versions did not write and collaborators given by "
    "`principal` do not have: a collaborator imported without `expires` never expires unless "
    "you copy its date from your previous collaborators.yaml"
)
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _managed(ap: LiveAccessPoint) -> bool:
    return (ap.tags or {}).get(MANAGED_TAG_KEY) == MANAGED_TAG_VALUE


def _add_expires(entries: list[_Entry], found: Discovery) -> None:
    """The date this tool recorded for `expires:` on a managed collaborator's IAM user (a tag
    value that is not a real YYYY-MM-DD date is ignored, as if absent)."""
    for entry in entries:
        user = found.users.get(entry.fields.get("iam_user", ""))
        if entry.skipped is not None or user is None or not _managed(entry.ap):
            continue
        text = user.tags.get(EXPIRES_TAG_KEY, "")
        if user.tags.get(BUCKET_TAG_KEY) != found.bucket or not _ISO_DAY.match(text):
            continue
        try:
            entry.fields["expires"] = date.fromisoformat(text).isoformat()
        except ValueError:
            continue


def _suspended_entry(ap: LiveAccessPoint, found: Discovery, taken: set[str]) -> _Entry | None:
    """A collaborator this tool suspended (or that expired): its access point is still tagged
    as ours with reconciler:status, but its policies are gone. Imported as suspended, so a plan
    on the imported file keeps it rather than deleting it. Its user is the managed one tagged
    with the same collaborator id; prefix and access are no longer in AWS (defaults written)."""
    tags = ap.tags or {}
    if ap.policy is not None or not _managed(ap):
        return None
    cid = tags.get(COLLABORATOR_TAG_KEY, "")
    if tags.get(STATUS_TAG_KEY) != SUSPENDED_TAG_VALUE or cid in taken or not cid:
        return None
    users = [
        u
        for u in found.users.values()
        if u.tags.get(COLLABORATOR_TAG_KEY) == cid and u.tags.get(MANAGED_TAG_KEY)
    ]
    if len(users) != 1:
        return None  # an existing principal's ARN is not kept in AWS once suspended
    taken.add(cid)
    fields: dict[str, Any] = {"id": cid, "iam_user": users[0].name, "status": "suspended"}
    if ap.name != f"{cid}-access-point":
        fields["access_point"] = ap.name
    comments = [
        "suspended: prefix and access are not in AWS any more (defaults apply); set them "
        "from your previous file before reactivating"
    ]
    return _Entry(ap, fields=fields, comments=comments)


def _level_notes(ap_name: str, grant: _Grant) -> list[str]:
    """A level grants a little more than the live policy did (e.g. write adds multipart abort)."""
    notes = []
    for level in sorted(grant.levels - {AccessLevel.LIST}, key=lambda lv: lv.value):
        missing = [a for a in OBJECT_ACTIONS[level] if a.lower() not in grant.actions]
        if missing:
            notes.append(
                f"access point {ap_name}: imported as access {level.value}, which also grants "
                f"{', '.join(missing)} (the live policy did not)"
            )
    return notes


# --- principals -> iam_user / principal -----------------------------------------------------------


def _users_of(entries: list[_Entry], found: Discovery) -> dict[int, FoundUser]:
    result = {}
    for index, entry in enumerate(entries):
        if entry.skipped is not None or "principal" not in entry.fields:
            continue
        match = _USER_ARN.match(entry.fields["principal"])
        if match and match.group(1) == found.account_id and match.group(3) in found.users:
            user = found.users[match.group(3)]
            if user.path == match.group(2):
                result[index] = user
    return result


def _choose_iam_path(users: Mapping[int, FoundUser]) -> str | None:
    if not users:
        return None
    counts = Counter(u.path for u in users.values())
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def _assign_principals(entries: list[_Entry], found: Discovery, warnings: list[str]) -> str | None:
    users = _users_of(entries, found)
    iam_path = _choose_iam_path(users)
    owners: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if entry.skipped is not None or "principal" not in entry.fields:
            continue  # suspended ones name their user already
        principal = entry.fields["principal"]
        user = users.get(index)
        if user is not None and user.path == iam_path and user.name.lower() not in owners:
            owners[user.name.lower()] = entry.fields["id"]
            entry.fields = _with_user(entry.fields, user.name)
            warnings.extend(_user_warnings(user))
        elif _PRINCIPAL_ARN.match(principal):
            if user is not None:
                warnings.append(
                    f"IAM user {user.name} (access point {entry.ap.name}) is imported as an "
                    f"existing principal: it lives under path {user.path}, not {iam_path}, or "
                    "another collaborator already has it; the tool will not manage the user"
                )
        else:
            entry.skipped = f"its principal {principal} is not an IAM user or role ARN"
            entry.comments = [statement_line(s) for s in (entry.ap.policy or {})["Statement"]]
    return iam_path


def _with_user(fields: dict[str, Any], user: str) -> dict[str, Any]:
    result = {"id": fields["id"], "iam_user": user}
    result.update({k: v for k, v in fields.items() if k not in ("id", "principal")})
    return result


def _user_warnings(user: FoundUser) -> list[str]:
    warnings = [
        f"IAM user {user.name}: inline policy {name} is replaced by the tool's identity policy "
        "when applied with --adopt"
        for name in user.inline_policies
    ]
    kept = [f"managed policy {p}" for p in user.managed_policies]
    kept += [f"group {g}" for g in user.groups]
    if kept:
        warnings.append(
            f"IAM user {user.name}: {', '.join(kept)} left as they are (this tool does not "
            "manage them); review what they grant"
        )
    return warnings


# --- writing YAML -------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    text = str(value)
    plain = re.fullmatch(r"[A-Za-z0-9/][A-Za-z0-9/_.@+=,:-]*", text) is not None
    if plain and yaml.safe_load(text) == text and ": " not in text:
        return text
    return json.dumps(text)


def _entry_lines(entry: _Entry) -> list[str]:
    if entry.skipped is not None:
        lines = [f"  # access point {entry.ap.name} not imported: {entry.skipped}"]
        return lines + [f"  #   {c}" for c in entry.comments]
    lines = []
    for i, (key, value) in enumerate(entry.fields.items()):
        lines.append(f"  {'- ' if i == 0 else '  '}{key}: {_scalar(value)}")
    return lines + [f"    # {c}" for c in entry.comments]


def _boundary(entries: list[_Entry], found: Discovery, warnings: list[str]) -> str | None:
    """The users' permissions boundary, when every imported user has the same one."""
    names = [e.fields["iam_user"] for e in entries if e.skipped is None and "iam_user" in e.fields]
    boundaries = {found.users[n].permissions_boundary for n in names if n in found.users}
    if len(boundaries) == 1:
        return boundaries.pop()
    if len(boundaries) > 1:
        listed = ", ".join(sorted(str(b) for b in boundaries))
        warnings.append(
            f"the imported IAM users have different permissions boundaries ({listed}): "
            "iam_permissions_boundary is left out; set one (docs/ci-setup.md, 'Permissions "
            "boundary') and every user gets it"
        )
    return None


def _header(
    found: Discovery,
    iam_path: str | None,
    boundary: str | None = None,
    trail: Sequence[str] = (),
) -> list[str]:
    lines = [
        f"# Imported by `reconcile import` from bucket {found.bucket} in account "
        f"{found.account_id} ({found.region}).",
        "# Review it, then: reconcile plan --adopt, and reconcile apply --adopt.",
        "version: 1",
        f'account_id: "{found.account_id}"',
        f"region: {_scalar(found.region)}",
        "bucket:",
        f"  name: {_scalar(found.bucket)}",
    ]
    encryption = found.encryption or {}
    if encryption.get("SSEAlgorithm") == "aws:kms":
        lines.append("  encryption: aws:kms")
        if encryption.get("KMSMasterKeyID"):
            lines.append(f"  kms_key_id: {_scalar(encryption['KMSMasterKeyID'])}")
    lines.extend(_baseline_lines(found))
    lines.extend(trail)
    if iam_path is not None:
        lines.append(f"iam_path: {_scalar(iam_path)}")
    if boundary is not None:
        lines.append(f"iam_permissions_boundary: {_scalar(boundary)}")
    return lines


def _baseline_lines(found: Discovery) -> list[str]:
    """The bucket baseline as found, so that adopting the bucket changes none of it unasked."""
    lines = (
        ["  versioning: true"]
        if (found.versioning or {}).get("Status") == "Enabled"
        else [
            "  # versioning is off on this bucket: true turns it on (it can never be turned off",
            "  # again, only suspended); false leaves it as it is",
            "  versioning: false",
        ]
    )
    lines += _lifecycle_lines(found.lifecycle)
    if found.logging:
        lines += [
            "  access_logs:",
            f"    bucket: {_scalar(found.logging['TargetBucket'])}",
            f"    prefix: {_scalar(found.logging.get('TargetPrefix', ''))}",
        ]
    return lines


def _lifecycle_lines(lifecycle: Mapping[str, Any] | None) -> list[str]:
    """The tool's own rules as found (rules of others stay in AWS, untouched, and need no
    line); without them the defaults apply, which add the abort rule."""
    rules = (lifecycle or {}).get("Rules", {})
    abort = rules.get(ABORT_MULTIPART_RULE_ID, {}).get("AbortIncompleteMultipartUpload", {})
    noncurrent = rules.get(NONCURRENT_RULE_ID, {}).get("NoncurrentVersionExpiration", {})
    fields = [
        ("abort_incomplete_multipart_upload_days", abort.get("DaysAfterInitiation")),
        ("noncurrent_version_expiration_days", noncurrent.get("NoncurrentDays")),
    ]
    found = [f"    {name}: {days}" for name, days in fields if isinstance(days, int)]
    return ["  lifecycle:", *found] if found else []


# --- the trail of bucket.data_events_trail -----------------------------------------------------

_TRAIL_DOC = "docs/yaml-reference.md, bucket.data_events_trail"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _comment(text: str, indent: str = "  ", width: int = 96) -> list[str]:
    """A YAML comment, wrapped at about `width` characters."""
    lines: list[str] = []
    current = ""
    for word in _one_line(text).split(" "):
        if current and len(indent) + 2 + len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [f"{indent}# {line}" for line in [*lines, current]]


def trail_lines(found: Discovery) -> tuple[list[str], list[str]]:
    """The `data_events_trail:` line (or a commented hint) under `bucket:`, and warnings."""
    search = found.trails
    if search is None:
        return [], []
    if search.problem is not None:
        return _trails_unlisted(search.problem)
    if search.named is not None and search.trails:
        return _named_trail(found, search.trails[0])
    return _searched_trails(found, search.trails)


def _trails_unlisted(problem: str) -> tuple[list[str], list[str]]:
    lines = _comment(
        "data_events_trail was not looked up: the trails of this account could not be listed "
        f"({problem}). Name the trail that should record this bucket's object-level reads and "
        "writes, or import again with --trail NAME:"
    )
    warning = (
        f"could not list the CloudTrail trails ({_one_line(problem)}): bucket.data_events_trail "
        "is left out. Pass --trail NAME to name the trail that records this bucket's "
        "object-level events (reading it needs only cloudtrail:GetEventSelectors on that trail)"
    )
    return [*lines, "  # data_events_trail: NAME"], [warning]


def _named_trail(found: Discovery, trail: FoundTrail) -> tuple[list[str], list[str]]:
    """--trail NAME: written as asked, with what it records now."""
    line = f"  data_events_trail: {_scalar(trail.name)}"
    if trail.problem is not None:
        text = (
            f"trail {trail.name}: its event selectors could not be read ({trail.problem}); "
            "the plan shows what they record"
        )
        return [*_comment(text), line], [_one_line(text)]
    if logs_data_with_basic_selectors(trail.event_selectors):
        return _basic_selectors(trail)
    coverage = trail_coverage(found.bucket, trail.event_selectors, trail.advanced_event_selectors)
    return [*_comment(_adoption_note(found, trail.name, coverage)), line], []


def _adoption_note(found: Discovery, name: str, coverage: Coverage) -> str:
    ours = own_selector_name(found.bucket)
    if coverage.own:
        return f"trail {name} holds the tool's selector {ours} for this bucket"
    if coverage.complete:
        return (
            f"trail {name} records this bucket's object-level reads and writes with a selector "
            f"that is not the tool's ({', '.join(coverage.by)}): applying adds the tool's "
            f"selector {ours} beside it and leaves theirs as it is"
        )
    partly = f" (now only: {'; '.join(coverage.partial)})" if coverage.partial else ""
    return (
        f"trail {name} does not record all of this bucket's object-level reads and writes"
        f"{partly}: applying adds the tool's selector {ours} to it"
    )


def _basic_selectors(trail: FoundTrail) -> tuple[list[str], list[str]]:
    text = (
        f"trail {trail.name} logs data events with basic event selectors, and a trail holds "
        "basic or advanced selectors, never both: the tool can keep its advanced selector "
        f"there only once {trail.name} uses advanced ones. Switch it (CloudTrail console: the "
        "trail's Data events, 'Switch to advanced event selectors'), then uncomment:"
    )
    lines = [*_comment(text), f"  # data_events_trail: {trail.name}"]
    warning = (
        f"trail {trail.name} records this bucket's data events with basic event selectors: "
        "data_events_trail is left as a comment until the trail uses advanced event selectors "
        "(the comment says how)"
    )
    return lines, [warning]


def _searched_trails(found: Discovery, trails: Sequence[FoundTrail]) -> tuple[list[str], list[str]]:
    home = [t for t in trails if t.read]
    warnings = [
        f"trail {t.name}: its event selectors could not be read ({_one_line(t.problem)}); "
        "whether it records this bucket's object-level events is not known"
        for t in home
        if t.problem is not None
    ]
    coverage = {
        t.name: trail_coverage(found.bucket, t.event_selectors, t.advanced_event_selectors)
        for t in home
        if t.problem is None
    }
    complete = [t for t in home if t.name in coverage and coverage[t.name].complete]
    ours = [t for t in complete if coverage[t.name].own]
    chosen = complete if len(complete) == 1 else ours if len(ours) == 1 else []
    if chosen:
        lines, more = _chosen_trail(found, chosen[0], coverage[chosen[0].name], complete)
        return lines, warnings + more
    if complete:
        return _several_trails(complete), [
            *warnings,
            "several CloudTrail trails record this bucket's object-level reads and writes ("
            + ", ".join(t.name for t in complete)
            + "): data_events_trail is left as a comment; choose one",
        ]
    return _no_trail(found, trails, coverage), warnings


def _chosen_trail(
    found: Discovery, trail: FoundTrail, coverage: Coverage, complete: list[FoundTrail]
) -> tuple[list[str], list[str]]:
    if logs_data_with_basic_selectors(trail.event_selectors):
        return _basic_selectors(trail)
    note = [] if coverage.own else _comment(_adoption_note(found, trail.name, coverage))
    others = [t.name for t in complete if t is not trail]
    if others:
        note += _comment(
            f"trail(s) {', '.join(others)} record them too, with selectors the tool leaves alone"
        )
    return [*note, f"  data_events_trail: {_scalar(trail.name)}"], []


def _several_trails(complete: list[FoundTrail]) -> list[str]:
    names = ", ".join(t.name for t in complete)
    text = (
        f"several trails record this bucket's object-level reads and writes: {names}. "
        "Choose the one the tool keeps its selector in:"
    )
    return [*_comment(text), f"  # data_events_trail: {complete[0].name}"]


def _no_trail(
    found: Discovery, trails: Sequence[FoundTrail], coverage: Mapping[str, Coverage]
) -> list[str]:
    home = [t.name for t in trails if t.read]
    text = (
        f"no trail of this account whose home Region is {found.region} records all of this "
        "bucket's object-level reads and writes (CloudTrail data events). Name an existing "
        f"one and the tool keeps a selector for them in it ({_TRAIL_DOC})."
    )
    for name, found_coverage in coverage.items():
        if found_coverage.partial:
            text += f" Trail {name} records only part of them: {'; '.join(found_coverage.partial)}."
    elsewhere = [f"{t.name} ({t.home_region})" for t in trails if not t.read]
    if elsewhere:
        text += f" Not examined, their home Region is not the bucket's: {', '.join(elsewhere)}."
    text += f" Trails here: {', '.join(home)}." if home else " There is no trail here."
    example = home[0] if home else "TRAIL-NAME"
    return [*_comment(text), f"  # data_events_trail: {example}"]


def import_config(found: Discovery) -> Imported:
    warnings: list[str] = []
    taken: set[str] = set()
    entries: list[_Entry] = []
    ours = [ap for ap in found.access_points if ap.bucket == found.bucket]
    for ap in sorted(ours, key=lambda a: a.name):
        suspended = _suspended_entry(ap, found, taken)
        if suspended is not None:
            entries.append(suspended)
            warnings.append(
                f"access point {ap.name}: imported as status: suspended; suspension removed "
                "its grants from AWS, so check prefix and access before reactivating"
            )
            continue
        entry, grant = _entry(ap, taken)
        entries.append(entry)
        if entry.skipped is None:
            warnings.extend(_level_notes(ap.name, grant))
            warnings.extend(
                f"access point {ap.name}: not expressible, left out: {c}" for c in grant.unexpressed
            )
    iam_path = _assign_principals(entries, found, warnings)
    boundary = _boundary(entries, found, warnings)
    trail, trail_warnings = trail_lines(found)
    warnings.extend(trail_warnings)
    _add_expires(entries, found)
    undated = any(
        _managed(e.ap) and "expires" not in e.fields for e in entries if e.skipped is None
    )
    warnings.extend(
        f"access point {e.ap.name} not imported: {e.skipped}; it stays as it is, unmanaged"
        for e in entries
        if e.skipped is not None
    )
    body = [line for entry in entries for line in _entry_lines(entry)]
    count = sum(1 for e in entries if e.skipped is None)
    collaborators = ["collaborators:" if count else "collaborators: []", *body]
    note = [f"# {EXPIRES_NOT_IN_AWS}."] if undated else []
    text = "\n".join([*note, *_header(found, iam_path, boundary, trail), *collaborators]) + "\n"
    return Imported(text=text, warnings=warnings, collaborators=count)
