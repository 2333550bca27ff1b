"""DVC remotes: a real S3 round trip against moto_server (loopback), clear errors for bad states."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import bake, free_port, git, run, share_environments

DVC = ".venv-dvc/bin/dvc"
SECRET = "moto-secret-never-committed"
OUTS = [
    "models/model.tar.gz",
    "models/config.yml",
    "split",
    "results",
    "metrics",
    "plots",
    "evaluation",
    "dvc.lock",
]


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto_server on 127.0.0.1 with a bucket, credentials in the environment only."""
    port = free_port()
    server = subprocess.Popen(
        [
            shutil.which("moto_server") or Path(sys.executable).with_name("moto_server"),
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAMOTOTESTKEY",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.2)
        import boto3

        boto3.client("s3", endpoint_url=url).create_bucket(Bucket="bot-models")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.e2e
def test_s3_push_then_pull_in_a_fresh_clone(cookies, trained_bot, s3_endpoint):
    project = bake(cookies, dvc_remote="s3", dvc_remote_url="s3://bot-models/support-bot")
    share_environments(trained_bot, project, envs=[".venv"])  # DVC with the s3 extra: its own
    run(["make", "install"], project)
    # The pipeline's results, as a colleague's `make repro` left them (same template, same inputs).
    for rel in OUTS:
        source, dest = trained_bot / rel, project / rel
        if source.is_dir():
            shutil.copytree(source, dest)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    run([DVC, "commit", "--force", "--quiet"], project)
    run([DVC, "remote", "modify", "--local", "storage", "endpointurl", s3_endpoint], project)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "First model")
    assert "endpointurl" not in (project / ".dvc/config").read_text()
    found = run(
        ["git", "grep", "-I", "-l", "-e", SECRET, "-e", "AKIAMOTOTESTKEY"], project, check=False
    )
    assert (found.returncode, found.stdout) == (1, ""), found.stderr  # 1: no match; 2+: git failed

    run(["make", "push"], project)

    fresh = project.parent / "s3-clone"
    run(["git", "clone", "--quiet", str(project), str(fresh)], project.parent)
    share_environments(project, fresh)
    run(["make", "install"], fresh)
    run([DVC, "remote", "modify", "--local", "storage", "endpointurl", s3_endpoint], fresh)
    run(["make", "pull"], fresh)
    assert (fresh / "models/model.tar.gz").read_bytes() == (
        trained_bot / "models/model.tar.gz"
    ).read_bytes()


@pytest.mark.e2e
def test_push_without_a_remote_says_how_to_add_one(cookies, installed_bot):
    project = bake(cookies, dvc_remote="none")
    share_environments(installed_bot, project)  # the default's locks: DVC without extras
    run(["make", "install"], project)
    result = run(["make", "push"], project, check=False)
    assert result.returncode != 0
    assert "no DVC remote configured" in result.stdout
    assert "remote add -d storage" in result.stdout


@pytest.mark.e2e
def test_push_to_an_unreachable_remote_fails_with_one_clear_line(trained_bot, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the remote folder should be")
    run([DVC, "remote", "modify", "--local", "storage", "url", str(blocker)], trained_bot)
    try:
        result = run(["make", "push"], trained_bot, check=False)
    finally:
        run([DVC, "remote", "modify", "--local", "--unset", "storage", "url"], trained_bot)
    assert result.returncode != 0
    assert "ERROR: dvc push failed" in result.stdout
