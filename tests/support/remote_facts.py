"""The template's facts as tests read them, from their one home in cookiecutter.json: each DVC
remote type's (`_remotes`: the URL it expects, its default URL, its DVC extra, its CI secrets and
those DVC reads from its environment), each CML runner's (`_runners`: its cloud's name and the CI
secrets `cml runner launch` reads) and the pinned DVC version (`_dvc_version`)."""

from support import COOKIECUTTER_JSON

REMOTES = COOKIECUTTER_JSON["_remotes"]
RUNNERS = COOKIECUTTER_JSON["_runners"]
DVC_VERSION = COOKIECUTTER_JSON["_dvc_version"]


def example(remote):
    """What the pre-gen hook says a remote type expects."""
    return REMOTES[remote]["example"]


def dvc_lock(remote):
    """The lock file of a remote type's DVC environment, as it is in the template."""
    return f"requirements/dvc-{REMOTES[remote]['dvc_extra']}.txt"
