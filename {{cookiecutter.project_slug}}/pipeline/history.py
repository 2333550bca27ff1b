"""The headline metrics over the last results committed on a branch, read from git history
(no retraining): intent weighted F1, entity F1 and conversation accuracy per commit.

    python -m pipeline.history [--rev main] [--last 10] [--chart history.png]

`make history` prints the table; the report shows it with this change as the last row.
"""

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline import compare, markdown, paths

LAST = 10
FILES = {
    "nlu": paths.NLU_METRICS.as_posix(),
    "entities": paths.ENTITY_METRICS.as_posix(),
    "core": paths.CORE_METRICS.as_posix(),
}
COLUMNS = {
    "weighted_f1": "intent weighted F1",
    "entity_f1": "entity F1",
    "conversation_accuracy": "conversation accuracy",
}


@dataclass
class Point:
    commit: str  # the full hash; "" for this change (the workspace)
    date: str
    subject: str
    figures: dict  # COLUMNS' keys -> float, None when that revision has no such figure


def headline(nlu: dict | None, entities: dict | None, core: dict | None) -> dict:
    """The three headline figures; the entity F1 is DIETClassifier's, else the first
    extractor's by name (one line per chart, whatever the number of extractors)."""
    entity = None
    if entities:
        extractor = "DIETClassifier" if "DIETClassifier" in entities else sorted(entities)[0]
        entity = (entities.get(extractor) or {}).get("weighted_f1")
    return {
        "weighted_f1": (nlu or {}).get("weighted_f1"),
        "entity_f1": entity,
        "conversation_accuracy": (core or {}).get("conversation_accuracy"),
    }


def results_commits(rev: str, last: int = LAST) -> list[tuple[str, str, str]]:
    """(hash, date, subject) of the last commits on `rev`'s first-parent line that changed
    metrics/, newest first; [] when `rev` is not a revision here."""
    if rev.startswith("-"):  # git would read it as an option
        return []
    result = subprocess.run(
        ["git", "log", "--first-parent", f"-n{last}", "--format=%H%x00%cs%x00%s", rev]
        + ["--", paths.METRICS.as_posix()],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return []
    return [tuple(line.split("\0", 2)) for line in result.stdout.splitlines() if line]


def _read_batch(names: list[str]) -> list[str | None]:
    """The contents of <commit>:<path> objects through one `git cat-file --batch`."""
    result = subprocess.run(
        ["git", "cat-file", "--batch"], input="\n".join(names).encode() + b"\n", capture_output=True
    )
    out, position, texts = result.stdout, 0, []
    for _ in names:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        if header[-1] == b"missing" or len(header) < 3:
            texts.append(None)
            position = header_end + 1
            continue
        size = int(header[2])
        start = header_end + 1
        texts.append(out[start : start + size].decode("utf-8", errors="replace"))
        position = start + size + 1
    return texts


def _json(text: str | None):
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def points(rev: str, last: int = LAST) -> list[Point]:
    """The headline figures of the last results on `rev`, oldest first."""
    commits = results_commits(rev, last)
    if not commits:
        return []
    names = [f"{commit}:{path}" for commit, _, _ in commits for path in FILES.values()]
    texts = iter(_read_batch(names))
    found = []
    for commit, date, subject in commits:
        files = {key: _json(next(texts)) for key in FILES}
        found.append(Point(commit, date, subject, headline(**files)))
    return found[::-1]


def workspace_point(evaluation: compare.Evaluation) -> Point:
    figures = headline(evaluation.nlu, evaluation.entities, evaluation.core)
    return Point("", "", "(not merged yet)", figures)


def _columns(series: list[Point]) -> list[str]:
    """The figures any point has (a bot without entities gets no entity column)."""
    return [key for key in COLUMNS if any(p.figures[key] is not None for p in series)]


def table(series: list[Point], limit: int | None = None) -> str:
    columns = _columns(series)
    rows = []
    for point in series:
        commit = f"`{point.commit[:7]}`" if point.commit else "**this change**"
        figures = [
            "-" if point.figures[key] is None else f"{point.figures[key]:.4f}" for key in columns
        ]
        rows.append([commit, point.date or "-", markdown.text(point.subject), *figures])
    header = ["commit", "date", "subject", *(COLUMNS[key] for key in columns)]
    return markdown.table(header, rows, limit)


def chart(out: Path, rev: str, evaluation: compare.Evaluation | None, last: int = LAST) -> bool:
    """A trend chart of the headline figures; this change (when given) is the last point,
    drawn apart. False (and no file) when `rev` has no results."""
    series = points(rev, last)
    if not series:
        return False
    from pipeline import charts

    pending = workspace_point(evaluation) if evaluation is not None else None
    labels = [p.commit[:7] for p in series] + (["this change"] if pending else [])
    lines = {}
    for key in _columns(series + ([pending] if pending else [])):
        values = [p.figures[key] for p in series]
        lines[COLUMNS[key]] = (values, pending.figures[key] if pending else None)
    charts.trend_chart(out, f"Headline metrics over the last results on {rev}", labels, lines)
    return True


def report_section(rev: str, evaluation: compare.Evaluation, last: int = LAST) -> list[str]:
    """'## Over time' for the report: the last results on `rev`, then this change."""
    series = points(rev, last)
    if not series:
        return []
    return [
        "## Over time",
        f"Headline metrics of the results committed on {markdown.code(rev)} (the last "
        f"{last} at most, oldest first); the last row is where this change would put the line.",
        table([*series, workspace_point(evaluation)]),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="main", help="the branch whose history to read")
    parser.add_argument("--last", default=str(LAST), help="how many results commits (10)")
    parser.add_argument("--chart", type=Path, help="also draw the trend chart to this PNG")
    args = parser.parse_args(argv)
    if not args.last.isdigit() or int(args.last) < 1:
        print(
            f"ERROR: LAST must be a whole number of commits, at least 1: got {args.last!r}",
            file=sys.stderr,
        )
        return 2
    last = int(args.last)
    series = points(args.rev, last)
    if not series:
        print(
            f"ERROR: no results committed on {args.rev!r}: commit metrics/ after `make repro` "
            "(or name another branch with --rev)",
            file=sys.stderr,
        )
        return 1
    print(table(series))
    if args.chart:
        args.chart.parent.mkdir(parents=True, exist_ok=True)
        chart(args.chart, args.rev, None, last)
        print(f"wrote {args.chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
