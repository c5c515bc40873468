"""The architecture stays visible: process boundary kept, package fit for plugins.qgis.org."""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
import zipfile

import pytest

from tests.paths import REPO_ROOT

HEAVY = {"torch", "onnxruntime", "llama_cpp", "rasterio", "onnx", "numpy"}
STDLIB = set(sys.stdlib_module_names)
REQUIRED_METADATA = [
    "name",
    "qgisMinimumVersion",
    "description",
    "about",
    "version",
    "author",
    "email",
    "repository",
    "tracker",
    "homepage",
    "category",
    "icon",
    "tags",
    "experimental",
    "hasProcessingProvider",
]


def _imported_roots(folder: str) -> dict[str, set[str]]:
    """Top-level module names imported (absolutely) by each Python file under ``folder``."""
    found = {}
    for path in (REPO_ROOT / folder).rglob("*.py"):
        roots = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
        found[str(path.relative_to(REPO_ROOT))] = roots
    return found


def test_plugin_never_imports_heavy_backend_libraries():
    offenders = {f: r & HEAVY for f, r in _imported_roots("plugin").items() if r & HEAVY}
    assert not offenders, f"plugin/ must talk to the backend worker instead: {offenders}"


def test_backend_never_imports_qgis():
    offenders = {f: r & {"qgis", "PyQt5"} for f, r in _imported_roots("backend").items() if r & {"qgis", "PyQt5"}}
    assert not offenders, offenders


def test_common_uses_the_standard_library_only():
    offenders = {f: r - STDLIB for f, r in _imported_roots("common").items() if r - STDLIB}
    assert not offenders, offenders


def _package(root, out_dir) -> subprocess.CompletedProcess:
    """Run ``root``'s scripts/package.sh, writing the zip into ``out_dir``."""
    return subprocess.run(
        ["bash", str(root / "scripts" / "package.sh")],
        env=dict(os.environ, PACKAGE_DIR=str(out_dir)),
        capture_output=True,
        text=True,
    )


def test_package_zip_is_fit_for_the_plugin_repository(tmp_path):
    built = _package(REPO_ROOT, tmp_path)
    assert built.returncode == 0, built.stderr
    (archive,) = tmp_path.glob("landfuse-*.zip")
    assert archive.stat().st_size <= 25_000_000  # the plugin repository's upload limit
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert {n.split("/")[0] for n in names} == {"landfuse"}
        assert not [n for n in names if "__pycache__" in n or ".venv" in n or n.endswith(".pyc")]
        assert all(info.file_size <= 8 * 2**20 for info in zf.infolist())
        assert {
            f"landfuse/resources/models/{m}-lite.onnx" for m in ("claire", "specsar_former", "cloudseg", "edc")
        } <= set(names)
        metadata = configparser.ConfigParser()
        metadata.read_string(zf.read("landfuse/metadata.txt").decode())
        general = metadata["general"]
        missing = [key for key in REQUIRED_METADATA if not general.get(key)]
        assert not missing, missing
        assert general["qgisMinimumVersion"] == "3.22"
        assert general["hasProcessingProvider"] == "yes"
        assert f"landfuse/{general['icon']}" in names
        assert "landfuse/LICENSE" in names and "landfuse/__init__.py" in names
        assert "landfuse/i18n/landfuse_en.ts" in names and "landfuse/i18n/update_template.py" not in names
        assert "landfuse/plugin/dock/dock.py" in names and not [n for n in names if n.startswith("landfuse/scripts/")]


def _plugin_checkout(folder, metadata: str | None = None):
    """A minimal plugin checkout (a git work tree) in ``folder`` with this repository's packaging script."""
    for name in ("metadata.txt", "__init__.py", "LICENSE", "resources/icon.png", "scripts/package.sh"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes((REPO_ROOT / name).read_bytes())
    if metadata is not None:
        (folder / "metadata.txt").write_text(metadata)
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return folder


def test_package_refuses_to_drop_a_file_over_8_mb(tmp_path):
    checkout = _plugin_checkout(tmp_path / "plugin")
    (checkout / "resources" / "big.onnx").write_bytes(b"\0" * (8 * 2**20 + 1))
    built = _package(checkout, tmp_path / "dist")
    assert built.returncode != 0 and "resources/big.onnx is over 8 MB" in built.stderr
    assert not list((tmp_path / "dist").glob("*.zip"))


def test_package_checks_what_the_plugin_repository_checks(tmp_path):
    metadata = (REPO_ROOT / "metadata.txt").read_text()
    broken = "\n".join(
        line for line in metadata.splitlines() if not line.startswith(("tracker=", "email=", "icon="))
    ).replace("repository=https://", "repository=")
    checkout = _plugin_checkout(tmp_path / "plugin", broken + "\nicon=resources/missing.png\n")
    (checkout / "LICENSE").unlink()
    built = _package(checkout, tmp_path / "dist")
    assert built.returncode != 0
    assert "metadata.txt lacks email, tracker" in built.stderr and "repository is not a URL" in built.stderr
    assert "landfuse/LICENSE is missing" in built.stderr and "'resources/missing.png' is not in the zip" in built.stderr
    assert not list((tmp_path / "dist").glob("*.zip"))


def test_package_refuses_a_zip_over_the_repository_limit(tmp_path):
    checkout = _plugin_checkout(tmp_path / "plugin")
    for part in range(4):  # 4 x 7 MB of random bytes: zip cannot shrink them
        (checkout / "resources" / f"weights-{part}.bin").write_bytes(os.urandom(7 * 2**20))
    built = _package(checkout, tmp_path / "dist")
    assert built.returncode != 0 and "the plugin repository takes at most 25,000,000" in built.stderr


@pytest.mark.parametrize("target", ["setup", "test", "demo", "bench", "package", "lint", "install"])
def test_makefile_has_documented_targets(target):
    assert f"\n{target}:" in (REPO_ROOT / "Makefile").read_text()


def _uses_new_union_at_runtime(tree: ast.AST) -> bool:
    """``isinstance(x, A | B)`` and friends: fine on Python 3.10+, a TypeError on 3.9."""
    return any(
        isinstance(node, ast.Call)
        and getattr(node.func, "id", "") in {"isinstance", "issubclass"}
        and any(isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.BitOr) for arg in node.args[1:])
        for node in ast.walk(tree)
    )


def _has_annotations(tree: ast.AST) -> bool:
    return any(
        isinstance(node, ast.AnnAssign)
        or (isinstance(node, ast.FunctionDef) and node.returns is not None)
        or (isinstance(node, ast.arg) and node.annotation is not None)
        for node in ast.walk(tree)
    )


@pytest.mark.parametrize("folder", ["plugin", "common"])
def test_qgis_side_runs_on_python_3_9(folder):
    """QGIS builds still ship Python 3.9: the QGIS-side code parses with its grammar and defers annotations."""
    problems = []
    for path in sorted((REPO_ROOT / folder).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(source, str(path), feature_version=(3, 9))
        except SyntaxError as exc:
            problems.append(f"{path.name}:{exc.lineno}: {exc.msg}")
            continue
        if _has_annotations(tree) and "from __future__ import annotations" not in source:
            problems.append(f"{path.name}: annotations without 'from __future__ import annotations'")
        if _uses_new_union_at_runtime(tree):
            problems.append(f"{path.name}: 'A | B' in isinstance/issubclass needs Python 3.10")
    assert not problems, problems
