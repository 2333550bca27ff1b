"""The one home of the template's facts (cookiecutter.json `_remotes`, `_dvc_version`) agrees with
what cannot read it: the `dvc_remote` choices and the DVC locks that `make lock` writes."""

import re

import pytest

from support import TEMPLATE
from support.remote_facts import COOKIECUTTER_JSON, DVC_VERSION, REMOTES, dvc_lock


def test_every_remote_choice_has_its_facts():
    assert list(REMOTES) == COOKIECUTTER_JSON["dvc_remote"]


@pytest.mark.parametrize("remote", list(REMOTES))
def test_secrets_dvc_reads_from_its_environment_are_the_remotes_own(remote):
    assert set(REMOTES[remote]["dvc_env"]) <= set(REMOTES[remote]["secrets"])


@pytest.mark.parametrize("remote", list(REMOTES))
def test_each_dvc_lock_pins_the_dvc_version(remote):
    lock = (TEMPLATE / "{{cookiecutter.project_slug}}" / dvc_lock(remote)).read_text()
    assert re.findall(r"^dvc==(\S+)", lock, re.M) == [DVC_VERSION], "run `make lock` again"
