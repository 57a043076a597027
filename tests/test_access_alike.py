"""Folders decided alike: when an Allow reaches every folder, one folder stands for all that no
statement tells apart (reconciler/access/state.py, `Probes.spread`, `AccessState.rest`).

Checked by brute force on random configurations with a broadening plus a statement that names a
folder in many ways (prefix, first letter, exact key, wildcard before the folder, policy
variable, s3:prefix conditions with every string operator): every folder of the class gets the
same decision as the one standing for it; summarised access changes expand to exactly the
per-folder ones; skipping collaborators whose policies did not change loses nothing; and at scale
a broadened policy costs a bounded number of evaluations, not one per folder."""

from __future__ import annotations

from collections import Counter
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.access import changes as changes_module
from reconciler.access import state as state_module
from reconciler.access.changes import access_changes
from reconciler.access.checks import Status, access_state, verify_state
from reconciler.access.requests import LEVEL_ACTIONS
from reconciler.access.review import reviewed_plan as plan
from reconciler.access.state import LISTING, OBJECT, PROBE, AccessState, Target
from reconciler.access.subjects import Subject, anonymous_subject, collaborator_subject
from reconciler.config.loader import load_config_text
from reconciler.model import AccessLevel, Config, LiveState
from reconciler.plan.changes import AccessChange
from tests.access_support import (
    bucket_policy_of,
    desired,
    edit_access_point,
    edit_bucket_policy,
    edit_user_policy,
    policy_of,
)
from tests.test_access_properties import BUCKET, MUTATIONS, ap_arn, configs

CHECKED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BROADENINGS = [
    "resource object/*",
    "listing anywhere",
    "identity grants objects",
    "public read statement",
    "principal AWS:*",
    "delegation without its condition",
]


# --- a statement that names one folder -----------------------------------------------------


def _object_resources(config: Config, i: int, folder: str) -> list[str]:
    bucket = f"arn:aws:s3:::{BUCKET}/"
    point = f"{ap_arn(config, i)}/object/"
    return [
        f"{bucket}{folder}*",
        f"{bucket}{folder[0]}*",
        f"{bucket}{folder}{PROBE}",
        f"{bucket}{folder}",
        f"{bucket}*/{folder}*",
        f"{bucket}{folder[:-1]}?*",
        f"{bucket}${{aws:username}}/*",
        f"{point}{folder}*",
        f"{point}{folder[:2]}*",
    ]


def _listing_conditions(folder: str) -> list[dict[str, Any]]:
    return [
        {"StringLike": {"s3:prefix": f"{folder}*"}},
        {"StringEquals": {"s3:prefix": folder}},
        {"StringNotLike": {"s3:prefix": f"{folder[0]}*"}},
        {"StringNotEquals": {"s3:prefix": folder}},
        {"StringEqualsIgnoreCase": {"s3:prefix": folder.upper()}},
        {"StringLike": {"s3:prefix": f"*{folder[1:]}"}},
    ]


@st.composite
def telling_apart(draw: st.DrawFn, config: Config, i: int) -> dict[str, Any]:
    folders = [c.prefix for c in config.collaborators] + ["zzz/", "p-data/"]
    folder = draw(st.sampled_from(folders), label="folder")
    statement: dict[str, Any] = {
        "Sid": "NamesAFolder",
        "Effect": draw(st.sampled_from(["Deny", "Allow"])),
    }
    if draw(st.booleans(), label="listing"):
        statement["Action"] = "s3:ListBucket"
        statement["Resource"] = [f"arn:aws:s3:::{BUCKET}", ap_arn(config, i)]
        statement["Condition"] = draw(st.sampled_from(_listing_conditions(folder)))
    else:
        statement["Action"] = draw(st.sampled_from(["s3:*", "s3:GetObject", "s3:PutObject"]))
        statement["Resource"] = draw(st.sampled_from(_object_resources(config, i, folder)))
    return statement


