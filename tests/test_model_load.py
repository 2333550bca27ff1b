"""The test stage loads the model without Rasa's throwaway training step (pipeline/model_load.py).
Its figures are checked against `rasa test` in test_metrics_equal_rasa.py; here, the weights
themselves: every TensorFlow model (DIET, ResponseSelector, TED) of a bot with forms and a
retrieval intent gets exactly the variables Rasa's own load gives it, and a load that fails hands
over to Rasa's, saying so."""

import json
from pathlib import Path

import pytest

from support import run

SCRIPT = Path(__file__).parent / "support" / "model_variables.py"


@pytest.mark.e2e
def test_the_test_stage_loads_every_variable_rasa_s_load_gives(supportdesk_bot):
    project, _, _, repro = supportdesk_bot
    printed = json.loads(run([".venv/bin/python", str(SCRIPT)], project).stdout.splitlines()[-1])
    loads, notes = printed["loads"], printed["notes"]

    models = [name for name, _ in loads["rasa"]]
    assert "TED" in models and models.count("DIET") >= 1 and len(models) >= 3, models
    assert all(variables for _, variables in loads["rasa"])
    assert loads["ours"] == loads["rasa"]
    assert notes["ours"] == [] and "loaded Rasa's way" not in repro.stdout + repro.stderr

    assert loads["fallback"] == loads["rasa"]
    assert notes["fallback"] == ["NOTE: TED loaded Rasa's way (made to fail by the test)"]
