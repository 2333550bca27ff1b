"""What a benchmark run measured, and how it is read and shown: a Run (wall, CPU, timed output
lines), the per-stage times and Rasa's restored/trained components parsed from a `dvc repro`'s
output, and the number formats of the report."""

import re
import statistics
from dataclasses import dataclass, field

STAGE_START = re.compile(r"^Running stage '([^']+)'")
STAGE_END = re.compile(r"^(Updating|Generating) lock file")
RASA_COMPONENT = re.compile(r"(Restored|Finished training) component '([^']+)'")


@dataclass
class Run:
    wall: float
    cpu: float
    lines: list = field(default_factory=list)  # (seconds since start, text)


def stages(result):
    """Per-stage wall time of a `dvc repro`, from 'Running stage' to DVC's lock-file update."""
    times, current = {}, None
    for t, text in result.lines:
        if match := STAGE_START.match(text):
            current = (match.group(1), t)
        elif current and STAGE_END.match(text):
            times[current[0]] = t - current[1]
            current = None
    if current:
        times[current[0]] = result.wall - current[1]
    return times


def components(result):
    restored = [
        m.group(2)
        for _, text in result.lines
        if (m := RASA_COMPONENT.search(text)) and m.group(1) == "Restored"
    ]
    trained = [
        m.group(2)
        for _, text in result.lines
        if (m := RASA_COMPONENT.search(text)) and m.group(1) != "Restored"
    ]
    return restored, trained


def median(values):
    return statistics.median(values) if values else float("nan")


def seconds(value):
    if value < 1:
        return f"{value:.2f} s"
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def spread(runs, cpu=True):
    """'12.3 s (CPU 10.1 s; 11.9-13.0, n=3)' for a list of Runs."""
    walls = [r.wall for r in runs]
    text = seconds(median(walls))
    details = []
    if cpu:
        details.append(f"CPU {seconds(median([r.cpu for r in runs]))}")
    if len(runs) > 1:
        details.append(f"{min(walls):.1f}-{max(walls):.1f}, n={len(runs)}")
    return f"{text} ({'; '.join(details)})" if details else text
