"""Split the NLU data into the examples the model trains on and the ones it is tested on.

    python -m pipeline.split      -> split/train.yml, split/test.yml (the split stage)

Every NLU file under data/ is read, whatever its name or folder, as `rasa train --data data`
would; responses kept in data files go to the training split with the examples. With
`split.nlu_test_set: holdout`, a seeded fraction of each intent is held out (each
retrieval intent such as `faq/ask_hours` counted on its own). Every intent with two or more
examples lands in both sets; one with a single example trains. Synonyms, regexes and lookup
tables are not examples: they stay in the training data. A text labelled with two intents
only trains, so no test example is ever seen in training.

With a path under tests/nlu/ (a file or a folder), that hand-written set is the test set and the
model trains on all of data/; a test example that is also a training example is refused.
"""

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path

from pipeline import params, paths
from pipeline.params import ParamsError


def nlu_files(data: Path = paths.DATA) -> list[str]:
    from rasa.shared.data import get_data_files, is_nlu_file

    return sorted(get_data_files([str(data)], is_nlu_file))


def load(paths: list[str]):
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    return TrainingData().merge(*[load_data(p) for p in paths])


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def holdout(examples: list, fraction: float, seed: int) -> tuple[list, list]:
    """Seeded per-intent split of examples (Rasa Messages): (train, test)."""
    by_text = defaultdict(list)
    for message in examples:
        by_text[_key(message.get("text"))].append(message)
    train, pools = [], defaultdict(list)
    for text in sorted(by_text):
        messages = by_text[text]
        intents = {m.get_full_intent() for m in messages}
        if len(intents) > 1:
            train += messages  # ambiguous label: evaluating on it would test a coin flip
        else:
            pools[intents.pop()].append(messages)  # repeats of a text stay on one side
    test = []
    rng = random.Random(seed)
    for intent in sorted(pools):
        pool = pools[intent]
        rng.shuffle(pool)
        count = 0 if len(pool) < 2 else min(len(pool) - 1, max(1, round(len(pool) * fraction)))
        test += [m for group in pool[:count] for m in group]
        train += [m for group in pool[count:] for m in group]
    return train, test


def overlap(train: list, test: list) -> list[str]:
    seen = {_key(m.get("text")) for m in train}
    return sorted({m.get("text") for m in test if _key(m.get("text")) in seen})


def split(settings: params.Split, out_dir: Path, data: Path = paths.DATA) -> tuple[int, int]:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    files = nlu_files(data)
    if not files:
        raise SystemExit(f"ERROR: no NLU data under {data}/: add files with an `nlu:` section")
    everything = load(files)
    source = settings.nlu_test_set
    if source == "holdout":
        fraction = settings.test_fraction
        if not 0 < fraction < 1:
            raise SystemExit(f"ERROR: split.test_fraction must be between 0 and 1, got {fraction}")
        train, test = holdout(everything.intent_examples, fraction, settings.seed)
        test_data = TrainingData(test, responses=everything.responses)
    else:
        path = Path(source)
        if paths.HAND_WRITTEN_NLU not in [path, *path.parents]:
            raise SystemExit(
                f"ERROR: split.nlu_test_set '{source}': put the hand-written test set under "
                f"{paths.HAND_WRITTEN_NLU}/ (DVC tracks that folder), or use 'holdout'"
            )
        if not path.exists():
            raise SystemExit(f"ERROR: split.nlu_test_set '{source}' does not exist")
        test_data = load([str(path)] if path.is_file() else nlu_files(path))
        train, test = everything.intent_examples, test_data.intent_examples
        duplicated = overlap(train, test)
        if duplicated:
            shown = ", ".join(repr(t) for t in duplicated[:5])
            raise SystemExit(
                f"ERROR: {len(duplicated)} examples of {source} are also training examples "
                f"under {data}/ ({shown}): remove them from one side, or the test measures "
                "memory, not understanding"
            )
    train_data = TrainingData(
        train,
        entity_synonyms=everything.entity_synonyms,
        regex_features=everything.regex_features,
        lookup_tables=everything.lookup_tables,
        responses=everything.responses,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    # Not nlu_as_yaml(): it leaves out the responses that data files may hold (retrieval
    # intents' answers often live there), and training needs them.
    (out_dir / "train.yml").write_text(RasaYAMLWriter().dumps(train_data))
    (out_dir / "test.yml").write_text(test_data.nlu_as_yaml())
    return len(train), len(test)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=paths.PARAMS)
    parser.add_argument("--out", type=Path, default=paths.SPLIT)
    args = parser.parse_args(argv)
    try:
        settings = params.load(args.params).split()
    except ParamsError as error:
        return params.fail(error)
    trained, tested = split(settings, args.out)
    print(f"split: {trained} training and {tested} test examples ({settings.nlu_test_set})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
