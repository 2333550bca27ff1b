"""`make install` in a baked bot: a missing Python 3.10 or uv is one clear line, not a traceback;
before it, `make repro` says to run it."""

import shutil

from support import bake, run
from support.cli import tool_dir


def install_with(project, tmp_path, **tools):
    path = f"{tool_dir(tmp_path / 'bin', **tools)}:/usr/bin:/bin"
    env = {
        "PATH": path,
        "HOME": str(tmp_path),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "no-managed-pythons"),
    }
    return run(["make", "install"], project, check=False, env=env)


def test_install_without_python_310_says_how_to_get_it(cookies, tmp_path):
    project = bake(cookies)
    result = install_with(project, tmp_path, uv=shutil.which("uv"))
    assert result.returncode != 0
    assert result.stdout.strip().splitlines()[-1].startswith("ERROR: Python 3.10 not found")
    assert "uv python install 3.10" in result.stdout
    assert not (project / ".venv").exists()


def test_install_without_uv_says_how_to_get_it(cookies, tmp_path):
    project = bake(cookies)
    result = install_with(project, tmp_path)
    assert result.returncode != 0
    assert result.stdout.strip().splitlines()[-1].startswith("ERROR: uv not found")
    assert not (project / ".venv").exists()


def test_repro_before_install_says_what_to_do(cookies):
    project = bake(cookies)
    result = run(["make", "repro"], project, check=False)
    assert result.returncode != 0
    assert "run 'make install' first" in result.stdout + result.stderr
