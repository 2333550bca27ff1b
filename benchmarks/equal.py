"""The figures a project tracks, read back so that the benchmark can hold the pipeline's to a
hand-run's: a faster pipeline only counts when every number equals the one Rasa gives by hand.

The hand-run's Rasa reports go through the bot's own `pipeline.metrics` (as in the test stage),
so both sides are compared in the same files and rounding."""

import json
from pathlib import Path

TRACKED = (
    "metrics/nlu.json",
    "metrics/core.json",
    "metrics/entities.json",
    "metrics/responses.json",
    "evaluation/intents.json",
    "evaluation/entities.json",
    "evaluation/responses.json",
    "evaluation/failed_stories.json",
)


def figures(project: Path) -> dict:
    """file -> its content (None when the bot has no such file, e.g. no entities)."""
    return {
        name: json.loads((project / name).read_text()) if (project / name).exists() else None
        for name in TRACKED
    }


def differences(pipeline: dict, hand: dict) -> list[str]:
    """One line per figure that differs, e.g. 'metrics/core.json action_f1: 0.95 vs 0.96'."""
    found = []
    for name in TRACKED:
        ours, theirs = pipeline.get(name), hand.get(name)
        if ours == theirs:
            continue
        if isinstance(ours, dict) and isinstance(theirs, dict):
            for key in sorted(ours.keys() | theirs.keys()):
                if ours.get(key) != theirs.get(key):
                    found.append(f"{name} {key}: {ours.get(key)} vs {theirs.get(key)} by hand")
        else:
            found.append(f"{name}: {ours} vs {theirs} by hand")
    return found
