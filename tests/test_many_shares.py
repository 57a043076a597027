"""Many shares in one config repo: files and folders for validate, checks across files, the
per-file access point prefix, and `reconcile matrix` (issue 15). All offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.config.files import expand
from reconciler.config.loader import load_config_text
from reconciler.config.matrix import changed_shares, entries
from tests.no_aws import offline_env, run_without_aws

ROOT = Path(__file__).resolve().parents[1]


def share(
    bucket: str,
    *,
    account: str = "123456789012",
    region: str = "us-east-1",
    extra: str = "",
    users: str = "Alice",
) -> str:
    return (
        "version: 1\n"
        f'account_id: "{account}"\n'
        f"region: {region}\n"
        "bucket:\n"
        f"  name: {bucket}\n"
        f"iam_permissions_boundary: arn:aws:iam::{account}:policy/collaborator-boundary\n"
        f"{extra}"
        "collaborators:\n"
        "  - id: site-a\n"
        f"    iam_user: {users}\n"
        "    access: [read]\n"
        "  - id: partner\n"
        "    principal: arn:aws:iam::111122223333:role/Uploader\n"
    )


def reconcile(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**offline_env(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_two_files_in_one_account_clash_where_aws_names_are_shared(tmp_path: Path) -> None:
    """Same ids in two studies: the default access point names, the IAM user (whatever its
    case) and the default iam_path collide; each problem is shown in both files, at the line,
    naming the other place."""
    write(
        tmp_path,
        {
            "shares/cardiology.yaml": share("cardiology-share"),
            "shares/oncology.yaml": share("oncology-share", users="ALICE"),
        },
    )
    result = reconcile("validate", "shares", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    err = result.stderr
    # line 8 is `- id: site-a` (the default name comes from the id), line 9 the iam_user
    assert (
        "shares/cardiology.yaml:8:5: collaborators[0].id: access point 'site-a-access-point' "
        "(the default, from id) is also used by shares/oncology.yaml:8:5 "
        "(account 123456789012, us-east-1)"
    ) in err
    assert (
        "shares/oncology.yaml:8:5: collaborators[0].id: access point 'site-a-access-point'" in err
    )
    assert "set a different access_point_prefix in one of the files" in err
    assert (
        "shares/oncology.yaml:9:5: collaborators[0].iam_user: IAM user 'ALICE' is also used by "
        "shares/cardiology.yaml:9:5 (account 123456789012)"
    ) in err
    assert "shares/cardiology.yaml:9:5: collaborators[0].iam_user: IAM user 'Alice'" in err
    assert "iam_path '/collaborators/' overlaps the iam_path of shares/oncology.yaml" in err
    assert "2 of 2 files have problems." in err
    # a partner principal may be shared by both studies
    assert "Uploader" not in err


def test_prefix_paths_and_names_keep_shares_apart(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shares/cardiology.yaml": share(
                "cardiology-share",
                extra="iam_path: /collaborators/cardiology/\naccess_point_prefix: cardio-\n",
            ),
            "shares/oncology.yaml": share(
                "oncology-share",
                users="Alice2",
                extra="iam_path: /collaborators/oncology/\naccess_point_prefix: onco-\n",
            ),
        },
    )
    result = reconcile("validate", "shares/", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "shares/cardiology.yaml is valid: 2 collaborators.\n"
        "shares/oncology.yaml is valid: 2 collaborators.\n"
        "All 2 files are valid.\n"
    )


def test_a_prefix_may_not_reach_another_shares_access_points(tmp_path: Path) -> None:
    """Issue 22: the apply role of a file with access_point_prefix writes
    accesspoint/<prefix>*: no other share of the account and Region may name an access point
    so (here: its own prefix starts with the first one's)."""
    write(
        tmp_path,
        {
            "shares/a.yaml": share("a-share", extra="iam_path: /a/\naccess_point_prefix: onco-\n"),
            "shares/b.yaml": share(
                "b-share", users="Bob", extra="iam_path: /b/\naccess_point_prefix: onco-x-\n"
            ),
            "shares/c.yaml": share(
                "c-share",
                region="eu-west-2",
                users="Carl",
                extra="iam_path: /c/\naccess_point_prefix: onco-x-\n",
            ),
        },
    )
    result = reconcile("validate", "shares/", cwd=tmp_path)
    assert result.returncode == 1
    problems = [line for line in result.stderr.splitlines() if "starts with" in line]
    assert problems == [
        f"shares/b.yaml:{line}:5: collaborators[{i}].id: access point 'onco-x-{cid}-access-point' "
        "(the default, from id) starts with access_point_prefix 'onco-' of shares/a.yaml:8:1: "
        "that share's apply role may write every access point named so; give this file an "
        "access_point_prefix (or access_point:) that does not start with it"
        for i, (line, cid) in enumerate(((10, "site-a"), (13, "partner")))
    ]


def test_the_same_bucket_in_two_files_is_an_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.yaml": share("one-share", extra="access_point_prefix: a-\n"),
            "b.yaml": share(
                "one-share",
                account="210987654321",
                extra="access_point_prefix: b-\n",
            ),
        },
    )
    result = reconcile("validate", "a.yaml", "b.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "a.yaml:5:3: bucket.name: bucket 'one-share' is also used by b.yaml:5:3" in result.stderr
    assert "b.yaml:5:3: bucket.name: bucket 'one-share' is also used by a.yaml:5:3" in result.stderr
    # other accounts: the access points, users and paths do not clash
    assert "access point '" not in result.stderr
    assert "IAM user" not in result.stderr
    assert "iam_path" not in result.stderr


def test_access_point_names_clash_per_region_but_users_per_account(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "east.yaml": share("east-share", extra="iam_path: /east/\n"),
            "west.yaml": share("west-share", region="us-west-2", extra="iam_path: /west/\n"),
        },
    )
    result = reconcile("validate", "east.yaml", "west.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "access point '" not in result.stderr
    assert "east.yaml:10:5: collaborators[0].iam_user: IAM user 'Alice'" in result.stderr


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("/collaborators/", "/collaborators/", True),
        ("/collaborators/", "/collaborators/oncology/", True),
        ("/collaborators/cardiology/", "/collaborators/oncology/", False),
    ],
)
def test_overlapping_iam_paths(tmp_path: Path, first: str, second: str, overlap: bool) -> None:
    write(
        tmp_path,
        {
            "a.yaml": share("a-share", extra=f"iam_path: {first}\naccess_point_prefix: a-\n"),
            "b.yaml": share(
                "b-share", users="Bob", extra=f"iam_path: {second}\naccess_point_prefix: b-\n"
            ),
        },
    )
    result = reconcile("validate", "a.yaml", "b.yaml", cwd=tmp_path)
    assert (result.returncode == 1) is overlap
    if overlap:
        assert f"a.yaml:7:1: iam_path: iam_path {first!r} overlaps the iam_path of b.yaml:7:1" in (
            result.stderr
        )


