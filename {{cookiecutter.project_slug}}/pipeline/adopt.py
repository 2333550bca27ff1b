"""Bring an existing Rasa 3 project into this one, in place of the example bot.

    make adopt BOT=../our-bot [KEEP="DucklingEntityExtractor ..."]
    python -m pipeline.adopt ../our-bot [--keep NAME ...]

It does the README's "Bring your own bot" steps:
1. copies the bot's data/, its domain (domain.yml or a domain/ folder: dvc.yaml's train stage
   then depends on that), config.yml, actions/, endpoints.yml and credentials.yml, and from its
   tests/ folder the test stories (to tests/) and a hand-written NLU test set (to tests/nlu/, which
   becomes params.yaml's split.nlu_test_set);
2. adds the packages its requirements files name to requirements/bot.in (by name alone when
   Rasa pins them: Rasa's version stays) and re-locks the bot's environment only;
3. removes from config.yml the components this machine cannot run (a service that does not
   answer, a package or model that is not installed), unless --keep names them;
4. moves config.yml's tuned values into params.yaml (`make adopt-config`);
then prints what it did and what the team should check. Running it again with the same bot
leaves the project as the first run did.
"""

import argparse
import importlib.util
import re
import shutil
import socket
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import yaml

from pipeline import paths, rasa_config

# What Rasa ignores and a copy should not carry along (Finder, Explorer, Python caches).
JUNK = shutil.ignore_patterns(
    ".DS_Store", "._*", "Thumbs.db", "desktop.ini", "__pycache__", "*.pyc"
)
THE_EXAMPLE_BOT = [
    paths.TESTS / "test_stories.yml",
    paths.TESTS / "test_actions.py",  # tests the example's action
    paths.HAND_WRITTEN_NLU / "nlu_test.yml",
]
# The template's own tests: a bot's file of the same name is not copied over them.
OUR_TESTS = {
    "conftest.py",
    "test_adopt.py",
    "test_check_lock.py",
    "test_gate.py",
    "test_report.py",
    "test_scripts.py",
}
RASA_ITSELF = {"rasa", "rasa-sdk", "rasa-pro", "rasa-plus"}  # bot.in pins Rasa; it brings rasa-sdk
# `pip freeze` on Debian and Ubuntu lists pkg-resources==0.0.0, which no package index has.
NOT_A_PACKAGE = {"pkg-resources"}
# Components that fall with the one that loads their model.
FAMILIES = {
    "SpacyNLP": {"SpacyTokenizer", "SpacyFeaturizer", "SpacyEntityExtractor"},
    "MitieNLP": {
        "MitieTokenizer",
        "MitieFeaturizer",
        "MitieEntityExtractor",
        "MitieIntentClassifier",
    },
}


class AdoptError(Exception):
    pass


@dataclass
class Report:
    did: list[str] = field(default_factory=list)
    check: list[str] = field(default_factory=list)

    def print(self) -> None:
        print("\n".join(f"  {line}" for line in self.did))
        if self.check:
            print("Check before committing:")
            print("\n".join(f"  - {line}" for line in self.check))


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


def read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as problem:
        raise AdoptError(f"{path} cannot be read as YAML ({problem}): fix it in the bot") from None


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def replace(source: Path, target: Path) -> None:
    remove(target)
    if source.is_dir():
        shutil.copytree(source, target, ignore=JUNK)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def copy_bot(bot: Path, report: Report) -> None:
    """data/, the domain, config, actions and endpoints, in place of ours."""
    replace(bot / "data", paths.DATA)
    report.did.append(f"copied data/ ({count_files(paths.DATA)} files)")
    if (bot / "domain").is_dir():
        replace(bot / "domain", paths.DOMAIN_DIR)
        remove(paths.DOMAIN)
        report.did.append(f"copied domain/ ({count_files(paths.DOMAIN_DIR)} files)")
    else:
        replace(bot / "domain.yml", paths.DOMAIN)
        remove(paths.DOMAIN_DIR)
        report.did.append("copied domain.yml")
    if depend_on_domain(paths.domain()):
        report.did.append(f"dvc.yaml: the train stage now depends on {domain_name()}")
    replace(bot / "config.yml", paths.CONFIG)
    if (bot / "actions").is_dir():
        replace(bot / "actions", paths.ACTIONS)
        report.did.append("copied actions/")
    elif (bot / "actions.py").is_file():
        remove(paths.ACTIONS)
        paths.ACTIONS.mkdir()
        shutil.copyfile(bot / "actions.py", paths.ACTIONS / "actions.py")
        (paths.ACTIONS / "__init__.py").write_text("")
        report.did.append("copied actions.py into actions/ (the action server runs `actions`)")
    else:
        remove(paths.ACTIONS)
        paths.ACTIONS.mkdir()
        (paths.ACTIONS / "__init__.py").write_text("")
        report.did.append("the bot has no custom actions: actions/ is empty")
    for name in ("endpoints.yml", "credentials.yml"):
        if (bot / name).is_file():
            replace(bot / name, Path(name))
            report.did.append(f"copied {name}")


