"""Bring an existing Rasa 3 project into this one, in place of the example bot.

    make adopt BOT=../our-bot [KEEP="DucklingEntityExtractor ..."]
    python -m pipeline.adopt ../our-bot [--keep NAME ...]

It does the README's "Bring your own bot" steps:
1. copies the bot's data/, its domain (domain.yml or a domain/ folder: dvc.yaml's train stage
   then depends on that), config.yml, actions/, endpoints.yml and credentials.yml, and from its
   tests/ folder the test stories (to tests/) and a hand-written NLU test set (to tests/nlu/, which
   becomes params.yaml's split.nlu_test_set) (adopt_layout.py);
2. adds the packages its requirements files name to requirements/bot.in (by name alone when
   Rasa pins them: Rasa's version stays) and re-locks the bot's environment only
   (adopt_requirements.py);
3. removes from config.yml the components this machine cannot run (a service that does not
   answer, a package or model that is not installed), unless --keep names them
   (adopt_components.py);
4. moves config.yml's tuned values into params.yaml (`make adopt-config`, rasa_config.py);
then prints what it did and what the team should check. Running it again with the same bot
leaves the project as the first run did.
"""

import argparse
import sys
import warnings
from pathlib import Path

from pipeline import adopt_components, adopt_layout, adopt_requirements, paths, rasa_config
from pipeline.adopt_report import AdoptError, Report


def check_bot(bot: Path, project: Path) -> None:
    if not bot.is_dir():
        raise AdoptError(
            f"BOT '{bot}' is not a folder: give the path of your Rasa project, "
            "e.g. make adopt BOT=../our-bot"
        )
    if bot.resolve() == project.resolve():
        raise AdoptError(f"BOT '{bot}' is this project: give the path of the bot to bring in")
    missing = [
        name
        for name, present in [
            ("config.yml", (bot / "config.yml").is_file()),
            ("domain.yml or domain/", (bot / "domain.yml").is_file() or (bot / "domain").is_dir()),
            ("data/", (bot / "data").is_dir()),
        ]
        if not present
    ]
    if missing:
        raise AdoptError(
            f"BOT '{bot}' is not a Rasa 3 project: it has no {', '.join(missing)} "
            "(give the folder where `rasa train` runs)"
        )


def use_test_set(nlu: list[Path], report: Report) -> None:
    """split.nlu_test_set: the bot's hand-written set, or a held-out split when it has none."""
    settings = rasa_config.round_trip().load(paths.PARAMS.read_text())
    split = settings.setdefault("split", {})
    current = split.get("nlu_test_set")
    if nlu:
        wanted = str(nlu[0] if len(nlu) == 1 else paths.HAND_WRITTEN_NLU)
        report.did.append(f"params.yaml split.nlu_test_set: {wanted} (the bot's NLU test set)")
    elif current != "holdout" and not Path(str(current)).exists():
        wanted = "holdout"
        report.did.append("params.yaml split.nlu_test_set: holdout (the bot has no NLU test set)")
    else:
        return
    if current != wanted:
        split["nlu_test_set"] = wanted
        rasa_config.dump_keeping_layout(settings, paths.PARAMS)


def check_overlap(nlu: list[Path], report: Report) -> None:
    """The split refuses a test set that shares texts with data/: say so now."""
    from pipeline import split

    if not nlu:
        return
    with warnings.catch_warnings():  # Rasa's remarks on the files come again in make repro
        warnings.simplefilter("ignore")
        test = split.load([str(p) for p in nlu]).intent_examples
        train = split.load(split.nlu_files()).intent_examples
    shared = split.overlap(train, test)
    if shared:
        shown = ", ".join(repr(t) for t in shared[:3])
        report.check.append(
            f"{len(shared)} examples of the NLU test set are also in data/ ({shown}): the "
            "split stage refuses that; remove them from one side"
        )


def adopt(bot: Path, keep: set[str]) -> Report:
    check_bot(bot, Path.cwd())
    config = rasa_config.round_trip().load((bot / "config.yml").read_text())
    if not isinstance(config, dict):
        raise AdoptError(f"{bot / 'config.yml'} must hold a mapping (language, pipeline, ...)")
    rasa_config.components(config)  # every entry has a name, before anything is written
    report = Report()
    adopt_layout.copy_bot(bot, report)
    nlu = adopt_layout.copy_tests(bot, report)
    use_test_set(nlu, report)
    adopt_components.drop_unavailable(config, keep, bot, report)
    adopt_layout.copy_custom_components(config, bot, report)
    rasa_config.dump_keeping_layout(config, paths.CONFIG)
    train = rasa_config.adopt_files(paths.CONFIG, paths.PARAMS)
    for key, options in train.items():
        report.did.append(f"params.yaml train.{key}: {dict(options)}")
    if adopt_requirements.merge_requirements(bot, report):
        adopt_requirements.relock()
    check_overlap(nlu, report)
    epochs = max((o.get("epochs", 0) for o in train.values()), default=0)
    if epochs > 100:
        report.check.append(
            f"epochs up to {epochs}: on 2 cores that trains for a long time; try fewer with "
            'make exp SET="train.<Component>.epochs=..."'
        )
    report.check.append(
        "run make repro: expect the bot's validation warnings; then commit everything it wrote"
    )
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bot", nargs="?", default="", help="the Rasa 3 project to bring in")
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        help="a component to keep although it needs "
        "a service or download this machine lacks (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        if not args.bot.strip():
            raise AdoptError("no bot given: make adopt BOT=../our-bot")
        report = adopt(Path(args.bot), set(args.keep))
    except (AdoptError, rasa_config.ConfigError) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    print(f"adopted {args.bot}:")
    report.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