def test_a_share_without_iam_users_has_no_path_to_overlap(tmp_path: Path) -> None:
    partner_only = share("b-share", extra="access_point_prefix: b-\n").replace(
        "    iam_user: Alice\n", "    principal: arn:aws:iam::111122223333:role/Reader\n"
    )
    write(tmp_path, {"a.yaml": share("a-share"), "b.yaml": partner_only})
    result = reconcile("validate", "a.yaml", "b.yaml", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")


def test_cross_file_checks_run_without_any_aws_call(tmp_path: Path) -> None:
    write(tmp_path, {"s/a.yaml": share("a-share"), "s/b.yaml": share("b-share")})
    (result,) = run_without_aws([["validate", "s"]], tmp_path)
    assert result["code"] == 1
    assert "UNCAUGHT" not in str(result["stderr"])
    assert "is also used by s/b.yaml" in str(result["stderr"])


def test_access_point_prefix_applies_to_default_names_only() -> None:
    config = load_config_text(
        share(
            "x-share",
            extra="access_point_prefix: cardio-\n",
        )
        .replace("  - id: partner\n", "  - id: partner\n    access_point: partner-site-ap\n")
        .encode(),
        "x.yaml",
    )
    assert [c.access_point for c in config.collaborators] == [
        "cardio-site-a-access-point",
        "partner-site-ap",  # pinned names (existing access points) are never renamed
    ]


def test_a_prefix_that_makes_a_default_name_too_long_is_refused() -> None:
    text = share("x-share", extra="access_point_prefix: cardiology-study-1-\n").replace(
        "id: site-a", "id: site-a-with-a-long-name"
    )
    with pytest.raises(
        Exception,
        match=r"x.yaml:9:5: collaborators\[0\].id: the default access "
        r"point name 'cardiology-study-1-site-a-with-a-long-name-access-point' is 55 "
        r"characters, over AWS's 50",
    ):
        load_config_text(text.encode(), "x.yaml")


@pytest.mark.parametrize("prefix", ["Cardio-", "-cardio", "cardio_", "a" * 21])
def test_access_point_prefix_is_checked_by_the_schema(prefix: str) -> None:
    with pytest.raises(Exception, match=r"access_point_prefix"):
        load_config_text(share("x-share", extra=f"access_point_prefix: {prefix}\n").encode(), "x")


def test_folders_expand_to_their_yaml_files_sorted_and_hidden_ones_skipped(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shares/b.yml": "",
            "shares/a.yaml": "",
            "shares/sub/c.yaml": "",
            "shares/.hidden.yaml": "",
            "shares/.sandbox/state.yaml": "",
            "shares/notes.md": "",
        },
    )
    found = expand([str(tmp_path / "shares"), str(tmp_path / "shares" / "a.yaml")])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "shares/a.yaml",
        "shares/b.yml",
        "shares/sub/c.yaml",
    ]


