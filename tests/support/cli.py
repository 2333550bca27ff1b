"""Bake through the real `cookiecutter` command line, with a PATH the test chooses.

The hardening tests need what users see: the exit code, the message on stderr, and what is
left on disk. pytest-cookies runs cookiecutter in-process and hides all three.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from support import TEMPLATE

# The tools the post-gen hook runs, found once on the PATH the suite was started with.
REAL = {name: shutil.which(name) for name in ("git", "uv")}


def tool_dir(root, **tools):
    """A folder of symlinks `name -> target`: a PATH holding exactly these tools."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name, target in tools.items():
        (root / name).symlink_to(target)
    return root


def fake_tool(root, name, version_line, exit_code=0):
    """An executable that prints `version_line` for --version and exits `exit_code` otherwise."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    script = root / name
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "{version_line}"; exit 0; fi\n'
        f'echo "{name}: simulated failure" >&2\n'
        f"exit {exit_code}\n"
    )
    script.chmod(0o755)
    return script


def cookiecutter(
    out, *args, path=None, extra_env=None, template=TEMPLATE, timeout=600, no_input=True
):
    """`cookiecutter --no-input -o out template args...`; returns the CompletedProcess.
    `extra_env` values replace the environment's; a value of None removes the variable."""
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = os.pathsep.join(str(p) for p in path)
    for key, value in (extra_env or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", *(["--no-input"] if no_input else [])]
        + ["-o", str(out), str(template), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def first_error(result):
    """The hook's one-line message: the first stderr line starting with ERROR."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert lines, f"no ERROR line\n--- stderr ---\n{result.stderr[-3000:]}"
    return lines[0]


def tree(root):
    """Every path under root, relative, sorted: to compare what is on disk before and after."""
    root = Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def cli_answers(answers):
    """{key: value} as cookiecutter's `key=value` arguments."""
    return [f"{key}={value}" for key, value in answers.items()]


def canaries(*folders):
    """The files a hostile answer names (`touch /tmp/pwned`, `touch pwned`) wherever they would
    land had it run: /tmp, the current folder, any depth of `folders`."""
    found = [Path("/tmp/pwned"), Path("pwned").resolve()]
    found += [path for folder in folders for path in Path(folder).rglob("pwned")]
    return [str(path) for path in found if path.exists()]
