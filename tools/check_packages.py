"""Mechanical checks of the package graph (run by `./noxw -s lint`).

1. Every internal requirement (``hs-backbone`` requires ``hs-attention>=0.1,<0.2``) admits the
   sibling's current version, read from its ``_version.py``.
2. Layering: a package's ``src`` imports only the internal packages it declares (directly or
   transitively); nothing imports from a package above it.
3. Each package has the files of the convention (README, CHANGELOG naming the current version,
   ``_version.py``, ``py.typed``, ``tests/``, ``benchmarks/``).

Exits non-zero with one line per problem.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    problems: list[str] = []
    pkgs: dict[str, dict] = {}
    for pyproject in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        data = tomllib.loads(pyproject.read_text())
        name = data["project"]["name"]
        import_name = name.replace("-", "_")
        version_file = pyproject.parent / "src" / import_name / "_version.py"
        match = (
            re.search(r'__version__\s*=\s*"([^"]+)"', version_file.read_text())
            if version_file.exists()
            else None
        )
        pkgs[name] = {
            "dir": pyproject.parent,
            "import": import_name,
            "version": Version(match.group(1)) if match else None,
            "requires": [Requirement(r) for r in data["project"].get("dependencies", [])],
        }
        if match is None:
            problems.append(f"{version_file}: missing or without __version__ = '...'")

    internal = {info["import"]: name for name, info in pkgs.items()}
    for name, info in pkgs.items():
        d = info["dir"]
        for rel in ("README.md", "CHANGELOG.md", f"src/{info['import']}/py.typed", "tests", "benchmarks"):
            if not (d / rel).exists():
                problems.append(f"{d / rel}: missing (every package has it)")
        changelog = d / "CHANGELOG.md"
        if changelog.exists() and info["version"] and f"## {info['version']}" not in changelog.read_text():
            problems.append(f"{changelog}: no '## {info['version']}' section for the current version")
        declared = {r.name for r in info["requires"] if r.name in pkgs}
        for req in info["requires"]:
            sibling = pkgs[req.name]["version"] if req.name in pkgs else None
            if sibling is not None and not req.specifier.contains(sibling, prereleases=True):
                problems.append(
                    f"{d / 'pyproject.toml'}: requirement '{req}' does not admit "
                    f"{req.name} {sibling} (its _version.py)"
                )
        allowed = _closure(name, pkgs) | {name}
        for py in sorted((d / "src").rglob("*.py")):
            for mod in _imports(py):
                top = mod.split(".")[0]
                if top in internal and internal[top] not in allowed:
                    problems.append(
                        f"{py.relative_to(ROOT)}: imports {top} but {name} does not depend on "
                        f"{internal[top]} (declared: {sorted(declared) or 'none'})"
                    )
    for p in problems:
        print(p)
    print(f"check_packages: {len(pkgs)} packages, {len(problems)} problem(s)")
    return 1 if problems else 0


def _closure(name: str, pkgs: dict[str, dict]) -> set[str]:
    out: set[str] = set()
    stack = [name]
    while stack:
        for req in pkgs[stack.pop()]["requires"]:
            if req.name in pkgs and req.name not in out:
                out.add(req.name)
                stack.append(req.name)
    return out


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    mods: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.append(node.module)
    return mods


if __name__ == "__main__":
    sys.exit(main())
