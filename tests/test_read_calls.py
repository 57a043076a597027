"""How many AWS calls a plan costs, and where tags are still read to prove ownership.
Under moto's in-process mock; calls are counted with botocore's before-call event."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from moto import mock_aws

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.aws.reader import AwsReader
from reconciler.aws.session import Clients, Connection
from reconciler.aws.writer import AwsWriter
from reconciler.model import Config, LiveState, OwnershipProof
from tests.conftest import use_fake_aws_env
from tests.fake import FakeCloud
from tests.test_concurrency import many

ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"
N = 30
# HeadBucket, GetBucketLocation, encryption, public access block, ownership controls, bucket
# policy, versioning, lifecycle, logging, one GetAccountAuthorizationDetails page and one
# ListAccessPoints page
FIXED_READS = 11


class CallLog:
    """Operation names of every call the clients make, and the most made at once."""

    def __init__(self, clients: Clients) -> None:
        self.names: list[str] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.clients = (clients.s3, clients.s3control, clients.iam, clients.sts)
        for client in self.clients:
            client.meta.events.register("before-call", self._before)
            client.meta.events.register("after-call", self._after)

    def close(self) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call", self._before)
            client.meta.events.unregister("after-call", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        with self.lock:
            self.names.append(model.name)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def _after(self, **_: Any) -> None:
        with self.lock:
            self.in_flight -= 1

    def take(self) -> Counter[str]:
        with self.lock:
            counts, self.names = Counter(self.names), []
        return counts


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Config, Clients]]:
    """N collaborators applied once for the module; tests undo what they change."""
    config = many(N)
    with pytest.MonkeyPatch.context() as env, mock_aws():
        use_fake_aws_env(env)
        clients = Clients(Connection(region="us-east-1"))
        reader = AwsReader(clients)
        assert apply_plan(plan(config, reader.read(config)), AwsWriter(clients, ACCOUNT)).ok
        yield config, clients


def read(config: Config, clients: Clients, **kwargs: Any) -> tuple[Counter[str], Any]:
    log = CallLog(clients)
    try:
        live = AwsReader(clients, **kwargs).read(config)
    finally:
        log.close()
    return log.take(), live


def set_policy(clients: Clients, name: str, document: dict[str, Any]) -> None:
    clients.s3control.put_access_point_policy(
        AccountId=ACCOUNT, Name=name, Policy=json.dumps(document)
    )


def test_no_op_plan_reads_one_policy_per_collaborator_and_no_tags(
    seeded: tuple[Config, Clients],
) -> None:
    config, clients = seeded
    counts, live = read(config, clients)
    assert counts["GetAccessPointPolicy"] == N
    assert counts["ListTagsForResource"] == 0
    assert sum(counts.values()) == N + FIXED_READS
    assert {ap.proof for ap in live.access_points.values()} == {OwnershipProof.IN_SYNC}
    assert plan(config, live).is_empty


def test_verify_tags_reads_every_access_points_tags(seeded: tuple[Config, Clients]) -> None:
    config, clients = seeded
    counts, live = read(config, clients, verify_tags=True)
    assert counts["ListTagsForResource"] == N
    assert {ap.proof for ap in live.access_points.values()} == {OwnershipProof.TAGS}
    assert plan(config, live).is_empty


def test_drifted_access_points_cost_a_tag_read_each_and_are_planned(
    seeded: tuple[Config, Clients],
) -> None:
    config, clients = seeded
    drifted = ["c004-access-point", "c017-access-point"]
    original = AwsReader(clients).read(config).access_points
    try:
        for name in drifted:
            doc = json.loads(json.dumps(original[name].policy))
            doc["Statement"][0]["Resource"] = f"{config.access_point_arn(name)}/object/*"
            set_policy(clients, name, doc)
        counts, live = read(config, clients)
        assert counts["ListTagsForResource"] == len(drifted)
        assert sum(counts.values()) == N + FIXED_READS + len(drifted)
        assert [live.access_points[n].proof for n in drifted] == [OwnershipProof.TAGS] * 2
        p = plan(config, live)
        assert [(c.action.value, c.id) for c in p.changes] == [("update", n) for n in drifted]
    finally:
        for name in drifted:
            set_policy(clients, name, dict(original[name].policy or {}))


def test_untagged_access_point_with_yaml_name_and_foreign_policy_is_still_an_error(
    seeded: tuple[Config, Clients],
) -> None:
    config, clients = seeded
    extra = many(1, first=N)  # c030, whose access point someone else made by hand
    bigger = Config(
        **{**config.__dict__, "collaborators": config.collaborators + extra.collaborators}
    )
    name = "c030-access-point"
    clients.s3control.create_access_point(AccountId=ACCOUNT, Name=name, Bucket=BUCKET)
    try:
        set_policy(
            clients,
            name,
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReconcilerWrite",  # even with our Sid prefix
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/someone-else"},
                        "Action": "s3:GetObject",
                        "Resource": f"{bigger.access_point_arn(name)}/object/*",
                    }
                ],
            },
        )
        counts, live = read(bigger, clients)
        assert counts["ListTagsForResource"] == 1
        p = plan(bigger, live)
        assert any(f"access point {name} already exists" in e for e in p.errors)
        assert not [c for c in p.changes if c.id == name]
    finally:
        clients.s3control.delete_access_point(AccountId=ACCOUNT, Name=name)


def test_access_points_not_in_the_yaml_have_their_tags_read(
    seeded: tuple[Config, Clients],
) -> None:
    config, clients = seeded
    smaller = replace(config, collaborators=config.collaborators[:-2])
    counts, live = read(smaller, clients)
    assert counts["ListTagsForResource"] == 2  # the two left out: ours, so deleted
    assert counts["GetAccessPointPolicy"] == N
    deletes = {c.id for c in plan(smaller, live).changes if c.type.value == "access_point"}
    assert deletes == {"c028-access-point", "c029-access-point"}


def test_reads_run_concurrently_within_the_worker_bound(seeded: tuple[Config, Clients]) -> None:
    config, clients = seeded
    for workers in (1, 4):
        log = CallLog(clients)
        AwsReader(clients, workers=workers).read(config)
        log.close()
        assert 1 <= log.peak <= workers
    assert log.peak > 1


# --- the planner's side: nothing is written to an access point whose tags were not read ------


def in_sync_view(config: Config) -> LiveState:
    """What the reader reports for a converged fake: every access point IN_SYNC, tags unread."""
    cloud = FakeCloud()
    apply_plan(plan(config, cloud.read(config)), cloud)
    live = cloud.read(config)
    unread = {
        name: replace(ap, tags={}, proof=OwnershipProof.IN_SYNC)
        for name, ap in live.access_points.items()
    }
    return replace(live, access_points=unread)


def test_planner_plans_nothing_for_in_sync_access_points_without_tags() -> None:
    config = many(3)
    p = plan(config, in_sync_view(config))
    assert p.is_empty and p.errors == ()


def test_planner_refuses_to_change_an_access_point_whose_tags_were_not_read() -> None:
    config = many(3)
    live = in_sync_view(config)
    ap = live.access_points["c001-access-point"]
    broad = {"Version": "2012-10-17", "Statement": [{"Sid": "ReconcilerRead", "Effect": "Allow"}]}
    live = replace(live, access_points={**live.access_points, ap.name: replace(ap, policy=broad)})
    p = plan(config, live)
    assert [e for e in p.errors if "c001-access-point" in e and "tags were not read" in e]
    assert not [c for c in p.changes if c.id == "c001-access-point"]
