"""The one home of the template's facts (cookiecutter.json `_remotes`, `_runners`, `_dvc_version`)
agrees with what cannot read it: the `dvc_remote` and `cml_runner` choices, the credentials CML
0.20.6 reads for each cloud, and the DVC locks that `make lock` writes."""

import re

import pytest

from support import TEMPLATE
from support.cml_recorder import CLOUD_CREDENTIALS
from support.remote_facts import COOKIECUTTER_JSON, DVC_VERSION, REMOTES, RUNNERS, dvc_lock


def test_every_remote_choice_has_its_facts():
    assert list(REMOTES) == COOKIECUTTER_JSON["dvc_remote"]


@pytest.mark.parametrize("remote", list(REMOTES))
def test_secrets_dvc_reads_from_its_environment_are_the_remotes_own(remote):
    assert set(REMOTES[remote]["dvc_env"]) <= set(REMOTES[remote]["secrets"])


@pytest.mark.parametrize("remote", list(REMOTES))
def test_each_dvc_lock_pins_the_dvc_version(remote):
    lock = (TEMPLATE / "{{cookiecutter.project_slug}}" / dvc_lock(remote)).read_text()
    assert re.findall(r"^dvc==(\S+)", lock, re.M) == [DVC_VERSION], "run `make lock` again"


def test_every_runner_choice_has_its_facts():
    assert list(RUNNERS) == COOKIECUTTER_JSON["cml_runner"]
    assert RUNNERS["github-hosted"] == {"cloud_name": "", "secrets": []}


@pytest.mark.parametrize("cloud", list(CLOUD_CREDENTIALS))
def test_a_cloud_runner_s_secrets_are_the_token_and_what_cml_reads_for_that_cloud(cloud):
    """REPO_TOKEN first (the workflow falls back to a GitHub-hosted runner without it), then the
    first credential set `cml runner launch` accepts for the cloud (from CML's source)."""
    secrets = RUNNERS[cloud]["secrets"]
    assert secrets[0] == "REPO_TOKEN"
    assert tuple(secrets[1:]) == CLOUD_CREDENTIALS[cloud][0]
    assert RUNNERS[cloud]["cloud_name"]
