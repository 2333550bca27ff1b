"""Bring a team's Rasa bot into a baked project by hand, as step 1 of the generated README's
"Bring your own bot" says (`make adopt` does more: it also drops components this machine cannot
run). The benchmark brings in tests/bots/helpdesk this way, and so does the equality test."""

import shutil
from pathlib import Path

# What the default bake holds that a team's bot replaces (README: "Replace ours with yours").
OURS = [
    "data",
    "domain.yml",
    "config.yml",
    "actions",
    "tests/test_stories.yml",
    "tests/test_actions.py",
    "tests/nlu/nlu_test.yml",
]
# What the bot brings, beside its test stories (tests/*.yml).
THEIRS = ["data", "domain.yml", "config.yml", "actions", "endpoints.yml"]


def bring_in(bot: Path, project: Path) -> None:
    for rel in OURS:
        path = project / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    for rel in THEIRS:
        source = bot / rel
        if source.is_dir():
            shutil.copytree(source, project / rel)
        elif source.exists():
            shutil.copyfile(source, project / rel)
    for stories in (bot / "tests").glob("*.yml"):
        shutil.copyfile(stories, project / "tests" / stories.name)
