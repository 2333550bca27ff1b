"""`make adopt`'s requirements: the packages the bot's requirements files name, added to
requirements/bot.in (Rasa's pins stay), then the bot's environment re-locked."""

import re
import subprocess
from pathlib import Path

from pipeline import paths
from pipeline.adopt_report import AdoptError, Report

RASA_ITSELF = {"rasa", "rasa-sdk", "rasa-pro", "rasa-plus"}  # bot.in pins Rasa; it brings rasa-sdk
# `pip freeze` on Debian and Ubuntu lists pkg-resources==0.0.0, which no package index has.
NOT_A_PACKAGE = {"pkg-resources"}


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