def domain_name() -> str:
    return f"{paths.DOMAIN_DIR}/" if paths.domain() == paths.DOMAIN_DIR else str(paths.DOMAIN)


def depend_on_domain(domain: Path) -> bool:
    """dvc.yaml's train stage lists the domain the project has; True when it changed."""
    text = paths.DVC_YAML.read_text()
    other = paths.DOMAIN if domain == paths.DOMAIN_DIR else paths.DOMAIN_DIR
    changed = re.sub(rf"^(\s+- ){re.escape(str(other))}$", rf"\g<1>{domain}", text, flags=re.M)
    if changed == text:
        return False
    paths.DVC_YAML.write_text(changed)
    return True


def yaml_keys(path: Path) -> set:
    content = read_yaml(path)
    return set(content) if isinstance(content, dict) else set()


def copy_tests(bot: Path, report: Report) -> list[Path]:
    """Test stories to tests/, NLU test files to tests/nlu/; returns the NLU test files."""
    for path in THE_EXAMPLE_BOT:
        remove(path)
    source = bot / "tests"
    stories, nlu, skipped = [], [], []
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else []
    # Their Python tests lean on their conftest.py, which would replace the template's.
    python_tests = not (source / "conftest.py").exists()
    for path in files:
        relative = path.relative_to(source)
        if path.suffix in (".yml", ".yaml") and not JUNK(str(path.parent), [path.name]):
            keys = yaml_keys(path)
            if keys & {"stories", "rules"}:
                target = paths.TESTS / relative
                stories.append(target)
            elif "nlu" in keys:
                inside = relative.relative_to("nlu") if relative.parts[0] == "nlu" else relative
                target = paths.HAND_WRITTEN_NLU / inside
                nlu.append(target)
            else:
                skipped.append(relative)
                continue
        elif path.suffix == ".py" and python_tests and path.name not in OUR_TESTS:
            target = paths.TESTS / relative
        else:
            skipped.append(relative)
            continue
        replace(path, target)
    if stories:
        report.did.append(f"copied test stories: {', '.join(map(str, stories))}")
    else:
        report.check.append(
            "the bot has no test stories (YAML with `stories:` under tests/): the test stage "
            "needs some; write a few conversations into tests/test_stories.yml"
        )
    if not python_tests:
        report.check.append(
            "the bot's Python tests were not copied: they use its tests/conftest.py, which would "
            "replace this project's; merge the two conftest.py files, then copy them"
        )
    if skipped:
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        shown = ", ".join(f"tests/{p}" for p in skipped[:5]) + more
        report.check.append(
            f"not copied from the bot: {shown} (not test stories, an NLU test set or a test "
            "module): copy what you need by hand"
        )
    return nlu


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


def requirement_name(line: str) -> str:
    """The package a requirement line names, normalized as pip compares names."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[@]", line, maxsplit=1)[0]).lower()


def locked_names() -> set[str]:
    """The packages requirements/bot.txt pins: Rasa 3.6's and the bot's own."""
    lock = paths.BOT_LOCK.read_text() if paths.BOT_LOCK.exists() else ""
    return {requirement_name(line) for line in lock.splitlines() if "==" in line[:80]}


def merge_requirements(bot: Path, report: Report) -> bool:
    """Adds the bot's packages to requirements/bot.in; True when it changed."""
    files = [
        p
        for p in sorted(bot.glob("requirements*.txt"))
        + sorted(bot.glob("actions/requirements*.txt"))
        if not re.search(r"dev|test|doc|lint", p.name)
    ]
    text = paths.BOT_REQUIREMENTS.read_text()
    have = {requirement_name(line) for line in text.splitlines() if line.strip()[:1].isalnum()}
    locked = locked_names()
    added, left, skipped = [], set(), set()
    for path in files:
        for raw in path.read_text().splitlines():
            line = raw.split(" #")[0].strip()
            if not line or line.startswith(("#", "-")):
                continue
            name = requirement_name(line)
            if name in RASA_ITSELF:
                left.add(name)
            elif name in NOT_A_PACKAGE:
                skipped.add(line)
            elif name in have:
                continue
            elif name in locked:  # Rasa pins it: the bot's version would only fight Rasa's
                asked = line[re.match(r"[\w.-]+(\[.*?\])?", line).end() :].strip()
                note = f", which asks for {asked}; Rasa's pinned version stays" if asked else ""
                added.append(f"{name}  # {path.relative_to(bot)}{note}")
            else:
                added.append(f"{line}  # {path.relative_to(bot)}")
            have.add(name)
    if left:
        report.did.append(
            f"requirements/bot.in: left out {', '.join(sorted(left))} "
            "(the pinned Rasa brings its own)"
        )
    if skipped:
        report.did.append(
            f"requirements/bot.in: left out {', '.join(sorted(skipped))} (written by Debian's "
            "`pip freeze`, not a package)"
        )
    if not added:
        return False
    paths.BOT_REQUIREMENTS.write_text(
        text.rstrip("\n") + "\n# The adopted bot's actions (make adopt)\n" + "\n".join(added) + "\n"
    )
    report.did.append(f"requirements/bot.in: added {', '.join(a.split('  #')[0] for a in added)}")
    return True


