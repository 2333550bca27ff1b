"""Lay the tuned values of params.yaml over config.yml: the config Rasa trains with.

config.yml is the team's Rasa config (components, policies, their options). The values a team
tunes and compares (epochs, seeds, thresholds, max_history) live in params.yaml under
`train.<ComponentName>`, so `dvc exp run -S train.DIETClassifier.epochs=50` and `dvc params
diff` work on readable keys. Each value lives in one place: a key set in both files with
different values is an error, never a silent override.

    python -m pipeline.rasa_config merge  -> models/config.yml (what the train stage does)
    python -m pipeline.rasa_config adopt  -> moves config.yml's tuned values into params.yaml
"""

import argparse
import copy
import io
import itertools
import re
import sys
from pathlib import Path

import yaml

from pipeline import params, paths
from pipeline.params import ParamsError, read_mapping

ASSISTANT_ID = "{{ cookiecutter.project_slug }}"
# Rasa replaces this placeholder (and a missing id) with a random one and rewrites the file.
RASA_PLACEHOLDER_ID = "placeholder_default"
TUNED_KEYS = (
    "epochs",
    "random_seed",
    "max_history",
    "threshold",
    "ambiguity_threshold",
    "core_fallback_threshold",
)
# Components that train with randomness: adopt gives them a seed so reruns are identical.
SEEDED = {"DIETClassifier", "ResponseSelector", "TEDPolicy", "UnexpecTEDIntentPolicy"}
DEFAULT_SEED = 42
TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*:")
HEADER = (
    "# Written by pipeline/rasa_config.py: config.yml with params.yaml's `train` values laid\n"
    "# over it. This is the config the model in models/ was trained with; edit those two files.\n"
)


class ConfigError(ParamsError):
    """config.yml and params.yaml's `train` do not fit together."""


def components(config: dict) -> list[tuple[str, dict]]:
    """(section, component) for every entry of the pipeline and the policies, in order."""
    found = []
    for section in ("pipeline", "policies"):
        for entry in config.get(section) or []:
            if not isinstance(entry, dict) or "name" not in entry:
                raise ConfigError(
                    f"config.yml: every {section} entry needs a `name`, got {entry!r}"
                )
            found.append((section, entry))
    return found


def knob_names(config: dict) -> dict[str, dict]:
    """The params.yaml key of each component: its name for the first one of that name, then
    `Name#2`, `Name#3`, ... in config order (adding a second one leaves the first one's key)."""
    seen: dict[str, int] = {}
    keys = {}
    for _, entry in components(config):
        name = entry["name"]
        seen[name] = seen.get(name, 0) + 1
        keys[name if seen[name] == 1 else f"{name}#{seen[name]}"] = entry
    return keys


def find(config: dict, key: str) -> dict:
    by_key = knob_names(config)
    if key in by_key:
        return by_key[key]
    raise ConfigError(
        f"params.yaml train.{key}: config.yml has no component named {key} "
        f"(it has {', '.join(by_key) or 'none'}): add it to config.yml or remove "
        f"train.{key} from params.yaml"
    )


def merge(config: dict, train: dict | None, assistant_id: str = ASSISTANT_ID) -> dict:
    """config.yml with each `train.<Component>.<option>` of params.yaml set in that component."""
    merged = copy.deepcopy(config)
    for key, options in (train or {}).items():
        if not isinstance(options, dict):
            raise ConfigError(
                f"params.yaml train.{key} must map options to values "
                f"(e.g. train.{key}.epochs: 100), got {options!r}"
            )
        component = find(merged, key)
        for option, value in options.items():
            if option in component and component[option] != value:
                raise ConfigError(
                    f"{key}.{option} is {component[option]!r} in config.yml and {value!r} in "
                    f"params.yaml (train.{key}.{option}): keep it in one place, e.g. run "
                    f"`make adopt-config` to move config.yml's value into params.yaml"
                )
            component[option] = value
    give_assistant_id(merged, assistant_id)
    return merged


