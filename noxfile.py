"""Task runner for the hsigma monorepo.

Run through the wrapper, which bootstraps nox and uv on a fresh machine::

    ./noxw -s bench          # the main job: the leaderboard (quick profile) and the kernel report
    ./noxw -s tests          # every package's tests, each in its own venv
    ./noxw -l                # list sessions

Every session installs with ``-c constraints/dev.txt`` (exact pins, torch included). The CPU torch
wheel is found through the machine's pip find-links (``PIP_FIND_LINKS``), which is handed to uv
as ``UV_FIND_LINKS``; nothing here names a path of one machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nox

nox.needs_version = ">=2025"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).parent
CONSTRAINTS = ROOT / "constraints" / "dev.txt"
TEST_TOOLS = ROOT / "constraints" / "test-tools.txt"
RESULTS = Path(os.environ.get("HS_RESULTS_DIR", ROOT / "results"))


def _find_links() -> str | None:
    """The pip find-links of this machine (where the CPU torch wheel lives), if any."""
    if os.environ.get("UV_FIND_LINKS"):
        return os.environ["UV_FIND_LINKS"]
    if os.environ.get("PIP_FIND_LINKS"):
        return os.environ["PIP_FIND_LINKS"]
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.find-links"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


_links = _find_links()
if _links:
    os.environ["UV_FIND_LINKS"] = _links
    os.environ.setdefault("PIP_FIND_LINKS", _links)


def _read_packages() -> dict[str, dict]:
    """name -> {path, deps (internal), test_extras, import_name}, read from each pyproject."""
    found: dict[str, dict] = {}
    for pyproject in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        data = tomllib.loads(pyproject.read_text())
        project = data["project"]
        found[project["name"]] = {
            "path": pyproject.parent,
            "requires": [
                re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0] for r in project.get("dependencies", [])
            ],
            "hs": data.get("tool", {}).get("hs", {}),
        }
    for info in found.values():
        info["deps"] = [r for r in info["requires"] if r in found]
    return found


PACKAGES_INFO = _read_packages()

# The project keeps real scenes and official-code fixtures in shared/ beside the checkout; tests read
# them through these variables and skip (saying why) when they are unset.
_SHARED = ROOT.parent / "shared"
for _var, _sub in (("HS_DATA_ROOT", "data"), ("HS_FIXTURES_ROOT", "fixtures")):
    if not os.environ.get(_var) and (_SHARED / _sub).is_dir():
        os.environ[_var] = str(_SHARED / _sub)


def _topological(names: list[str]) -> list[str]:
    order: list[str] = []

    def visit(name: str) -> None:
        for dep in PACKAGES_INFO[name]["deps"]:
            visit(dep)
        if name not in order:
            order.append(name)

    for name in names:
        visit(name)
    return order


PACKAGES = _topological(sorted(PACKAGES_INFO))


def _install(session: nox.Session, *packages: str, test: bool = False, extras: bool = True) -> None:
    """Install ``packages`` and their internal dependencies editable, pinned by constraints/dev.txt."""
    args: list[str] = ["-c", str(CONSTRAINTS)]
    for name in _topological(list(packages)):
        info = PACKAGES_INFO[name]
        wanted = info["hs"].get("test-extras", []) if (test and extras and name in packages) else []
        spec = str(info["path"]) + (f"[{','.join(wanted)}]" if wanted else "")
        args += ["-e", spec]
    if test:
        args += ["-r", str(TEST_TOOLS)]
    session.install(*args)


@nox.session
@nox.parametrize("package", [nox.param(p, id=p) for p in PACKAGES])
def tests(session: nox.Session, package: str) -> None:
    """Run one package's tests in its own venv (proves its declared dependencies suffice)."""
    _install(session, package, test=True)
    session.chdir(PACKAGES_INFO[package]["path"])
    junit = (
        [f"--junitxml={Path(os.environ['HS_JUNIT_DIR']) / package}.xml"]
        if os.environ.get("HS_JUNIT_DIR")
        else []
    )
    session.run("pytest", *junit, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check), the package-graph checks, and mypy on every package's src."""
    _install(session, *PACKAGES)
    session.install("-c", str(CONSTRAINTS), "ruff", "mypy", "packaging")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "tools/check_packages.py")
    srcs = [str(PACKAGES_INFO[p]["path"] / "src") for p in PACKAGES]
    session.run("mypy", *srcs)