def relock() -> None:
    """Re-lock and re-install the bot's environment only (requirements/dvc.txt is left alone)."""
    done = subprocess.run(["make", "--no-print-directory", "lock-bot", "install"], check=False)
    if done.returncode:
        raise AdoptError(
            "the bot's packages could not be locked with Rasa 3.6's: loosen the versions the "
            "adopted lines of requirements/bot.in pin, then run 'make lock-bot install'"
        )


def answers(url: str) -> bool:
    where = urlparse(url)
    try:
        with socket.create_connection((where.hostname, where.port or 80), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_here(component: dict) -> str | None:
    """Why this machine cannot run the component, or None."""
    name = component["name"]
    if name == "DucklingEntityExtractor":
        url = component.get("url")
        if not url:
            return "needs a Duckling server, and its `url` is not set"
        return None if answers(url) else f"needs a Duckling server at {url}, which does not answer"
    if name == "SpacyNLP":
        model = component.get("model")
        if not installed("spacy"):
            return f"needs the spaCy package and its model {model}, which are not installed"
        if model and not installed(model):
            return f"needs the spaCy model {model} (python -m spacy download {model})"
    if name == "MitieNLP":
        model = component.get("model", "")
        if not installed("mitie") or not Path(model).is_file():
            return f"needs the mitie package and its model file {model or '(not set)'}"
    if name == "LanguageModelFeaturizer" and not installed("transformers"):
        weights = component.get("model_weights") or component.get("model_name", "bert")
        return f"needs the transformers package and downloads {weights} from Hugging Face"
    if name == "ConveRTFeaturizer" and not Path(str(component.get("model_url"))).exists():
        return f"downloads the ConveRT model from {component.get('model_url')}"
    if name == "JiebaTokenizer" and not installed("jieba"):
        return "needs the jieba package"
    return None


def drop_unavailable(config, keep: set[str], bot: Path, report: Report) -> None:
    """Removes the components this machine cannot run (and the ones that need them)."""
    for section in ("pipeline", "policies"):
        entries = config.get(section) or []
        for entry in list(entries):
            why = missing_here(entry)
            if not why:
                continue
            name = entry["name"]
            if name in keep:
                report.check.append(f"{name} {why}: kept (KEEP); set it up before make repro")
                continue
            fallen = {name} | FAMILIES.get(name, set())
            names = [e["name"] for e in entries if e["name"] in fallen]
            tokenizer_gone = any(n.endswith("Tokenizer") for n in names)
            at = next(i for i, e in enumerate(entries) if e["name"] in fallen)
            for i in reversed(range(len(entries))):
                if entries[i]["name"] in fallen:
                    drop_comment_above(entries, i)
                    del entries[i]
            if tokenizer_gone and not any(e["name"].endswith("Tokenizer") for e in entries):
                entries.insert(at, {"name": "WhitespaceTokenizer"})
                names.append("(WhitespaceTokenizer in its place)")
            whose = f"{name} " if len(names) > 1 else ""
            report.did.append(
                f"config.yml: removed {', '.join(names)} ({whose}{why}; "
                f"to keep it: make adopt BOT={bot} KEEP={name})"
            )
            report.check.append(
                f"without {name} the bot understands less than it did: compare the metrics "
                "with your own, or keep it once the machine has what it needs"
            )


def drop_comment_above(entries, index: int) -> None:
    """Removes the comment lines written above entries[index] (ruamel keeps them with the entry
    before it), so a removed component leaves no comment about itself behind."""
    if index == 0:
        return
    previous = entries[index - 1]
    tokens = previous.ca.items.get(list(previous)[-1]) if hasattr(previous, "ca") else None
    if tokens and len(tokens) > 2 and tokens[2] is not None:
        first, *rest = tokens[2].value.split("\n")
        tokens[2].value = "\n".join([first, *(line for line in rest if not line.strip())])


def copy_custom_components(config, bot: Path, report: Report) -> None:
    for section in ("pipeline", "policies"):
        for entry in config.get(section) or []:
            if "." not in entry["name"]:
                continue
            package = entry["name"].split(".")[0]
            for source in (bot / package, bot / f"{package}.py"):
                if source.exists():
                    replace(source, Path(source.name))
                    report.did.append(f"copied {source.name} (custom component {entry['name']})")
                    break
            else:
                report.check.append(
                    f"config.yml uses {entry['name']}: copy its module into this project"
                )


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
    copy_bot(bot, report)
    nlu = copy_tests(bot, report)
    use_test_set(nlu, report)
    drop_unavailable(config, keep, bot, report)
    copy_custom_components(config, bot, report)
    rasa_config.dump_keeping_layout(config, paths.CONFIG)
    train = rasa_config.adopt_files(paths.CONFIG, paths.PARAMS)
    for key, options in train.items():
        report.did.append(f"params.yaml train.{key}: {dict(options)}")
    if merge_requirements(bot, report):
        relock()
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
