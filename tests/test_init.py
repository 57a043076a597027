"""`reconcile init [DIR]`: a ready config repository that validates, whose workflows pass
GitHub's schema and zizmor, and that never overwrites anything. The project's own plan and apply
workflows are the same templates."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import __version__
from reconciler.config.contract import schema
from reconciler.starter import SELF, TEMPLATES, WORKFLOWS, workflow
from reconciler.starter.source import action_from_direct_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMIT = "0123456789abcdef0123456789abcdef01234567"
ACTION = f"my-org/s3-collaborator-reconciler@{COMMIT}"


def init(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`reconcile init ARGS`: exit code, and stdout + stderr."""
    result = subprocess.run(
        [str(BIN / "reconcile"), "init", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RECONCILE_ACTION": "", **(env or {})},
    )
    return result.returncode, result.stdout + result.stderr


def tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("config") / "my-share"
    code, output = init(str(folder), "--action", ACTION)
    assert code == 0, output
    return folder


def test_init_writes_every_file_and_says_so(repo: Path) -> None:
    written = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file())
    assert written == sorted(TEMPLATES)
    code, output = init(str(repo.parent / "again"), "--action", ACTION)
    assert code == 0
    assert output.splitlines()[0] == (
        f"Wrote a config repository in {repo.parent / 'again'}/ "
        f"(workflows use {ACTION} # v{__version__}):"
    )
    for path in TEMPLATES:
        assert f"\n  {path}\n" in output
    # the set-up starts with the environment the apply job runs in (tests/test_oidc_trust.py)
    assert "the GitHub environment `reconciler-apply`" in output


def test_the_config_validates_with_the_tool(repo: Path) -> None:
    result = tool("reconcile", "validate", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "collaborators.yaml is valid: 2 collaborators.\n"


def test_the_editor_schema_line_points_to_this_versions_schema(repo: Path) -> None:
    first = (repo / "collaborators.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=schema/collaborators.schema.json"
    assert json.loads((repo / "schema" / "collaborators.schema.json").read_text()) == schema()


def test_generated_workflows_match_githubs_schema(repo: Path) -> None:
    files = [str(p) for p in sorted((repo / ".github" / "workflows").glob("*.yml"))]
    assert len(files) == 2
    result = tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files, cwd=repo
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_in_the_generated_repository(repo: Path) -> None:
    result = tool("zizmor", "--offline", "--persona=pedantic", "--format=json", ".", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []
    assert "zizmor: ignore" not in "".join(p.read_text() for p in repo.rglob("*.yml"))


def test_workflows_use_the_action_pinned_to_a_commit_with_the_version(repo: Path) -> None:
    for name in WORKFLOWS:
        text = (repo / ".github" / "workflows" / name).read_text()
        assert "@@" not in text
        assert f"uses: {ACTION} # v{__version__}\n" in text
        assert text == workflow(name, f"{ACTION} # v{__version__}")


def test_readme_and_codeowners(repo: Path) -> None:
    readme = (repo / "README.md").read_text()
    assert "## The pull-request loop" in readme and "## Set-up" in readme
    docs = f"https://github.com/my-org/s3-collaborator-reconciler/blob/{COMMIT}/docs"
    assert f"]({docs}/ci-setup.md)" in readme and f"]({docs}/yaml-reference.md)" in readme
    assert "@@" not in readme
    install = f"s3-collaborator-reconciler[sandbox] @ git+https://github.com/my-org/s3-collaborator-reconciler@{COMMIT}"
    assert f"`pip install '{install}'`" in readme
    owners = (repo / ".github" / "CODEOWNERS").read_text()
    assert "# /collaborators.yaml   @my-org/data-custodians" in owners
    assert "# /.github/" in owners


def test_the_projects_own_workflows_are_the_templates() -> None:
    for name in WORKFLOWS:
        assert (ROOT / ".github" / "workflows" / name).read_text() == workflow(name, SELF), name


# --- refusals ---------------------------------------------------------------------------------


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text("* @me\n")
    (tmp_path / "README.md").write_text("mine\n")
    code, output = init(str(tmp_path), "--action", ACTION)
    assert code == 1
    assert output == (
        f"error: {tmp_path}: 2 files already exist (.github/CODEOWNERS, README.md); nothing was "
        "written (init never overwrites: pick an empty folder)\n"
    )
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        ".github",
        ".github/CODEOWNERS",
        "README.md",
    ]
    assert (tmp_path / "README.md").read_text() == "mine\n"


def test_without_action_or_a_github_install_it_asks_for_action(tmp_path: Path) -> None:
    code, output = init(str(tmp_path / "x"))
    assert code == 1
    assert output.startswith("error: --action is needed: this copy was not installed from a")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "value", ["my-org/repo@v0.1.0", "my-org/repo", f"repo@{COMMIT}", f"a/b@{COMMIT[:12]}"]
)
def test_a_tag_or_short_sha_is_refused(tmp_path: Path, value: str) -> None:
    code, output = init(str(tmp_path / "x"), "--action", value)
    assert code != 0
    assert "Invalid value for '--action'" in output
    assert "full 40-character commit SHA" in output
    assert not (tmp_path / "x").exists()


def test_the_action_can_come_from_the_environment(tmp_path: Path) -> None:
    code, output = init(str(tmp_path / "x"), env={"RECONCILE_ACTION": ACTION})
    assert code == 0, output
    assert (
        f"uses: {ACTION} # v" in (tmp_path / "x" / ".github" / "workflows" / "plan.yml").read_text()
    )


# --- where this copy was installed from (PEP 610 direct_url.json) ----------------------------


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            {
                "url": "https://github.com/my-org/s3-collaborator-reconciler",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "v0.1.0"},
            },
            f"my-org/s3-collaborator-reconciler@{COMMIT}",
        ),
        (
            {
                "url": "ssh://git@github.com/o/r.git",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT},
            },
            f"o/r@{COMMIT}",
        ),
        ({"url": "https://gitlab.com/o/r", "vcs_info": {"vcs": "git", "commit_id": COMMIT}}, None),
        ({"url": "https://github.com/o/r", "vcs_info": {"vcs": "git", "commit_id": "abc"}}, None),
        ({"url": "file:///src/reconciler", "dir_info": {"editable": True}}, None),
        ({"url": "https://files.example/x.whl", "archive_info": {}}, None),
    ],
    ids=["https", "ssh", "not-github", "short-commit", "editable", "archive"],
)
def test_the_install_source_gives_the_action(doc: dict[str, object], expected: str | None) -> None:
    assert action_from_direct_url(json.dumps(doc)) == expected
    assert action_from_direct_url("not json") is None


