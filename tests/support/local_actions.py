"""What each pinned action of the CML workflow does on GitHub, done on this machine.

What it models: `actions/checkout` as already done (it checks the event's commit, full history
for a pull request's base), `setup-python` and `setup-uv` putting this machine's Python 3.10 and uv
(and uv's cache) on PATH through GITHUB_PATH/GITHUB_ENV, `setup-cml` installing the CML recorder,
the cache actions through `actions_cache.CacheService`, and `upload-artifact`'s refusal to
overwrite a name already uploaded in the same run without `overwrite: true`. What it does not:
downloads of any kind, the artifacts' zip format and size limits, setup-uv's own cache and
`cache-dependency-glob`, or any input the workflow does not use (each action asserts the inputs
it expects).
"""

import shutil
from pathlib import Path

from support import cml_recorder, git, run


def python_310_bin() -> Path:
    """The folder of a Python 3.10 interpreter: what setup-python puts on PATH."""
    found = sorted(Path.home().glob(".pyenv/versions/3.10*/bin/python3.10"))
    path = found[-1] if found else shutil.which("python3.10")
    assert path, "Python 3.10 is needed (pyenv install 3.10)"
    return Path(path).parent


def local_actions(workspace, bin_dir, log, cache=None, artifacts=None, comments=None):
    """What each pinned action does on GitHub, done here (or checked to be done already).
    Like the real actions, they add to PATH and the environment through GITHUB_PATH/GITHUB_ENV.
    `artifacts` holds the run's artifacts (a re-run of the run shares it); `comments` is where
    the CML recorder keeps the repository's comments."""

    def add_path(env, folder):
        with open(env["GITHUB_PATH"], "a") as path_file:
            path_file.write(f"{folder}\n")

    def checkout(step, env):
        assert step["with"] == {"fetch-depth": 0, "persist-credentials": False}
        base = env.get("GITHUB_BASE_REF")
        if base:  # the report diffs against the base branch: full history must be there
            git(workspace, "rev-parse", "--verify", f"origin/{base}")
        assert git(workspace, "rev-parse", "HEAD") == env["GITHUB_SHA"], "not the event's commit"

    def setup_python(step, env):
        assert str(step["with"]["python-version"]) == "3.10"
        add_path(env, python_310_bin())

    def setup_uv(step, env):
        assert step["with"]["enable-cache"] is True
        folder = bin_dir / "uv"
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "uv").exists():
            (folder / "uv").symlink_to(shutil.which("uv"))
        add_path(env, folder)
        # enable-cache restores uv's cache: this machine's, so installs need no downloads.
        uv_cache = run(["uv", "cache", "dir"], workspace).stdout.strip()
        with open(env["GITHUB_ENV"], "a") as env_file:
            env_file.write(f"UV_CACHE_DIR={uv_cache}\n")

    def setup_cml(step, env):
        assert step["with"] == {"version": cml_recorder.CML_VERSION, "vega": False}
        cml_recorder.install(bin_dir / "cml", log, comments)
        add_path(env, bin_dir / "cml")

    def cache_restore(step, env):
        assert cache is not None, "this run has no cache service"
        return cache.restore(workspace, step, env)

    def cache_save(step, env):
        assert cache is not None, "this run has no cache service"
        return cache.save(workspace, step, env)

    def upload_artifact(step, env):
        inputs = step["with"]
        assert 1 <= int(inputs["retention-days"]) <= 90
        target = artifacts / inputs["name"]
        if target.exists():  # this run uploaded that name already: an earlier attempt
            assert inputs.get("overwrite") is True, (
                f"Failed to CreateArtifact: an artifact with this name already exists on the "
                f"workflow run: {inputs['name']} (409 Conflict)"
            )
            shutil.rmtree(target)
        found = [workspace / p for p in inputs["path"].split() if (workspace / p).exists()]
        assert found or inputs.get("if-no-files-found") != "error", "no files to upload"
        target.mkdir(parents=True)
        for path in found:
            copy = target / path.relative_to(workspace)
            if path.is_dir():
                shutil.copytree(path, copy, dirs_exist_ok=True)
            else:
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
        return f"uploaded {len(found)} paths as {inputs['name']}"

    return {
        "actions/checkout": checkout,
        "actions/setup-python": setup_python,
        "astral-sh/setup-uv": setup_uv,
        "iterative/setup-cml": setup_cml,
        "actions/cache/restore": cache_restore,
        "actions/cache/save": cache_save,
        "actions/upload-artifact": upload_artifact,
    }