# --- reconcile matrix ----------------------------------------------------------------------


def test_matrix_has_one_entry_per_file_in_a_stable_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shares/oncology.yaml": share("oncology-share", region="eu-west-1"),
            "shares/cardiology.yaml": share("cardiology-share", account="210987654321"),
            "shares/broken.yaml": "version: [\n",
        },
    )
    result = reconcile("matrix", "shares", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1  # one line, for $GITHUB_OUTPUT
    assert json.loads(result.stdout) == {
        "include": [
            # a file with mistakes keeps its job: its validate step reports them
            {
                "name": "broken",
                "config": "shares/broken.yaml",
                "account_id": "",
                "region": "",
                "bucket": "",
            },
            {
                "name": "cardiology",
                "config": "shares/cardiology.yaml",
                "account_id": "210987654321",
                "region": "us-east-1",
                "bucket": "cardiology-share",
            },
            {
                "name": "oncology",
                "config": "shares/oncology.yaml",
                "account_id": "123456789012",
                "region": "eu-west-1",
                "bucket": "oncology-share",
            },
        ]
    }


def test_matrix_names_stay_unique_when_file_names_repeat(tmp_path: Path) -> None:
    write(tmp_path, {"eu/study.yaml": share("a"), "us/study.yaml": share("b")})
    names = [e["name"] for e in entries(expand([str(tmp_path / "eu"), str(tmp_path / "us")]))]
    assert len(set(names)) == 2
    assert all(n.endswith(("eu-study", "us-study")) for n in names)


def test_matrix_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = reconcile("matrix", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr.splitlines()[0] == "error: Invalid value for PATHS: no such file: nope.yaml"
    )


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def config_repo(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "shares/cardiology.yaml": share("cardiology-share"),
            "shares/oncology.yaml": share("oncology-share"),
            "README.md": "# shares\n",
        },
    )
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "init")
    _git(tmp_path, "checkout", "-qb", "change")
    return tmp_path


def _matrix_configs(repo: Path, *args: str) -> list[str]:
    result = reconcile("matrix", "shares", *args, cwd=repo)
    assert result.returncode == 0, result.stderr
    return [entry["config"] for entry in json.loads(result.stdout)["include"]]


def test_changed_since_keeps_the_files_a_pull_request_touched(config_repo: Path) -> None:
    assert _matrix_configs(config_repo, "--changed-since", "main") == []
    with (config_repo / "shares/oncology.yaml").open("a") as f:
        f.write("# a comment\n")
    (config_repo / "README.md").write_text("# docs never make every share run\n")
    _git(config_repo, "commit", "-qam", "edit")
    assert _matrix_configs(config_repo, "--changed-since", "main") == ["shares/oncology.yaml"]


def test_changed_since_keeps_every_file_when_shared_settings_change(config_repo: Path) -> None:
    (config_repo / ".github").mkdir()
    (config_repo / ".github/plan.yml").write_text("on: push\n")
    _git(config_repo, "add", "-A")
    _git(config_repo, "commit", "-qm", "workflow")
    assert _matrix_configs(config_repo, "--changed-since", "main") == [
        "shares/cardiology.yaml",
        "shares/oncology.yaml",
    ]


def test_changed_since_an_unknown_ref_names_the_option(config_repo: Path) -> None:
    result = reconcile("matrix", "shares", "--changed-since", "no-such-ref", cwd=config_repo)
    assert result.returncode == 1
    assert result.stderr.startswith("error: Invalid value for --changed-since: ")
    assert "Traceback" not in result.stderr


def test_changed_shares_is_pure_over_resolved_paths(tmp_path: Path) -> None:
    files = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    assert changed_shares(files, [tmp_path / "b.yaml", tmp_path / "x.md"]) == [files[1]]
    assert changed_shares(files, [tmp_path / "defaults.json"]) == files


