"""The SDK stays at the edge: boto3/botocore/moto only under reconciler/aws/."""

import ast
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


def test_planner_does_not_import_the_review_stage() -> None:
    """load -> read -> plan -> review -> render/apply: the review (reconciler.access) builds on
    the planner's output, never the other way round (issue 13, section 7)."""
    planner_modules = [PACKAGE / "planner.py", PACKAGE / "plan.py", PACKAGE / "policies.py"]
    offenders = {
        path.name: sorted(n for n in _reconciler_imports(path) if n.startswith("reconciler.access"))
        for path in planner_modules
    }
    assert offenders == {path.name: [] for path in planner_modules}