def with_statement(
    config: Config, state: LiveState, i: int, statement: dict[str, Any], where: str
) -> LiveState:
    collab = config.collaborators[i]
    principal = {"AWS": config.principal_arn(collab)}
    if where == "identity" and collab.iam_user is not None:
        doc = {"Version": "2012-10-17", "Statement": [statement]}
        return edit_user_policy(state, collab.iam_user, "names-a-folder", doc)
    if where == "access point":
        policy = policy_of(state, collab.access_point)
        policy["Statement"].append({**statement, "Principal": principal})
        return edit_access_point(state, collab.access_point, policy)
    policy = bucket_policy_of(state)
    policy["Statement"].append({**statement, "Principal": "*"})
    return edit_bucket_policy(state, policy)


@st.composite
def broadened(draw: st.DrawFn) -> tuple[Config, LiveState]:
    config = draw(configs())
    i = draw(st.integers(0, len(config.collaborators) - 1), label="collaborator")
    name = draw(st.sampled_from(BROADENINGS), label="broadening")
    state = MUTATIONS[name](config, desired(config), i)
    for _ in range(draw(st.integers(1, 2), label="statements")):
        statement = draw(telling_apart(config, i))
        where = draw(st.sampled_from(["bucket", "access point", "identity"]), label="where")
        state = with_statement(config, state, i, statement, where)
    return config, state


# --- brute force ---------------------------------------------------------------------------


def subjects(config: Config, state: AccessState) -> list[Subject]:
    return [collaborator_subject(config, c, state) for c in config.collaborators] + [
        anonymous_subject()
    ]


def decisions(
    state: AccessState, subject: Subject, route: str | None, target: Target
) -> tuple[object, ...]:
    if target.kind == LISTING:
        levels = [AccessLevel.LIST]
    else:
        levels = [AccessLevel.READ, AccessLevel.WRITE, AccessLevel.DELETE]
    return tuple(
        state.evaluate(subject.principal, action, target, route).decision
        for level in levels
        for action in LEVEL_ACTIONS[level]
    )


@CHECKED
@given(broadened())
def test_every_folder_a_probe_stands_for_is_decided_like_it(case: tuple[Config, LiveState]) -> None:
    config, live = case
    state = access_state(config, live)
    for subject in subjects(config, state):
        routes = {None, subject.home, *state.candidate_points(subject.principal)}
        for route in routes:
            probes = state.probes(subject.principal, route, [subject.prefix or ""])
            for kind in probes.spread:
                held = {state.region_of(t) for t in probes.targets if t.kind == kind}
                suffix = PROBE if kind == OBJECT else ""
                members = [Target(kind, q + suffix) for q in state.prefixes if q not in held]
                answers = {decisions(state, subject, route, t) for t in members}
                assert len(answers) <= 1, (subject.id, route, kind, members, answers)


def states(config: Config, old: LiveState, new: LiveState) -> tuple[AccessState, AccessState]:
    """The two states a plan's review compares, as reconciler/access/review.py builds them."""
    before = access_state(config, old)
    after = access_state(config, new, before.prefixes)
    before.extend_prefixes(after.prefixes)
    return before, after


def expanded(found: tuple[AccessChange, ...]) -> Counter[tuple[str, str, str | None, str, str]]:
    """How many folders change in each way (a summarised line counts 1 + more)."""
    counts: Counter[tuple[str, str, str | None, str, str]] = Counter()
    for c in found:
        counts[(c.collaborator, c.level, c.via, c.before, c.after)] += 1 + c.more
    return counts


@CHECKED
@given(broadened())
def test_summarised_access_changes_expand_to_the_per_folder_ones(
    case: tuple[Config, LiveState],
) -> None:
    config, live = case
    results = {}
    for spelled_out in (0, 10**9):
        with mock.patch.object(state_module, "SPELLED_OUT", spelled_out):
            for direction, old, new in (
                ("repair", live, desired(config)),
                ("broaden", desired(config), live),
            ):
                results[(spelled_out, direction)] = access_changes(
                    config, *states(config, old, new)
                )
    for direction in ("repair", "broaden"):
        summary, each = results[(0, direction)], results[(10**9, direction)]
        assert all(c.more == 0 for c in each)
        assert expanded(summary) == expanded(each)
        assert {(c.collaborator, c.level, c.prefix, c.via) for c in summary} <= {
            (c.collaborator, c.level, c.prefix, c.via) for c in each
        }


