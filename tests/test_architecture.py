"""The SDK stays at the edge: boto3/botocore/moto only under reconciler/aws/."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"
SDK = {"boto3", "botocore", "moto"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_sdk_imported_only_in_aws_package() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "aws" not in path.relative_to(PACKAGE).parts and _imports(path) & SDK
    ]
    assert offenders == []


def test_only_cli_prints() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__main__.py" or "cli" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def _reconciler_imports(path: Path) -> set[str]:
    """Full module names imported from the reconciler package (`from reconciler import x`
    counts as `reconciler.x`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "reconciler":
                names.update(f"reconciler.{alias.name}" for alias in node.names)
            else:
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("reconciler")}


# The stages, bottom to top, and what each may import (besides itself). The folder names are the
# pipeline: load desired (config) -> read live (aws) -> plan -> review (access) -> apply /
# reports / render. Nothing imports upward; only cli wires everything together (issue 19).
FOUNDATION = {
    "reconciler",
    "reconciler.__version__",
    "reconciler.errors",
    "reconciler.model",
    "reconciler.workers",
}
ALLOWED: dict[str, set[str]] = {
    "foundation": set(),
    "interfaces": set(),
    "documents": set(),
    "config": {"documents"},
    "plan": {"documents"},
    "access": {"documents", "plan"},
    "reports": {"documents", "plan"},
    "render": {"documents", "plan", "access", "reports", "apply"},
    "importer": {"documents", "render"},
    "apply": {"interfaces", "plan"},
    "starter": {"config"},
    "aws": {"interfaces", "documents", "config", "plan", "access", "reports", "importer", "apply"},
    "cli": {"*"},
}


def _stage(module: str) -> str:
    if module in FOUNDATION:
        return "foundation"
    part = module.split(".")[1]
    return "cli" if part == "__main__" else part


def test_each_stage_imports_only_the_stages_below_it() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(("reconciler", *path.relative_to(PACKAGE).with_suffix("").parts))
        module = module.removesuffix(".__init__")
        stage = _stage(module)
        assert stage in ALLOWED, f"{module}: a stage the architecture test does not know"
        allowed = ALLOWED[stage]
        for name in _reconciler_imports(path):
            target = _stage(name)
            if target not in {"foundation", stage} and "*" not in allowed and target not in allowed:
                offenders.append(f"{module} -> {name}")
    assert offenders == []


def test_the_root_holds_only_the_foundation() -> None:
    """New modules go into the stage they belong to, not beside the others at the root."""
    loose = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert loose == [
        "__init__.py",
        "__main__.py",
        "errors.py",
        "importer.py",
        "interfaces.py",
        "model.py",
        "workers.py",
    ]


def test_every_package_says_what_it_holds_and_may_import() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "import" in doc, f"{init.relative_to(PACKAGE)}: no opening comment on its imports"


def test_every_command_module_is_known_to_the_lazy_group() -> None:
    """Commands are imported when they run (reconciler.cli.app.COMMAND_MODULES): a module that
    defines a command but is missing there would make the command silently not exist."""
    from reconciler.cli.app import COMMAND_MODULES

    defining = {
        path.stem
        for path in (PACKAGE / "cli").glob("*.py")
        if re.search(r"^@cli\.(command|group)\(", path.read_text(), re.MULTILINE)
    }
    assert defining == set(COMMAND_MODULES.values())


def test_validate_and_matrix_start_without_the_sdk() -> None:
    """Pre-commit hooks and fan-out jobs run these: they must not pay for boto3 or deepdiff."""
    import subprocess
    import sys

    code = (
        "import sys; from reconciler.cli import cli; "
        "cli.get_command(None, 'validate'); cli.get_command(None, 'matrix'); "
        "print(sorted(m for m in ('boto3', 'botocore', 'deepdiff', 'moto') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
