"""params.yaml, read one way: the file once, then a typed accessor per setting.

Every problem is a ParamsError whose message names the key and the fix; the stages print it as
one `ERROR:` line and exit 2 (see `fail`).
"""

import math
import operator
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline import paths


class ParamsError(Exception):
    pass


def read_yaml(path: Path, error: type[Exception] = ParamsError):
    """A YAML file's content (None when it is empty); `error`, the caller's own exception, says
    why when the file cannot be read or is not valid YAML."""
    try:
        return yaml.safe_load(path.read_text())
    except OSError as problem:
        raise error(f"cannot read {path}: {problem.strerror}") from problem
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" (line {mark.line + 1}: {problem.problem})" if mark else ""
        raise error(f"{path} is not valid YAML{where}: fix it, then run again") from problem


def read_mapping(path: Path, error: type[Exception] = ParamsError) -> dict:
    data = read_yaml(path, error)
    if not isinstance(data, dict):
        raise error(f"{path} must hold a mapping, got {type(data).__name__}")
    return data


def fail(error: Exception, code: int = 2) -> int:
    """The scripts' one way to fail: one `ERROR:` line on stderr, then exit `code`."""
    print(f"ERROR: {error}", file=sys.stderr)
    return code


COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def _number(value, key: str, *, integer=False, low=None, high=None, above=None, below=None):
    """value when it is a finite number (a whole one with `integer`) within the bounds given
    (low <= value <= high, above < value < below); ParamsError naming the key otherwise."""
    bounds = {">=": low, "<=": high, ">": above, "<": below}
    kind = int if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or not math.isfinite(value)
        or not all(COMPARE[op](value, b) for op, b in bounds.items() if b is not None)
    ):
        expected = "a whole number" if integer else "a finite number"
        limits = [f"{op} {b:g}" for op, b in bounds.items() if b is not None]
        if limits:
            expected += " " + " and ".join(limits)
        raise ParamsError(f"params.yaml {key} must be {expected}, got {value!r}")
    return value


def project_path(value, key: str, folder: Path = Path("."), what: str = "") -> str:
    """value, a path relative to the project root (the working directory), as a clean relative
    path, when it resolves (symbolic links followed) to `folder` or inside it; an absolute path or
    one leading out (`..`, a link) is a ParamsError: DVC would track it as an external
    dependency, and every clone's dvc.lock would be stale."""
    if not isinstance(value, str) or not value:
        raise ParamsError(f"params.yaml {key} must be {what}, got {value!r}")
    root = Path.cwd().resolve()
    try:
        if Path(value).is_absolute():
            raise ParamsError(
                f"params.yaml {key} '{value}' must be relative to the project folder, "
                f"e.g. {folder.as_posix() if folder != Path('.') else 'tests'}"
            )
        resolved = (root / value).resolve()
        inside = (root / folder).resolve()
    except (OSError, ValueError) as problem:  # a NUL byte, a loop of links
        raise ParamsError(f"params.yaml {key} {value!r} is not a usable path: {problem}") from None
    if resolved == root or (resolved != inside and inside not in resolved.parents):
        where = "the project folder" if folder == Path(".") else f"{folder.as_posix()}/"
        raise ParamsError(f"params.yaml {key} '{value}' leads outside {where}: it must be {what}")
    return resolved.relative_to(root).as_posix()


# The options of `train.<Component>` that Rasa reads as numbers, checked before Rasa sees them:
# a string or a list there would otherwise stop training with a traceback (or train oddly).
# option: (whole number, lowest, highest, null allowed)
TRAIN_NUMBERS = {
    "epochs": (True, 1, None, False),
    "random_seed": (True, 0, 2**32 - 1, True),
    "max_history": (True, 1, None, True),
    "threshold": (False, 0, 1, False),
    "ambiguity_threshold": (False, 0, 1, False),
    "core_fallback_threshold": (False, 0, 1, False),
    "drop_rate": (False, 0, 1, False),
    "learning_rate": (False, 0, None, False),
    "embedding_dimension": (True, 1, None, False),
    "number_of_negative_examples": (True, 1, None, False),
    "evaluate_on_number_of_examples": (True, 0, None, False),
    "evaluate_every_number_of_epochs": (True, -1, None, False),
}


def _train_option(component: str, option: str, value) -> None:
    key = f"train.{component}.{option}"
    if option == "batch_size" and isinstance(value, list):  # [smallest, largest]: a growing batch
        if len(value) != 2:
            raise ParamsError(
                f"params.yaml {key} must be a whole number or [min, max], got {value!r}"
            )
        for size in value:
            _number(size, key, integer=True, low=1)
        return
    if option == "batch_size":
        _number(value, key, integer=True, low=1)
        return
    if option not in TRAIN_NUMBERS or (value is None and TRAIN_NUMBERS[option][3]):
        return
    integer, low, high, _ = TRAIN_NUMBERS[option]
    _number(value, key, integer=integer, low=low, high=high)


@dataclass(frozen=True)
class Split:
    nlu_test_set: str  # "holdout" or a path under tests/nlu/
    test_fraction: float
    seed: int


@dataclass(frozen=True)
class Params:
    """params.yaml's content; `source` names it in messages."""

    data: dict
    source: str = str(paths.PARAMS)

    def section(self, name: str) -> dict:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ParamsError(f"params.yaml {name} must be a mapping, got {value!r}")
        return value

    def split(self) -> Split:
        settings = self.section("split")
        source = settings.get("nlu_test_set")
        hand_written = f"'holdout' or a file or folder under {paths.HAND_WRITTEN_NLU}/"
        if source != "holdout":
            source = project_path(
                source, "split.nlu_test_set", paths.HAND_WRITTEN_NLU, hand_written
            )
            return Split(source, 0.0, 0)
        fraction = _number(settings.get("test_fraction"), "split.test_fraction", above=0, below=1)
        seed = _number(settings.get("seed"), "split.seed", integer=True)
        return Split(source, fraction, seed)

    def train(self) -> dict:
        """`train.<Component>.<option>`: the values laid over config.yml, numbers checked."""
        train = self.section("train")
        for component, options in train.items():
            if not isinstance(component, str) or not isinstance(options, dict):
                raise ParamsError(
                    f"params.yaml train.{component} must map options to values "
                    f"(e.g. train.{component}.epochs: 100), got {options!r}"
                )
            for option, value in options.items():
                _train_option(component, str(option), value)
        return train

    def fail_on_warnings(self) -> bool:
        value = self.section("validate").get("fail_on_warnings", False)
        if not isinstance(value, bool):
            raise ParamsError(
                f"params.yaml validate.fail_on_warnings must be true or false, got {value!r}"
            )
        return value

    def test_stories(self) -> str:
        """The test stories, a file or folder inside the project."""
        return project_path(
            self.section("test").get("stories"),
            "test.stories",
            what="the test stories, a file or folder inside the project (e.g. tests)",
        )


def load(path: Path = paths.PARAMS) -> Params:
    return Params(read_mapping(path), str(path))