def test_templates_ship_in_the_wheel() -> None:
    from hatchling.builders.wheel import WheelBuilder

    shipped = {f.distribution_path for f in WheelBuilder(str(ROOT)).recurse_included_files()}
    templates = ROOT / "reconciler" / "starter" / "templates"
    expected = {str(p.relative_to(ROOT)) for p in templates.rglob("*") if p.is_file()}
    assert len(expected) == 6
    assert expected <= shipped
    assert "reconciler/config/collaborators.schema.json" in shipped


def test_account_region_and_bucket_can_be_given(tmp_path: Path) -> None:
    options = ["--account-id", "111122223333", "--region", "eu-west-2", "--bucket", "trial-share"]
    code, output = init(str(tmp_path), "--action", ACTION, *options)
    assert code == 0, output
    text = (tmp_path / "collaborators.yaml").read_text()
    assert '\naccount_id: "111122223333"\nregion: eu-west-2\n' in text
    assert "\n  name: trial-share\n" in text
    result = tool("reconcile", "validate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    code, output = init(str(tmp_path / "b"), "--action", ACTION, "--account-id", "210987654321")
    assert (
        "\n  name: clinical-share-210987654321\n"
        in (tmp_path / "b" / "collaborators.yaml").read_text()
    )


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--account-id", "1234", "account_id"),
        ("--account-id", '1"\nx: y', "account_id"),
        ("--region", "mars", "region"),
        ("--bucket", "Bad_Name", "bucket.name"),
    ],
)
def test_a_wrong_value_names_its_option_and_writes_nothing(
    tmp_path: Path, option: str, value: str, field: str
) -> None:
    code, output = init(str(tmp_path / "x"), "--action", ACTION, option, value)
    assert code == 1
    # --region is checked against botocore's Regions first, like every command's (issue 20)
    what = "an AWS Region name" if option == "--region" else f"a valid {field}"
    assert output.startswith(f"error: Invalid value for '{option}': {value!r} is not {what}")
    assert not (tmp_path / "x").exists()


def test_an_unwritable_folder_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    code, output = init(str(tmp_path / "file" / "sub"), "--action", ACTION)
    assert code == 1
    assert output.startswith(
        f"error: {tmp_path / 'file' / 'sub'}/collaborators.yaml: cannot write: "
    )
    assert "Traceback" not in output and "unexpected" not in output


def test_the_gitignore_keeps_the_sandbox_state_out_of_git(repo: Path) -> None:
    from reconciler.aws.sandbox import DIR_NAME

    assert f"\n{DIR_NAME}/\n" in (repo / ".gitignore").read_text()


def test_the_starter_partner_is_in_another_account_than_the_readme_example(
    tmp_path: Path,
) -> None:
    """Following the README (`--account-id 111122223333`) must not make the example partner a
    role of the share's own account, whose identity policies verify cannot read."""
    readme = (ROOT / "README.md").read_text()
    account = re.search(r"reconcile init \S+ --account-id (\d{12})", readme)
    assert account is not None
    starter = (ROOT / "reconciler/starter/templates/collaborators.yaml").read_text()
    partners = re.findall(r"principal: arn:aws:iam::(\d{12}):", starter)
    assert partners and account.group(1) not in partners