def _kernel_benchmarks(session: nox.Session, out: Path, *pytest_args: str) -> None:
    """Run hs-attention's micro-benchmarks into ``out`` (JSON + Markdown report); needs pytest-benchmark."""
    out.mkdir(parents=True, exist_ok=True)
    pkg = PACKAGES_INFO["hs-attention"]["path"]
    with session.chdir(pkg):
        session.run(
            "pytest",
            "-o",
            "addopts=",
            "benchmarks",
            "--benchmark-only",
            "-p",
            "no:cacheprovider",
            f"--benchmark-json={out / 'hs-attention.json'}",
            *pytest_args,
        )
        session.run(
            "python",
            "benchmarks/report.py",
            str(out / "hs-attention.json"),
            "--out",
            str(out / "hs-attention.md"),
        )


@nox.session
def kernels(session: nox.Session) -> None:
    """hs-attention micro-benchmarks (time and peak memory) -> results/kernels/ (JSON + Markdown)."""
    _install(session, "hs-attention", test=True)
    _kernel_benchmarks(session, RESULTS / "kernels", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The main job: the leaderboard (``hs-bench run``) plus the kernel micro-benchmarks, in one folder.

    ``./noxw -s bench`` runs the ``quick`` profile (the tiny model and the classical baselines on every
    dataset present under ``HS_DATA_ROOT``, minutes on a CPU); arguments after ``--`` go to
    ``hs-bench run`` (``-- --profile paper``, ``-- --config my.toml``, ``-- --set seeds=[0,1,2]``...),
    except ``--no-kernels``, which skips the micro-benchmarks. Results (leaderboard.{md,html,json},
    plots, maps, the MLflow store, kernels/) go to ``$HS_RESULTS_DIR`` or ``results/``. The exit code is
    hs-bench's: non-zero when a job failed.
    """
    args = list(session.posargs)
    skip_kernels = "--no-kernels" in args
    args = [a for a in args if a != "--no-kernels"]
    _install(session, "hs-bench")
    if not skip_kernels:
        session.install("-c", str(CONSTRAINTS), "-r", str(TEST_TOOLS))
        _kernel_benchmarks(session, RESULTS / "kernels")
    session.run("hs-bench", "run", "--results", str(RESULTS), *args)
    session.log(f"leaderboard: {RESULTS / 'leaderboard.md'} and {RESULTS / 'leaderboard.html'}")


@nox.session
def gpu(session: nox.Session) -> None:
    """Tests marked `gpu` (needs CUDA): fused kernels against the reference on the device."""
    _install(session, "hs-attention", test=True)
    session.chdir(PACKAGES_INFO["hs-attention"]["path"])
    session.run("pytest", "-m", "gpu", *session.posargs)


@nox.session(venv_backend="none")
def wheels(session: nox.Session) -> None:
    """Build every wheel, then install each one alone with pip in a clean venv and import it.

    Only the wheel, its sibling wheels and what their metadata declares are installed, so a missing
    dependency fails here. torch is pinned by constraints/dev.txt as everywhere else.
    """
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    for name in PACKAGES:
        session.run(uv, "build", "--wheel", "--out-dir", str(dist), str(PACKAGES_INFO[name]["path"]))
    for name in PACKAGES:
        import_name = name.replace("-", "_")
        venv = ROOT / ".nox" / f"wheel-{name}"
        shutil.rmtree(venv, ignore_errors=True)
        session.run(sys.executable, "-m", "venv", str(venv))
        py = str(venv / "bin" / "python")
        session.run(
            py,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--find-links",
            str(dist),
            "-c",
            str(CONSTRAINTS),
            name,
        )
        session.run(py, "-m", "pip", "check")
        session.run(
            py,
            "-c",
            "import importlib, pkgutil, sys; m = importlib.import_module(sys.argv[1]); "
            "[importlib.import_module(i.name) for i in pkgutil.walk_packages(m.__path__, m.__name__ + '.') "
            "if not i.name.split('.')[-1].startswith('test')]; print(sys.argv[1], m.__version__, 'ok')",
            import_name,
        )