def test_many_files_load_in_worker_processes_with_the_serial_results(tmp_path: Path) -> None:
    from reconciler.config import shares as shares_module

    names = [f"s{i}.yaml" for i in range(shares_module.PARALLEL_FROM + 2)]
    write(tmp_path, {name: share(f"b{i}-share") for i, name in enumerate(names)})
    (tmp_path / names[2]).write_text("version: 2\n")  # invalid: comes back as problems
    files = [tmp_path / name for name in names]
    parallel = shares_module.load_shares(files)
    assert parallel == [shares_module._load(path) for path in files]
    assert [type(x).__name__ for x in parallel].count("tuple") == 1
    assert parallel[2][0] == str(files[2])


# --- reconcile gather: one comment for every share's plan ----------------------------------


def _plans(root: Path, shares: dict[str, tuple[int | str | None, str | None]]) -> Path:
    folder = root / "plans"
    for name, (code, markdown) in shares.items():
        job = folder / f"plan-{name}"
        job.mkdir(parents=True)
        result = {"name": name, "config": f"shares/{name}.yaml", "bucket": f"{name}-share"}
        (job / "share.json").write_text(json.dumps({**result, "exit_code": code}))
        if markdown is not None:
            (job / "plan.md").write_text(markdown)
    return folder


def test_gather_puts_changed_shares_first_and_lists_every_share(tmp_path: Path) -> None:
    folder = _plans(
        tmp_path,
        {
            "alpha": (0, "### Reconciler plan\n\nNo changes.\n"),
            "beta": ("2", "### Reconciler plan\n\nPlan: 1 to create\n"),  # a shell's exit code
            "gamma": (3, "### Reconciler plan\n\nRefused: mass delete\n"),
            "delta": (None, None),  # the job failed before planning
        },
    )
    result = reconcile("gather", str(folder), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    out = result.stdout
    assert "4 shares: 1 changes pending, 1 refused by a safety rule, 1 failed, 1 no changes." in out
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `beta` | `shares/beta.yaml` | `beta-share` | changes pending |",
        "| `gamma` | `shares/gamma.yaml` | `gamma-share` | refused by a safety rule |",
        "| `delta` | `shares/delta.yaml` | `delta-share` | failed |",
        "| `alpha` | `shares/alpha.yaml` | `alpha-share` | no changes |",
    ]
    sections = [out.index(f"<code>{n}</code>") for n in ("beta", "gamma", "delta", "alpha")]
    assert sections == sorted(sections)
    assert "<details open><summary><code>beta</code>: changes pending" in out
    assert "<details><summary><code>alpha</code>: no changes" in out
    assert "The job stopped before it could plan" in out


def test_gather_stays_under_the_comment_limit_and_points_to_what_it_left_out(
    tmp_path: Path,
) -> None:
    big = "### Reconciler plan\n\n" + "x" * 20_000 + "\n"
    folder = _plans(tmp_path, {f"s{i}": (2, big) for i in range(6)} | {"quiet": (0, "ok\n")})
    result = reconcile("gather", str(folder), "--max-chars", "50000", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) <= 50_000
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == 7  # the table always covers every share
    # two 20,000-character plans fit, then the small one; four point to their job summaries
    assert result.stdout.count("its plan did not fit in this comment") == 4
    assert "<code>quiet</code>: no changes" in result.stdout
    assert "the plans of 4 of 7 shares are not shown here" in result.stdout


def test_gather_shows_names_only_as_inert_code(tmp_path: Path) -> None:
    from reconciler.render.shares import ShareResult, render_shares

    text = render_shares([ShareResult("a`|b", "x.yaml", "<img src=x>", 0, "fine\n")])
    assert "| `a'/b` | `x.yaml` | `<img src=x>` | no changes |" in text
    assert "<code>a`|b</code>" in text


def test_gather_without_results_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    result = reconcile("gather", "plans", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: Invalid value for FOLDER: no */share.json in plans")


def test_matrix_reads_keys_that_come_after_the_collaborators_too(tmp_path: Path) -> None:
    text = share("late-share", account="210987654321")
    head, rest = text.split("collaborators:\n")
    late = (
        "version: 1\ncollaborators:\n"
        + rest
        + "\n".join(line for line in head.splitlines() if not line.startswith("version"))
        + "\n"
    )
    write(tmp_path, {"late.yaml": late})
    (entry,) = entries([tmp_path / "late.yaml"])
    assert (entry["account_id"], entry["region"], entry["bucket"]) == (
        "210987654321",
        "us-east-1",
        "late-share",
    )
