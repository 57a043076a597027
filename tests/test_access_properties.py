"""Property tests: for random valid configurations the desired state verifies clean; any single
broadening of one generated policy is always detected; pruned probing never misses what brute
force over every route, folder and level finds."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.access.checks import Status, access_state, verify, verify_state
from reconciler.access.evaluator import Decision
from reconciler.access.requests import LEVEL_ACTIONS
from reconciler.access.state import LISTING, OBJECT, PROBE, Target
from reconciler.access.subjects import anonymous_subject, collaborator_subject
from reconciler.config.loader import load_config_text
from reconciler.model import AccessLevel, Config, LiveState
from tests.access_support import (
    bucket_policy_of,
    desired,
    edit_access_point,
    edit_bucket_policy,
    edit_user_policy,
    policy_of,
)

ACCOUNT = "123456789012"
BUCKET = "shared-123456789012"
LEVELS = ["read", "write", "list", "delete"]
# ids have no '-', so no folder is another's parent; one parent has capitals, so case matters
PARENTS = ["", "p-data/", "p-up/sub/", "Mixed-Case/"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def configs(draw: st.DrawFn) -> Config:
    ids = draw(
        st.lists(
            st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    collaborators = []
    for cid in ids:
        entry: dict[str, Any] = {
            "id": cid,
            "prefix": f"{draw(st.sampled_from(PARENTS))}{cid}/",
            "access": draw(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=4, unique=True)),
        }
        if draw(st.booleans()):
            entry["iam_user"] = cid.capitalize() + "_u"
        else:
            account = draw(st.sampled_from(["111122223333", "444455556666"]))
            entry["principal"] = f"arn:aws:iam::{account}:role/{cid}"
        collaborators.append(entry)
    doc = {
        "version": 1,
        "account_id": ACCOUNT,
        "region": "eu-west-1",
        "bucket": {"name": BUCKET},
        "collaborators": collaborators,
    }
    return load_config_text(yaml.safe_dump(doc).encode(), "generated.yaml")


@FAST
@given(configs())
def test_desired_state_of_any_valid_config_verifies_clean(config: Config) -> None:
    report = verify(config, desired(config), source="desired")
    assert report.ok, [f.message for f in report.findings]


# --- broadening mutations ------------------------------------------------------------------

Mutation = Callable[[Config, LiveState, int], LiveState]


def ap_arn(config: Config, index: int) -> str:
    return config.access_point_arn(config.collaborators[index].access_point)


def _object_statement(policy: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in policy["Statement"] if s["Sid"] != "ReconcilerList")


def _edit_object(edit: Callable[[dict[str, Any], Config, int], None]) -> Mutation:
    def mutate(config: Config, state: LiveState, i: int) -> LiveState:
        name = config.collaborators[i].access_point
        policy = policy_of(state, name)
        edit(policy, config, i)
        return edit_access_point(state, name, policy)

    return mutate


def _resource(value: Callable[[Config, int], Any]) -> Mutation:
    def edit(policy: dict[str, Any], config: Config, i: int) -> None:
        statement = _object_statement(policy) if _has_object(config, i) else policy["Statement"][0]
        key = "Resource" if "object/" in str(statement["Resource"]) else None
        if key is None:  # a list-only collaborator: broaden its listing condition instead
            statement["Condition"] = {"StringLike": {"s3:prefix": value(config, i)}}
            return
        statement["Resource"] = f"{ap_arn(config, i)}/object/{value(config, i)}"

    return _edit_object(edit)


def _extra_resource(value: Callable[[Config, int], str]) -> Mutation:
    """Adds a resource (or, for a list-only collaborator, an s3:prefix value) to the grant, so
    the collaborator keeps its own access and only the broadening is wrong."""

    def edit(policy: dict[str, Any], config: Config, i: int) -> None:
        if _has_object(config, i):
            statement = _object_statement(policy)
            own = statement["Resource"]
            statement["Resource"] = [own, f"{ap_arn(config, i)}/object/{value(config, i)}"]
            return
        statement = policy["Statement"][0]
        own_prefix = statement["Condition"]["StringLike"]["s3:prefix"]
        statement["Condition"] = {"StringLike": {"s3:prefix": [own_prefix, value(config, i)]}}

    return _edit_object(edit)


def _has_object(config: Config, i: int) -> bool:
    return any(level is not AccessLevel.LIST for level in config.collaborators[i].access)


def _not_resource(statement: dict[str, Any], resource: str) -> None:
    statement.pop("Resource")
    statement["NotResource"] = resource


def _principal(value: Callable[[Config, int], Any], key: str = "Principal") -> Mutation:
    def edit(policy: dict[str, Any], config: Config, i: int) -> None:
        statement = policy["Statement"][0]
        statement.pop("Principal")
        statement[key] = value(config, i)

    return _edit_object(edit)


def _other_folder(config: Config, i: int) -> str:
    """Another collaborator's folder, or one nobody owns when there is no other collaborator."""
    if len(config.collaborators) == 1:
        return "zzz/"
    return config.collaborators[(i + 1) % len(config.collaborators)].prefix


