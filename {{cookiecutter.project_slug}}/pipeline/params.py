"""params.yaml, read one way: the file once, then a typed accessor per setting.

Every problem is a ParamsError whose message names the key and the fix; the stages print it as
one `ERROR:` line and exit 2 (see `fail`).
"""

import math
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


def _number(value, key: str, *, integer: bool = False):
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        expected = "a whole number" if integer else "a finite number"
        raise ParamsError(f"params.yaml {key} must be {expected}, got {value!r}")
    return value


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
        if not isinstance(source, str) or not source:
            raise ParamsError(
                f"params.yaml split.nlu_test_set must be 'holdout' or a path under "
                f"{paths.HAND_WRITTEN_NLU}/, got {source!r}"
            )
        if source != "holdout":
            return Split(source, 0.0, 0)
        fraction = _number(settings.get("test_fraction"), "split.test_fraction")
        seed = _number(settings.get("seed"), "split.seed", integer=True)
        return Split(source, fraction, seed)

    def train(self) -> dict:
        """`train.<Component>.<option>`: the values laid over config.yml."""
        return self.section("train")

    def fail_on_warnings(self) -> bool:
        value = self.section("validate").get("fail_on_warnings", False)
        if not isinstance(value, bool):
            raise ParamsError(
                f"params.yaml validate.fail_on_warnings must be true or false, got {value!r}"
            )
        return value

    def test_stories(self) -> str:
        value = self.section("test").get("stories")
        if not isinstance(value, str) or not value:
            raise ParamsError(
                f"params.yaml test.stories must name the test stories (a file or folder), "
                f"got {value!r}"
            )
        return value


def load(path: Path = paths.PARAMS) -> Params:
    return Params(read_mapping(path), str(path))
