"""The train stage: validate the training data, then train, in one Rasa process.

    python -m pipeline.train      (what `dvc repro` runs; see dvc.yaml)

1. Writes models/config.yml: config.yml with params.yaml's `train` values (pipeline/rasa_config.py).
2. Validates the domain (domain.yml, or the domain/ folder when there is one), rules, stories
   and the training split as `rasa data validate` does. Rasa's errors stop here with Rasa's
   message, and so do stories naming an intent or a response the domain lacks (Rasa only warns
   about those). Warnings are written to
   evaluation/validation.json for the report; they stop the pipeline only when params.yaml
   sets `validate.fail_on_warnings: true`.
3. Trains on the NLU training split (split/train.yml) and every rules and stories file under
   data/, exactly as `rasa train` would, into models/model.tar.gz, then rewrites the archive so
   that the same inputs give the same bytes (pipeline/model_archive.py).
"""

import argparse
import json
import logging
import sys
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

from pipeline import model_archive, params, paths, rasa_config
from pipeline.params import ParamsError
from pipeline.rasa_start import start_like_the_rasa_command

# Warnings Rasa only logs in its lenient mode although the bot cannot work with them.
ERRORS_RASA_WARNS_ABOUT = (
    "is used in your stories, but it is not listed in the domain",
    "is used in the stories, but is not a valid utterance action",
)


class Collected(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def collecting():
    """Every warning Rasa raises or logs inside the block, in order, once each."""
    handler = Collected()
    logging.getLogger("rasa").addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield handler.messages
            handler.messages.extend(
                str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)
            )
    finally:
        logging.getLogger("rasa").removeHandler(handler)


def core_files(data: Path = paths.DATA) -> list[str]:
    """Every rules and stories file under data/, whatever its name or folder."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.data import get_data_files
    from rasa.shared.utils.io import is_key_in_yaml

    files = sorted(get_data_files([str(data)], YAMLStoryReader.is_stories_file))
    mixed = [f for f in files if is_key_in_yaml(f, "nlu")]  # responses beside stories are fine
    if mixed:
        raise SystemExit(
            f"ERROR: {', '.join(mixed)} holds NLU examples and stories or rules together: "
            "move the `nlu:` part into a file of its own so the test split stays out of training"
        )
    return files


def _unique(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(m.strip() for m in messages if m.strip()))


def validate(importer) -> tuple[list[str], list[str]]:
    """(errors, warnings) of Rasa's validator on what the model trains on."""
    from rasa.validator import Validator

    if importer.get_domain().is_empty():
        return [f"{paths.domain()} is empty or missing"], []
    errors: list[str] = []
    found: list[str] = []
    validator = Validator.from_importer(importer)
    checks = [
        validator.verify_domain_validity,
        validator.verify_actions_in_stories_rules,
        validator.verify_forms_in_stories_rules,
        validator.verify_form_slots,
        validator.verify_slot_mappings,
        lambda: validator.verify_nlu(ignore_warnings=True),
        lambda: validator.verify_story_structure(ignore_warnings=True),
    ]
    for check in checks:
        with collecting() as messages:
            ok = check()
        if not ok:
            errors += messages or [f"{check.__name__} failed"]
        else:
            found += messages
    errors += [m for m in found if any(e in m for e in ERRORS_RASA_WARNS_ABOUT)]
    warned = [m for m in found if m not in errors]
    return _unique(errors), _unique(warned)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=paths.PARAMS)
    parser.add_argument(
        "--validate-only",
        action="store_true",
        help="validate config, domain and all of data/ (no split needed), then stop",
    )
    args = parser.parse_args(argv)
    if args.validate_only:  # the merged config goes to a scratch folder, not the pipeline's
        with tempfile.TemporaryDirectory() as scratch:
            return run(args.params, Path(scratch) / "config.yml", validate_only=True)
    return run(args.params, paths.MERGED_CONFIG)


def run(params_path: Path, merged_config: Path, validate_only: bool = False) -> int:
    try:
        settings = params.load(params_path)
        fail_on_warnings = settings.fail_on_warnings()
        rasa_config.write_merged(paths.CONFIG, settings.train(), merged_config)
    except ParamsError as error:
        return params.fail(error)

    start_like_the_rasa_command()
    from rasa.shared.importers.importer import TrainingDataImporter

    training_files = [str(paths.DATA)] if validate_only else [*core_files(), str(paths.NLU_TRAIN)]
    importer = TrainingDataImporter.load_from_config(
        config_path=str(merged_config),
        domain_path=str(paths.domain()),
        training_data_paths=training_files,
    )
    errors, warned = validate(importer)
    if not validate_only:
        write_validation(warned)
    for message in warned:
        print(f"WARNING (validation): {message}")
    if errors:
        print("ERROR: the training data is not valid:", file=sys.stderr)
        for message in errors:
            print(f"  - {message}", file=sys.stderr)
        return 1
    if warned and fail_on_warnings:
        print(
            f"ERROR: {len(warned)} validation warnings and params.yaml sets "
            "validate.fail_on_warnings: fix them or set it to false",
            file=sys.stderr,
        )
        return 1
    if validate_only:
        print(f"validation: no errors, {len(warned)} warnings")
        return 0
    return train(training_files)


def write_validation(warned: list[str]) -> None:
    paths.VALIDATION.parent.mkdir(parents=True, exist_ok=True)
    paths.VALIDATION.write_text(json.dumps({"warnings": warned}, indent=2) + "\n")


def train(training_files: list[str]) -> int:
    """`rasa train` on the merged config: models/model.tar.gz, reproducible; Rasa's exit code."""
    from rasa.api import train as rasa_train

    result = rasa_train(
        domain=str(paths.domain()),
        config=str(paths.MERGED_CONFIG),
        training_files=training_files,
        output=str(paths.MODELS),
        fixed_model_name="model",
    )
    if result.code == 0:
        model_id = model_archive.make_reproducible(paths.MODEL)
        print(f"Model id {model_id} (a hash of the model's content): {paths.MODEL}")
    return result.code


if __name__ == "__main__":
    sys.exit(main())