def add_ungranted_action(config: Config, state: LiveState, i: int) -> LiveState:
    granted = set(config.collaborators[i].access)
    missing = [
        level for level in AccessLevel if level not in granted and level is not AccessLevel.LIST
    ]
    if not missing:
        return bucket_without_tls(config, state, i)

    def edit(policy: dict[str, Any], config: Config, i: int) -> None:
        statement = policy["Statement"][0]
        policy["Statement"].append(
            {
                "Sid": "Extra",
                "Effect": "Allow",
                "Principal": statement["Principal"],
                "Action": list(LEVEL_ACTIONS[missing[0]]),
                "Resource": f"{ap_arn(config, i)}/object/{config.collaborators[i].prefix}*",
            }
        )

    return _edit_object(edit)(config, state, i)


def list_anywhere(config: Config, state: LiveState, i: int) -> LiveState:
    def edit(policy: dict[str, Any], config: Config, i: int) -> None:
        listing = next((s for s in policy["Statement"] if s["Sid"] == "ReconcilerList"), None)
        if listing is None:
            policy["Statement"].append(
                {
                    **copy.deepcopy(policy["Statement"][0]),
                    "Sid": "Listing",
                    "Action": "s3:ListBucket",
                    "Resource": ap_arn(config, i),
                }
            )
        else:
            listing.pop("Condition")

    return _edit_object(edit)(config, state, i)


def list_other_folder_ignoring_case(config: Config, state: LiveState, i: int) -> LiveState:
    def edit(policy: dict[str, Any], config: Config, i: int) -> None:
        policy["Statement"].append(
            {
                "Sid": "ListingIgnoringCase",
                "Effect": "Allow",
                "Principal": policy["Statement"][0]["Principal"],
                "Action": "s3:ListBucket",
                "Resource": ap_arn(config, i),
                "Condition": {
                    "StringEqualsIgnoreCase": {"s3:prefix": _other_folder(config, i).swapcase()}
                },
            }
        )

    return _edit_object(edit)(config, state, i)


def not_resource(config: Config, state: LiveState, i: int) -> LiveState:
    """Resource -> NotResource on an object statement (a listing's resource is the access point
    itself, so for a list-only collaborator its s3:prefix condition goes instead)."""
    if not _has_object(config, i):
        return list_anywhere(config, state, i)

    def edit(policy: dict[str, Any], config: Config, i: int) -> None:
        _not_resource(_object_statement(policy), f"{ap_arn(config, i)}/object/zzz/*")

    return _edit_object(edit)(config, state, i)


def _bucket(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(config: Config, state: LiveState, i: int) -> LiveState:
        policy = bucket_policy_of(state)
        edit(policy)
        return edit_bucket_policy(state, policy)

    return mutate


def _statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in policy["Statement"] if s["Sid"] == sid)


def bucket_without_tls(config: Config, state: LiveState, i: int) -> LiveState:
    def edit(policy: dict[str, Any]) -> None:
        policy["Statement"].remove(_statement(policy, "ReconcilerDenyInsecureTransport"))

    return _bucket(edit)(config, state, i)


def identity_object_access(config: Config, state: LiveState, i: int) -> LiveState:
    collab = config.collaborators[i]
    if collab.iam_user is None:
        return _principal(lambda c, j: "*")(config, state, i)
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
        ],
    }
    return edit_user_policy(state, collab.iam_user, "extra", grant)


