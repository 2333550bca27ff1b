"""Non-interactive use: a team config file (examples/team.yaml) and --replay."""

import json
import shutil
import subprocess

import pytest
import yaml

from support import STORAGE_SECTION, TEMPLATE, dvc_config, git
from support.cli import cookiecutter

TEAM = TEMPLATE / "examples/team.yaml"


@pytest.fixture
def home(tmp_path):
    """A fresh HOME, so the replay files land in the test's folder; uv keeps its warm cache."""
    uv_cache = subprocess.run(
        [shutil.which("uv"), "cache", "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (tmp_path / "home").mkdir()
    return {"HOME": str(tmp_path / "home"), "UV_CACHE_DIR": uv_cache}


def remote_url(project):
    return dvc_config(project)[STORAGE_SECTION]["url"]


def text_files(project):
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }


def test_team_config_bakes_with_its_values(tmp_path, home):
    team = yaml.safe_load(TEAM.read_text())["default_context"]
    out = tmp_path / "out"
    result = cookiecutter(
        out, "--config-file", str(TEAM), "project_name=Support Bot", extra_env=home
    )
    assert result.returncode == 0, result.stderr
    project = out / "support-bot"
    assert remote_url(project) == "s3://example-ml-artifacts/dvc/support-bot"
    assert "\ns3fs==" in (project / "requirements/dvc.txt").read_text()
    license_text = (project / "LICENSE").read_text()
    assert team["author_name"] in license_text and "proprietary" in license_text
    assert (project / ".github/workflows").is_dir()
    assert git(project, "log", "-1", "--format=%s") == (
        "Bake Support Bot from the rasa-dvc-cml template"
    )
    replay = tmp_path / "home/.cookiecutter_replay" / f"{TEMPLATE.name}.json"
    answers = yaml.safe_load(replay.read_text())["cookiecutter"]
    assert answers["project_name"] == "Support Bot"
    assert answers["author_email"] == team["author_email"]


def test_replay_bakes_the_same_project_again(tmp_path, home):
    first, again, from_file = tmp_path / "first", tmp_path / "again", tmp_path / "from-file"
    result = cookiecutter(
        first, "--config-file", str(TEAM), "project_name=Support Bot", extra_env=home
    )
    assert result.returncode == 0, result.stderr
    replay = tmp_path / "home/.cookiecutter_replay" / f"{TEMPLATE.name}.json"

    result = cookiecutter(
        again, "--config-file", str(TEAM), "--replay", extra_env=home, no_input=False
    )
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "answers.json"
    shutil.copy(replay, saved)
    result = cookiecutter(from_file, "--replay-file", str(saved), extra_env=home, no_input=False)
    assert result.returncode == 0, result.stderr

    baked = text_files(first / "support-bot")
    assert text_files(again / "support-bot") == baked
    assert text_files(from_file / "support-bot") == baked


def test_a_tampered_replay_file_is_still_checked(tmp_path, home):
    """Replay skips cookiecutter's own choice checks; the pre-gen hook does not."""
    result = cookiecutter(tmp_path / "first", extra_env=home)
    assert result.returncode == 0, result.stderr
    replay = tmp_path / "home/.cookiecutter_replay" / f"{TEMPLATE.name}.json"
    data = yaml.safe_load(replay.read_text())
    data["cookiecutter"]["dvc_remote"] = "s3; rm -rf ~"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    out = tmp_path / "out"
    result = cookiecutter(out, "--replay-file", str(tampered), extra_env=home, no_input=False)
    assert result.returncode != 0
    assert "ERROR: dvc_remote 's3; rm -rf ~': expected one of " in result.stderr
    assert not out.exists() or list(out.iterdir()) == []
