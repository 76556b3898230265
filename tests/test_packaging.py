"""The installed package, not the checkout: a wheel built from these sources, installed into a
fresh virtual environment, works from an empty directory.

Offline: the wheel is built with this environment's setuptools (no build isolation, no
dependencies), and the new environment reaches this one's installed libraries through a
`.pth` file instead of downloading them.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

from bot.settings import SHIPPED_SOUL

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "SOUL.md", "bot", "adapters")


def test_the_shipped_charter_is_the_checkouts_soul_md() -> None:
    """bot/SOUL.md is what a wheel ships; SOUL.md at the top is the one people edit."""
    assert SHIPPED_SOUL.read_text(encoding="utf-8") == (REPO_ROOT / "SOUL.md").read_text(
        encoding="utf-8"
    ), "SOUL.md changed: copy it to bot/SOUL.md (`cp SOUL.md bot/SOUL.md`)"


def test_git_ignores_what_dispatch_writes_beside_its_database() -> None:
    """`dispatch` run in a checkout writes its database (WAL files included) and, beside it,
    the callback key: none of it may be committed by accident."""
    import fnmatch

    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name in ("dispatch.db", "dispatch.db-wal", "dispatch.db-shm", "dispatch.db-journal",
                 "dispatch.callback-key", "other.callback-key"):  # fmt: skip
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name


def run(*args: str | Path, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    env.pop("PYTHONPATH", None)  # the installed package only, never this checkout
    env.update(PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args} → {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_a_wheel_installed_elsewhere_checks_and_plays_the_demo(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy, so the build leaves nothing in the checkout
    for name in SOURCES:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(
                REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    dist = tmp_path / "dist"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, source,
        cwd=tmp_path)  # fmt: skip
    [wheel] = dist.glob("dispatch-*.whl")
    with zipfile.ZipFile(wheel) as archive:  # the web board is served from the package alone
        shipped = set(archive.namelist())
    board = {f"bot/web/static/{name}" for name in
             ("index.html", "login.html", "board.js", "board.css", "icon.svg")}  # fmt: skip
    assert board <= shipped, board - shipped

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = next(p for p in (bindir / "python", bindir / "python.exe") if p.exists())
    run(*pip, "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # Only now this environment's libraries (not its `.pth` files: no editable checkout).
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                  cwd=tmp_path).stdout.strip()  # fmt: skip
    Path(purelib, "_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")

    empty = tmp_path / "empty"
    empty.mkdir()
    where = run(python, "-c", "import bot; print(bot.__file__)", cwd=empty).stdout.strip()
    assert Path(where).is_relative_to(venv), where

    dispatch = next(p for p in (bindir / "dispatch", bindir / "dispatch.exe") if p.exists())
    check = run(dispatch, "check", cwd=empty)
    assert f"soul: {Path(purelib, 'bot', 'SOUL.md')}" in check.stdout, check.stdout
    demo = run(dispatch, "demo", "--script", "--speed", "20", cwd=empty)
    assert demo.stdout.rstrip().endswith("demo script: all scenarios finished"), demo.stdout


COMPOSITION_ROOTS = frozenset({"bot.cli", "bot.runtime", "bot.__main__"})
"""The only core modules that build adapters, so the only ones that may import them."""


def test_the_core_owns_its_ports_and_imports_no_adapter() -> None:
    """`bot.ports` holds the protocols adapters implement: the core imports no adapter (and
    no adapter imports a core that imports it back), apart from the composition roots."""
    probe = (
        "import importlib, pkgutil, sys, bot\n"
        f"roots = {sorted(COMPOSITION_ROOTS)!r}\n"
        "for info in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    if info.name not in roots:\n"
        "        importlib.import_module(info.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'adapters'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]", done.stdout
