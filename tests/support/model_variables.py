"""Run by a baked bot's Python in the bot's folder: loads models/model.tar.gz three ways and
prints, as the last line, JSON with each TensorFlow model's variables (shape and hash of the
values): `rasa`, Rasa's own load; `ours`, the test stage's (pipeline/model_load.py); `fallback`,
the test stage's with its load of TED made to fail, where Rasa's must take over. `notes` holds the
NOTE lines each load printed."""

import contextlib
import hashlib
import io
import json
import os
import sys

sys.path.insert(0, os.getcwd())

from pipeline import model_load  # noqa: E402
from pipeline.rasa_start import start_like_the_rasa_command  # noqa: E402


def load_variables():
    """Loads the model like the test stage; returns each TensorFlow model's variables, and the
    lines the load printed to stderr."""
    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel

    loaded = []
    current = RasaModel.load.__func__

    def recorded(cls, *args, **kwargs):
        model = current(cls, *args, **kwargs)
        loaded.append(model)
        return model

    RasaModel.load = classmethod(recorded)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stderr(printed):
            Agent.load(model_path="models/model.tar.gz")
    finally:
        RasaModel.load = classmethod(current)
    variables = [
        [
            type(model).__name__,
            sorted(
                f"{variable.shape}:{hashlib.sha1(variable.numpy().tobytes()).hexdigest()}"
                for variable in model.variables
            ),
        ]
        for model in loaded
    ]
    # a colored warning's closing escape code can start the next line
    lines = printed.getvalue().splitlines()
    notes = [line[line.index("NOTE:") :] for line in lines if "NOTE:" in line]
    return variables, notes


def fail_for_ted(cls, *args, **kwargs):
    if cls.__name__ == "TED":
        raise RuntimeError("made to fail by the test")
    return ours(cls, *args, **kwargs)


start_like_the_rasa_command()
loads, notes = {}, {}
loads["rasa"], notes["rasa"] = load_variables()
model_load.load_without_training_step()
loads["ours"], notes["ours"] = load_variables()
ours, model_load._load = model_load._load, fail_for_ted
loads["fallback"], notes["fallback"] = load_variables()
print(json.dumps({"loads": loads, "notes": notes}))
