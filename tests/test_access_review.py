"""Plans carry per-collaborator access changes and the security gate's verdict."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.access.gate import refuse_unsafe
from reconciler.access.projected import project
from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.errors import RefusedError
from reconciler.model import Config, LiveState
from reconciler.plan.changes import Plan
from reconciler.render.access import access_change_lines
from reconciler.render.text import render_text
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud
from tests.test_golden import drift_plan

BUCKET = "clinical-share-123456789012"
WITHOUT_BOB = BASE_YAML.replace(
    "  - id: bob\n    iam_user: Bob\n    prefix: Bob/\n    access: [write, read, list]\n", ""
)


def applied(config: Config) -> FakeCloud:
    cloud = FakeCloud()
    apply_plan(plan(config, cloud.read(config)), cloud)
    return cloud


def comparable(state: LiveState) -> tuple[object, ...]:
    users = {
        n: (u.path, u.arn, dict(u.tags), {k: dict(v) for k, v in u.inline_policies.items()})
        for n, u in state.users.items()
    }
    points = {
        n: (p.bucket, dict(p.tags), dict(p.policy) if p.policy else None)
        for n, p in state.access_points.items()
    }
    b = state.bucket
    return (
        b.exists,
        b.encryption,
        b.public_access_block,
        b.ownership_controls,
        b.policy,
        users,
        points,
    )


@pytest.mark.parametrize("yaml_text", [BASE_YAML, WITHOUT_BOB])
def test_projection_equals_applying_the_plan(yaml_text: str, config: Config) -> None:
    cloud = applied(config)
    cloud.buckets[BUCKET]["encryption"] = {"SSEAlgorithm": "aws:kms"}
    target = config_from(yaml_text)
    live = cloud.read(target)
    the_plan = plan(target, live)
    apply_plan(the_plan, cloud)
    assert comparable(project(target, live, the_plan)) == comparable(cloud.read(target))


def test_new_collaborators_gain_exactly_their_levels(config: Config) -> None:
    lines = access_change_lines(plan(config, FakeCloud().read(config)))
    assert lines == [
        "alice: + write Alice/ via alice-access-point",
        "bob: + list Bob/ via bob-access-point",
        "bob: + read Bob/ via bob-access-point",
        "bob: + write Bob/ via bob-access-point",
        "partner-site: + write partner-site/ via partner-site-ap",
    ]


def test_granting_and_revoking_a_level(config: Config) -> None:
    cloud = applied(config)
    changed = config_from(
        BASE_YAML.replace("access: [write]\n", "access: [write, read]\n", 1).replace(
            "access: [write, read, list]", "access: [write, list]"
        )
    )
    lines = access_change_lines(plan(changed, cloud.read(changed)))
    assert lines == [
        "alice: + read Alice/ via alice-access-point",
        "bob: - read Bob/ via bob-access-point",
    ]


def test_removed_collaborator_loses_everything(config: Config) -> None:
    cloud = applied(config)
    smaller = config_from(WITHOUT_BOB)
    lines = access_change_lines(plan(smaller, cloud.read(smaller)))
    assert lines == [
        "bob: - list Bob/ via bob-access-point",
        "bob: - read Bob/ via bob-access-point",
        "bob: - write Bob/ via bob-access-point",
    ]


def test_a_plan_that_changes_no_access_says_so(config: Config) -> None:
    cloud = applied(config)
    cloud.buckets[BUCKET]["encryption"] = {"SSEAlgorithm": "aws:kms"}
    the_plan = plan(config, cloud.read(config))
    assert not the_plan.is_empty and the_plan.access_changes == ()
    assert render_text(the_plan).startswith(
        "Access changes\n  none: no collaborator gains or loses access\n\nBucket settings\n"
    )


def test_repairing_an_out_of_band_broadening_shows_the_loss(config: Config) -> None:
    assert access_change_lines(drift_plan(config))[:3] == [
        "alice: - write (bucket root) via alice-access-point",
        "alice: - write Bob/ via alice-access-point",
        "alice: - write partner-site/ via alice-access-point",
    ]


def public_statement() -> dict[str, object]:
    return {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }


def test_gate_refuses_a_change_that_leaves_a_public_statement(config: Config) -> None:
    cloud = applied(config)
    cloud.buckets[BUCKET]["policy"]["Statement"].append(public_statement())
    assert plan(config, cloud.read(config)).refusals == ()  # nothing to apply: nothing refused
    grown = config_from(BASE_YAML.replace("access: [write]\n", "access: [write, delete]\n", 1))
    the_plan = plan(grown, cloud.read(grown))
    assert the_plan.refusals
    # a caller of another account can read (anonymous callers are denied by
    # ReconcilerDenySignatureVersion2 since issue 22: an unsigned request has no signature version)
    assert any("can read" in r and "PublicRead" in r for r in the_plan.refusals)
    with pytest.raises(RefusedError) as raised:
        refuse_unsafe(the_plan)
    assert raised.value.exit_code == 3
    assert "no override" in str(raised.value)


def test_gate_refuses_overlapping_folders(config: Config) -> None:
    """Validation rejects nested prefixes; the gate is a second line of defence for a Config
    that reached the planner some other way."""
    bob = replace(config.collaborators[1], prefix="Alice/Bob/")
    nested = replace(config, collaborators=(config.collaborators[0], bob, config.collaborators[2]))
    the_plan = plan(nested, FakeCloud().read(nested))
    assert any(
        r.startswith("alice: other-prefix: alice can write Alice/Bob/") for r in the_plan.refusals
    )


def test_gate_refuses_a_foreign_statement_reaching_another_folder(config: Config) -> None:
    cloud = applied(config)
    cloud.buckets[BUCKET]["policy"]["Statement"].append(
        {
            "Sid": "HelpAlice",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/collaborators/Alice"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/Bob/*",
        }
    )
    grown = config_from(BASE_YAML.replace("access: [write]\n", "access: [write, list]\n", 1))
    refusals = plan(grown, cloud.read(grown)).refusals
    assert any("alice can read Bob/" in r and "HelpAlice" in r for r in refusals)


def test_gate_passes_a_plan_that_repairs_a_broadening(config: Config) -> None:
    the_plan: Plan = drift_plan(config)
    assert the_plan.refusals == ()


def test_gate_refuses_dropping_block_public_access_in_the_resulting_state(config: Config) -> None:
    """The planner always restores these; the gate checks the resulting state anyway."""
    from dataclasses import replace

    from reconciler.access.checks import access_state, verify_state
    from reconciler.access.gate import gate

    cloud = applied(config)
    live = cloud.read(config)
    broken = replace(live, bucket=replace(live.bucket, public_access_block=None, encryption=None))
    refusals, _ = gate(verify_state(config, access_state(config, broken), source="plan"))
    assert "block-public-access: Block Public Access is not set" in refusals
    assert "default-encryption: no default encryption configured" in refusals


def test_gate_warns_when_it_cannot_prove_isolation() -> None:
    """A same-account role's identity policies are not read: not refused, not silently passed."""
    same_account = config_from(
        BASE_YAML.replace(
            "arn:aws:iam::111122223333:role/Uploader", "arn:aws:iam::123456789012:role/Up"
        )
    )
    the_plan = plan(same_account, FakeCloud().read(same_account))
    assert the_plan.refusals == ()
    assert any(
        w.startswith("security gate cannot prove isolation: partner-site: direct:")
        and "not read by this tool" in w
        for w in the_plan.warnings
    )


def test_no_collaborators_still_checks_the_bucket() -> None:
    from reconciler.access.checks import verify
    from tests.access_support import desired

    empty = config_from(BASE_YAML.split("collaborators:")[0] + "collaborators: []\n")
    report = verify(empty, desired(empty), source="desired")
    assert report.ok and report.rows == () and len(report.bucket_checks) == 14
