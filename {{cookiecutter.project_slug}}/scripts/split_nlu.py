"""Split the NLU data into the examples the model trains on and the ones it is tested on.

With `split.nlu_test_set: holdout` a stratified, seeded fraction of data/nlu.yml is held
out (what `rasa data split nlu` does). With a file path, that hand-written test set is
used and the model trains on all of data/nlu.yml.
"""

import sys
from pathlib import Path

import yaml
from rasa.shared.nlu.training_data.loading import load_data

NLU_DATA = "data/nlu.yml"


def split(params: dict, out_dir: Path) -> None:
    settings = params["split"]
    data = load_data(NLU_DATA)
    if settings["nlu_test_set"] == "holdout":
        train, test = data.train_test_split(
            train_frac=1 - settings["test_fraction"], random_seed=settings["seed"]
        )
    else:
        train, test = data, load_data(settings["nlu_test_set"])
        overlap = {m.get("text") for m in train.intent_examples} & {
            m.get("text") for m in test.intent_examples
        }
        if overlap:
            sys.exit(
                f"{settings['nlu_test_set']}: {len(overlap)} test examples are also in {NLU_DATA}"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "train.yml").write_text(train.nlu_as_yaml())
    (out_dir / "test.yml").write_text(test.nlu_as_yaml())


if __name__ == "__main__":
    params = yaml.safe_load(Path("params.yaml").read_text())
    split(params, Path(sys.argv[1] if len(sys.argv) > 1 else "split"))
