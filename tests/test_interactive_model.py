"""`make interactive` starts from the pipeline's model only when DVC says it is up to date; else
Rasa trains one first. The e2e side (an up-to-date model, real Rasa reaching its prompt) is in
test_experiments_e2e.py; here, a fresh clone of the installed bot (no model: DVC outputs are not
in git), with real DVC and `rasa` replaced by a recorder of its arguments."""

import pytest

from support import git, run, share_environments

RECORDER = """#!/bin/sh
printf '%s\\n' "$@" > "$(dirname "$0")/argv.txt"
"""


@pytest.mark.parametrize("domain", ["domain.yml", "domain"])
def test_without_a_trained_model_rasa_trains_one_first(installed_bot, tmp_path, domain):
    """A bot with a domain/ folder (`make adopt` may bring one in) is given that folder."""
    project = tmp_path / "bot"
    git(tmp_path, "clone", "--quiet", str(installed_bot), str(project))
    share_environments(installed_bot, project)
    if domain == "domain":
        (project / "domain").mkdir()
        (project / "domain.yml").rename(project / "domain/domain.yml")
    rasa = tmp_path / "rasa"
    rasa.write_text(RECORDER)
    rasa.chmod(0o755)

    output = run(["make", "interactive", f"RASA={rasa}"], project).stdout
    assert "models/model.tar.gz is missing or out of date (dvc status train)" in output
    argv = (tmp_path / "argv.txt").read_text().splitlines()
    assert argv[0] == "interactive" and "--model" not in argv, argv
    assert argv[argv.index("--config") + 1] == "experiments/config.yml"
    assert argv[argv.index("--domain") + 1] == domain