def identity_list_everything(config: Config, state: LiveState, i: int) -> LiveState:
    collab = config.collaborators[i]
    if collab.iam_user is None:
        return _principal(lambda c, j: {"AWS": "*"})(config, state, i)
    # the tool's own inline policy (only users with console: true have one) lists everything
    empty = {"Version": "2012-10-17", "Statement": []}
    inline = state.users[collab.iam_user].inline_policies
    policy = copy.deepcopy(dict(inline.get("reconciler-access-point-access", empty)))
    policy["Statement"] = [
        *policy["Statement"],
        {"Sid": "ListEverything", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
    ]
    return edit_user_policy(state, collab.iam_user, "reconciler-access-point-access", policy)


def block_public_access_off(config: Config, state: LiveState, i: int) -> LiveState:
    keys = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
    settings_ = {**dict(state.bucket.public_access_block or {}), keys[i % 4]: False}
    return replace(state, bucket=replace(state.bucket, public_access_block=settings_))


MUTATIONS: dict[str, Mutation] = {
    "resource object/*": _resource(lambda c, i: "*"),
    "resource first letter*": _resource(lambda c, i: c.collaborators[i].prefix[0] + "*"),
    "resource without the trailing slash": _resource(
        lambda c, i: c.collaborators[i].prefix[:-1] + "*"
    ),
    "resource: another's folder": _resource(lambda c, i: _other_folder(c, i) + "*"),
    "resource: bucket root keys": _resource(lambda c, i: "?*"),
    "resource *.csv added": _extra_resource(lambda c, i: "*.csv"),
    "resource */shared/* added": _extra_resource(lambda c, i: "*/shared/*"),
    "resource: another's folder, then *.csv, added": _extra_resource(
        lambda c, i: _other_folder(c, i) + "*.csv"
    ),
    "listing: another's folder, ignoring case": list_other_folder_ignoring_case,
    "NotResource: an unused folder": not_resource,
    "principal *": _principal(lambda c, i: "*"),
    "principal AWS:*": _principal(lambda c, i: {"AWS": "*"}),
    "NotPrincipal": _principal(
        lambda c, i: {"AWS": c.principal_arn(c.collaborators[i])}, key="NotPrincipal"
    ),
    "principal: another collaborator added": _principal(
        lambda c, i: {
            "AWS": sorted(
                {c.principal_arn(c.collaborators[i]), "arn:aws:iam::777766665555:role/Stranger"}
            )
        }
    ),
    "an ungranted level": add_ungranted_action,
    "listing anywhere": list_anywhere,
    "delegation without its condition": _bucket(
        lambda p: _statement(p, "ReconcilerDelegateToAccessPoints").pop("Condition")
    ),
    "no TLS-only statement": bucket_without_tls,
    "TLS-only statement for PutObject only": _bucket(
        lambda p: _statement(p, "ReconcilerDenyInsecureTransport").update(
            {"Action": "s3:PutObject"}
        )
    ),
    "TLS-only statement on objects only": _bucket(
        lambda p: _statement(p, "ReconcilerDenyInsecureTransport").update(
            {"Resource": f"arn:aws:s3:::{BUCKET}/*"}
        )
    ),
    "public read statement": _bucket(
        lambda p: p["Statement"].append(
            {
                "Sid": "Public",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            }
        )
    ),
    "identity grants objects": identity_object_access,
    "identity lists everything": identity_list_everything,
    "Block Public Access off": block_public_access_off,
    "no default encryption": lambda c, s, i: replace(s, bucket=replace(s.bucket, encryption=None)),
}


PER_MUTATION = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@PER_MUTATION
@given(config=configs(), data=st.data())
def test_any_single_broadening_is_detected(config: Config, name: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(config.collaborators) - 1), label="collaborator")
    state = MUTATIONS[name](config, desired(config), index)
    report = verify(config, state)
    assert report.violations > 0, f"{name} was not detected"


# --- pruning is sound: brute force finds nothing verify misses -------------------------------


# keys tried in every folder: the probe key, and keys that patterns with a fixed tail match
BRUTE_FORCE_KEYS = (PROBE, "", "x.csv", "shared/x")


def brute_force_violations(config: Config, state: LiveState) -> set[str]:
    """Every (principal, route, folder, level) evaluated; returns who can reach what they must
    not."""
    access = access_state(config, state)
    routes: list[str | None] = [None, *sorted(access.points)]
    prefixes = sorted({c.prefix for c in config.collaborators})
    targets = [Target(OBJECT, PROBE), Target(LISTING, "")]
    targets += [Target(OBJECT, p + key) for p in prefixes for key in BRUTE_FORCE_KEYS]
    targets += [Target(LISTING, p + value) for p in prefixes for value in ("", "sub", "x.csv")]
    subjects = [collaborator_subject(config, c, access) for c in config.collaborators]
    found: set[str] = set()
    for subject in [*subjects, anonymous_subject()]:
        for route in routes:
            for target in targets:
                levels = (
                    [AccessLevel.LIST]
                    if target.kind == LISTING
                    else [AccessLevel.READ, AccessLevel.WRITE, AccessLevel.DELETE]
                )
                for level in levels:
                    allowed = any(
                        access.evaluate(subject.principal, a, target, route).decision
                        is Decision.ALLOW
                        for a in LEVEL_ACTIONS[level]
                    )
                    expected = (
                        subject.prefix is not None
                        and route == subject.home
                        and target.value.startswith(subject.prefix)
                        and level.value in subject.levels
                    )
                    if allowed and not expected:
                        found.add(subject.id)
    return found


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@PER_MUTATION
@given(config=configs(), data=st.data())
def test_pruned_probing_finds_whatever_brute_force_finds(
    config: Config, name: str, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(config.collaborators) - 1), label="collaborator")
    state = MUTATIONS[name](config, desired(config), index)
    report = verify_state(config, access_state(config, state), source="live")
    failing = {
        f.principal if f.principal_kind == "anonymous" else f.collaborator
        for f in report.findings
        if f.status is Status.FAIL
    }
    assert brute_force_violations(config, state) <= failing
