"""`make adopt`'s copying: the bot's data, domain, config, actions, endpoints and tests in place
of the example bot's, and the modules of its custom components (pipeline/adopt.py runs it)."""

import re
import shutil
from pathlib import Path

import yaml

from pipeline import paths
from pipeline.adopt_report import AdoptError, Report

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
    "test_history.py",
    "test_model_archive.py",
    "test_report.py",
    "test_scripts.py",
    "test_sweep.py",
    "test_sync.py",
}


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
