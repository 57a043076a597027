"""A release people can install: the wheel alone, in a fresh virtual environment outside the
checkout, runs `reconcile init` and a sandbox apply in an empty folder (the release workflow's
smoke job does the same on GitHub); `reconcile --version` names the commit, from a checkout and
from an installed wheel; the release workflow checks the tag against the version and
CHANGELOG.md, and publishes by trusted publishing with the OIDC permission on that job only.

The smoke test takes about 20 s (building the wheel ~2 s, installing it ~8 s, init and apply
~10 s). It installs offline: the new environment sees the dev environment's packages (a .pth
line), so pip resolves the wheel's dependencies and its `sandbox` extra without an index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli.app import cli
from reconciler.starter.build import Build, from_document, this_build
from reconciler.starter.source import action_from_build

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
REPOSITORY = "my-org/s3-collaborator-reconciler"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


# --- reconcile --version ------------------------------------------------------------------------


def test_version_names_the_commit_of_the_checkout() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    head = git("rev-parse", "HEAD")
    assert result.output.startswith(f"reconcile {__version__} (commit {head[:12]}")
    assert result.output.endswith(", from a git checkout)\n")
    assert result.output == this_build().describe() + "\n"


@pytest.mark.parametrize(
    ("build", "line"),
    [
        (
            Build(__version__, COMMIT, False, REPOSITORY, "build"),
            f"reconcile {__version__} (commit 0123456789ab, {REPOSITORY})",
        ),
        (
            Build(__version__, COMMIT, True, None, "build"),
            f"reconcile {__version__} (commit 0123456789ab with uncommitted changes)",
        ),
        (
            Build(__version__),
            f"reconcile {__version__} (commit unknown: not built from a git checkout)",
        ),
    ],
    ids=["release", "dirty", "unknown"],
)
def test_version_line(build: Build, line: str) -> None:
    assert build.describe() == line


def test_the_build_record_is_read_strictly() -> None:
    doc = {"commit": COMMIT, "dirty": False, "repository": REPOSITORY}
    assert from_document(json.dumps(doc)) == Build(__version__, COMMIT, False, REPOSITORY, "build")
    assert from_document(json.dumps({**doc, "repository": "not a repo"})) == Build(
        __version__, COMMIT, False, None, "build"
    )
    for bad in ["", "[]", json.dumps({**doc, "commit": "abc"}), "{"]:
        assert from_document(bad) is None


def test_init_pins_the_commit_of_a_clean_release_build_only() -> None:
    clean = Build(__version__, COMMIT, False, REPOSITORY, "build")
    assert action_from_build(clean) == f"{REPOSITORY}@{COMMIT}"
    assert action_from_build(Build(__version__, COMMIT, True, REPOSITORY, "build")) is None
    assert action_from_build(Build(__version__, COMMIT, False, None, "build")) is None
    assert action_from_build(Build(__version__, COMMIT, False, REPOSITORY, "checkout")) is None


# --- the smoke test: the wheel alone ------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from this checkout as the release workflow builds it on GitHub (where
    GITHUB_REPOSITORY names the repository)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GITHUB_REPOSITORY": REPOSITORY},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = out.glob("*.whl")
    return built


def fresh_venv(folder: Path) -> Path:
    """A virtual environment that sees the dev environment's packages but not this checkout:
    the wheel installs offline (pip finds its dependencies installed), and `reconciler` is
    imported from the wheel only (the dev environment's editable hook is not processed)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "dev-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "RECONCILE_", "PYTHON", "VIRTUAL_ENV", "GITHUB_"))
    }
    return {**env, "NO_COLOR": "1", **extra}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=180, env=clean_env()
    )