@CHECKED
@given(broadened())
def test_skipping_collaborators_whose_policies_did_not_change_loses_nothing(
    case: tuple[Config, LiveState],
) -> None:
    config, live = case
    with_skip = plan(config, live).access_changes
    with mock.patch.object(changes_module, "_decided_alike", lambda pairs: False):
        without_skip = plan(config, live).access_changes
    assert with_skip == without_skip


# --- at scale ------------------------------------------------------------------------------


def many(n: int) -> Config:
    lines = [
        "version: 1",
        'account_id: "123456789012"',
        "region: eu-west-1",
        f"bucket: {{name: {BUCKET}}}",
        # a share this large delegates to its access points by prefix: the exact list of their
        # ARNs would not fit the 20 KB bucket policy (issue 22)
        *(["access_point_prefix: big-"] if n > 100 else []),
        "collaborators:",
    ]
    for k in range(n):
        lines += [f"  - id: site{k:03d}", f"    iam_user: Site{k:03d}", "    access: [read, list]"]
    return load_config_text(("\n".join(lines) + "\n").encode(), "many.yaml")


def broaden_object_reads(config: Config, state: LiveState, i: int) -> LiveState:
    return MUTATIONS["resource object/*"](config, state, i)


def test_a_broadened_access_point_is_one_line_per_level_not_one_per_folder() -> None:
    config = many(60)
    live = desired(config)
    for i in (3, 40):
        live = broaden_object_reads(config, live, i)
    the_plan = plan(config, live)
    lines = [c.line() for c in the_plan.access_changes]
    assert lines == [
        "site003: - read (bucket root) via site003-access-point",
        "site003: - read site000/ and 58 more folders via site003-access-point",
        "site040: - read (bucket root) via site040-access-point",
        "site040: - read site000/ and 58 more folders via site040-access-point",
    ]
    assert [c.to_json()["more_folders"] for c in the_plan.access_changes] == [0, 58, 0, 58]


def test_a_folder_a_statement_names_is_still_listed_on_its_own() -> None:
    config = many(30)
    live = broaden_object_reads(config, desired(config), 0)
    policy = bucket_policy_of(live)
    policy["Statement"].append(
        {
            "Sid": "KeepOutOfSite007",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/site007/*",
        }
    )
    live = edit_bucket_policy(live, policy)
    target = edit_bucket_policy(desired(config), policy)  # the foreign Deny is kept
    lines = [c.line() for c in access_changes(config, *states(config, live, target))]
    assert lines == [
        "site000: - read (bucket root) via site000-access-point",
        "site000: - read site001/ and 27 more folders via site000-access-point",
    ]  # site007/ was denied before and after: no change, and not counted among the 27


def test_verify_of_a_broadened_policy_costs_the_same_at_any_size() -> None:
    costs = []
    for n in (40, 400):
        config = many(n)
        live = broaden_object_reads(config, desired(config), 1)
        report = verify_state(config, access_state(config, live), source="live")
        failing = [f for f in report.findings if f.status is Status.FAIL]
        assert {f.collaborator for f in failing} == {"site001"}
        assert len(failing) == 2  # the bucket root, and one folder standing for the others
        assert f"(folder of site000) and {n - 2} more folders decided alike via" in (
            failing[1].message
        ), failing[1].message
        costs.append(report.evaluations / n)
    assert costs[1] <= costs[0] * 1.05  # per collaborator: constant, not growing with folders


def test_a_broadening_plan_evaluates_only_the_collaborators_it_touches() -> None:
    config = many(300)
    live = broaden_object_reads(config, desired(config), 5)
    before, after = states(config, live, desired(config))
    found = access_changes(config, before, after)
    assert {c.collaborator for c in found} == {"site005"}
    assert before.evaluations + after.evaluations < 100


def test_the_planned_state_shares_compiled_policies_that_do_not_change() -> None:
    config = many(5)
    live = broaden_object_reads(config, desired(config), 2)
    before = access_state(config, live)
    after = access_state(config, desired(config), like=before)
    broadened_point = config.collaborators[2].access_point
    for name, point in after.points.items():
        assert (point is before.points[name]) == (name != broadened_point)
    user = desired(config).users["Site000"]
    assert after.identity_of(user) is before.identity_of(user)