def give_assistant_id(config: dict, assistant_id: str = ASSISTANT_ID) -> None:
    """A stable id where Rasa would otherwise write a random one into the file it trains with."""
    if config.get("assistant_id") in (None, RASA_PLACEHOLDER_ID):
        config["assistant_id"] = assistant_id


def adopt(config: dict, train: dict | None) -> tuple[dict, dict]:
    """Move the tuned options out of config into train; seed components that train randomly;
    give the config a stable assistant_id.

    Returns the new config (comments kept when it is ruamel's) and train section. The train
    section describes this config only: the values it held before (the template's, for another
    bot) would silently replace Rasa's defaults in components that never set them. Only when
    config holds no tuned value at all (it was adopted already) are the existing knobs of its
    components kept, so running adopt twice changes nothing.
    """
    config = copy.deepcopy(config)
    kept = {}
    by_key = knob_names(config)
    adopted_already = not any(o in c for c in by_key.values() for o in TUNED_KEYS)
    for key, options in (train or {}).items():
        if adopted_already and key in by_key and isinstance(options, dict):
            kept[key] = dict(options)
    for key, component in by_key.items():
        knob = kept.get(key, {})
        for option in TUNED_KEYS:
            if option in component:
                knob[option] = component.pop(option)
        if component["name"] in SEEDED and "random_seed" not in knob:
            knob["random_seed"] = DEFAULT_SEED
        if knob:
            kept[key] = knob
    give_assistant_id(config)
    return config, kept


def write_merged(config_path: Path, train: dict | None, out: Path) -> dict:
    """`merge` of config.yml and params.yaml's `train` section, written to `out`."""
    merged = merge(read_mapping(config_path, ConfigError), train)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(HEADER + yaml.safe_dump(merged, sort_keys=False, allow_unicode=True))
    return merged


def round_trip():
    """ruamel's YAML reader and writer that keeps comments and layout."""
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def dump_keeping_layout(data, path: Path) -> None:
    """Writes `data` (loaded with round_trip()) over `path`, with its blank lines kept."""
    written = io.StringIO()
    round_trip().dump(data, written)
    before = path.read_text() if path.exists() else ""
    path.write_text(keep_blank_lines(before, written.getvalue()))


def adopt_files(config_path: Path, params_path: Path) -> dict:
    """adopt() on the files, keeping their comments and layout (ruamel round trip)."""
    settings = round_trip().load(params_path.read_text())
    config, train = adopt(round_trip().load(config_path.read_text()), settings.get("train"))
    settings["train"] = train
    dump_keeping_layout(config, config_path)
    dump_keeping_layout(settings, params_path)
    return train


def keep_blank_lines(before: str, after: str) -> str:
    """`after` with a blank line again before each top-level key that had one in `before`
    (ruamel drops the one after a mapping it replaced)."""
    spaced = {
        line.split(":")[0]
        for previous, line in itertools.pairwise(before.splitlines())
        if not previous.strip() and TOP_LEVEL_KEY.match(line)
    }
    lines: list[str] = []
    for line in after.splitlines():
        key = line.split(":")[0]
        if TOP_LEVEL_KEY.match(line) and key in spaced and lines and lines[-1].strip():
            lines.append("")
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["merge", "adopt"])
    parser.add_argument("--config", type=Path, default=paths.CONFIG)
    parser.add_argument("--params", type=Path, default=paths.PARAMS)
    parser.add_argument("--out", type=Path, default=paths.MERGED_CONFIG)
    args = parser.parse_args(argv)
    try:
        if args.command == "merge":
            write_merged(args.config, params.load(args.params).train(), args.out)
        else:
            train = adopt_files(args.config, args.params)
            for key, options in train.items():
                print(f"params.yaml train.{key}: {options}")
    except ParamsError as error:
        return params.fail(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