def test_the_wheel_alone_inits_and_applies_in_the_sandbox(wheel: Path, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--quiet",
            "--disable-pip-version-check",
            f"{wheel}[sandbox]",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=clean_env(),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    reconcile = str(tmp_path / "venv" / "bin" / "reconcile")
    empty = tmp_path / "empty"
    empty.mkdir()
    where = run([str(python), "-c", "import reconciler; print(reconciler.__file__)"], empty)
    assert where.stdout.startswith(str(tmp_path / "venv")), where.stdout

    # the version and the commit the wheel was built from
    version = run([reconcile, "--version"], empty)
    assert version.returncode == 0, version.stderr
    head = git("rev-parse", "HEAD")
    assert version.stdout.startswith(f"reconcile {__version__} (commit {head[:12]}")
    assert "from a git checkout" not in version.stdout

    # init: from a clean build, the action is the repository and commit the wheel was built
    # from; with uncommitted changes (a developer's run), init asks for it
    dirty = "uncommitted changes" in version.stdout
    init = run(
        [reconcile, "init", "my-share", *(["--action", f"{REPOSITORY}@{head}"] * dirty)], empty
    )
    assert init.returncode == 0, init.stdout + init.stderr
    assert f"(workflows use {REPOSITORY}@{head} # v{__version__})" in init.stdout
    share = empty / "my-share"

    validate = run([reconcile, "validate"], share)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    apply = run([reconcile, "apply", "--sandbox", "--auto-approve"], share)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert "Converged: a fresh plan finds no changes." in apply.stdout
    plan = run([reconcile, "plan", "--sandbox", "--detailed-exitcode"], share)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert plan.stdout == "No changes. Live state matches collaborators.yaml.\n"


def test_the_wheel_records_its_commit_and_repository(wheel: Path, tmp_path: Path) -> None:
    shutil.unpack_archive(str(wheel), str(tmp_path), format="zip")
    doc = json.loads((tmp_path / "reconciler" / "starter" / "build-info.json").read_text())
    assert doc["commit"] == git("rev-parse", "HEAD")
    assert doc["repository"] == REPOSITORY
    assert doc["dirty"] is bool(git("status", "--porcelain", "--untracked-files=no"))


# --- the release workflow -----------------------------------------------------------------------


def load() -> dict[Any, Any]:
    data = yaml.safe_load(RELEASE.read_text())
    assert isinstance(data, dict)
    data["on"] = data.pop(True)
    return data


def test_the_release_runs_on_version_tags_in_order() -> None:
    workflow = load()
    assert workflow["on"] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert list(jobs) == ["build", "smoke", "github-release", "pypi"]
    assert jobs["smoke"]["needs"] == "build"
    assert jobs["github-release"]["needs"] == ["build", "smoke"]
    assert jobs["pypi"]["needs"] == ["build", "smoke", "github-release"]


def test_only_the_pypi_job_gets_an_oidc_token() -> None:
    jobs = load()["jobs"]
    assert jobs["pypi"]["permissions"] == {"id-token": "write"}
    assert jobs["pypi"]["environment"]["name"] == "pypi"
    publish = jobs["pypi"]["steps"][-1]
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in publish  # no token, no password: trusted publishing
    for name, job in jobs.items():
        if name != "pypi":
            assert "id-token" not in job["permissions"], name
            assert "environment" not in job, name
    assert jobs["github-release"]["permissions"] == {"contents": "write"}


def test_the_smoke_job_installs_the_wheel_alone_and_runs_init_and_a_sandbox_apply() -> None:
    job = load()["jobs"]["smoke"]
    assert not any("checkout" in step.get("uses", "") for step in job["steps"])
    script = job["steps"][-1]["run"]
    assert 'cd "$RUNNER_TEMP"' in script and "python -m venv smoke-venv" in script
    assert 'pip install --disable-pip-version-check "${wheels[0]}[sandbox]"' in script
    order = [
        '"$reconcile" --version',
        'grep -q "commit ${COMMIT:0:12}" version.txt',
        "mkdir empty && cd empty",
        '"$reconcile" init my-share',
        '"$reconcile" validate',
        '"$reconcile" apply --sandbox --auto-approve',
        '"$reconcile" plan --sandbox --detailed-exitcode',
    ]
    positions = [script.index(line) for line in order]
    assert positions == sorted(positions)


def version_step() -> dict[str, Any]:
    steps = load()["jobs"]["build"]["steps"]
    step: dict[str, Any] = next(s for s in steps if s.get("id") == "version")
    return step


def check_tag(tag: str, cwd: Path, temp: Path) -> subprocess.CompletedProcess[str]:
    out = temp / "output"
    out.write_text("")
    return subprocess.run(
        ["bash", "-e", "-c", version_step()["run"]],
        cwd=cwd,
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "TAG": tag,
            "RUNNER_TEMP": str(temp),
            "GITHUB_OUTPUT": str(out),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_tag_must_be_the_version_and_the_changelog_says_what_changed(tmp_path: Path) -> None:
    assert version_step()["env"] == {"TAG": "${{ github.ref_name }}"}
    done = check_tag(f"v{__version__}", ROOT, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "output").read_text() == f"version={__version__}\n"
    notes = (tmp_path / "notes" / "release-notes.md").read_text()
    assert "The first release" in notes and "## [" not in notes

    wrong = check_tag("v99.0.0", ROOT, tmp_path)
    assert wrong.returncode == 1
    assert wrong.stdout.startswith(
        f"::error::the tag v99.0.0 is not the version in reconciler/__init__.py (v{__version__})"
    )


def test_a_version_missing_from_the_changelog_is_not_released(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "reconciler").mkdir(parents=True)
    shutil.copy(ROOT / "reconciler" / "__init__.py", repo / "reconciler" / "__init__.py")
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n\n- something\n")
    done = check_tag(f"v{__version__}", repo, tmp_path)
    assert done.returncode == 1
    assert f"CHANGELOG.md has no section '## [{__version__}]'" in done.stdout


@pytest.mark.parametrize(
    ("build", "why"),
    [
        (
            Build(__version__, COMMIT, True, REPOSITORY, "build"),
            "was built from commit 0123456789ab with uncommitted changes",
        ),
        (
            Build(__version__, COMMIT, False, None, "build"),
            "was built from commit 0123456789ab outside GitHub (no repository known)",
        ),
    ],
    ids=["dirty", "no-repository"],
)
def test_init_says_why_a_wheel_cannot_name_its_action(
    build: Build, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reconciler.cli.init_cmd as init_cmd
    import reconciler.starter.source as source

    monkeypatch.setattr(init_cmd, "this_build", lambda: build)
    monkeypatch.setattr(source, "this_build", lambda: build)
    monkeypatch.delenv("RECONCILE_ACTION", raising=False)
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert f"Error: --action is needed: this copy {why}, so init cannot tell" in result.output
    clean = Build(__version__, COMMIT, False, REPOSITORY, "build")
    monkeypatch.setattr(source, "this_build", lambda: clean)
    done = CliRunner().invoke(cli, ["init", str(tmp_path / "y")])
    assert done.exit_code == 0, done.output
    assert f"(workflows use {REPOSITORY}@{COMMIT} # v{__version__})" in done.output
