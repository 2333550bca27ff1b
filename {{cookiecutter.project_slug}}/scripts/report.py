"""Write report.md: what this change did to the assistant, compared with a baseline revision.

    python scripts/report.py --dvc .venv-dvc/bin/dvc --baseline main --out report.md

`make report` runs it, and CI posts the result on pull requests. The report holds the metrics
and params diffs (from DVC), the quality gate's verdict, the intents whose F1 fell, the data
validation warnings and two plots, written to report/ next to report.md: Rasa's intent confusion
matrix and F1 per intent. report/without-images.md is the same report without the plots, for
places that cannot show local images (the CI job summary, a comment that uploads no images).
"""

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import gate

NLU_METRICS = "metrics/nlu.json"
CONFUSION_MATRIX = Path("results/nlu/intent_confusion_matrix.png")
INTENT_F1 = Path("plots/intent_f1.csv")
VALIDATE_LOG = Path("results/validate.log")
# Rasa's own warnings in `rasa data validate` output: log records and UserWarnings.
# Libraries' DeprecationWarnings in the same log are noise and stay out of the report.
PLOTS = object()  # placeholder in build()'s blocks
NO_PLOTS = (
    "_Plots are not embedded in this version of the report: `make report` writes the intent "
    "confusion matrix and F1 per intent to `report/`._"
)
WARNING_LINE = re.compile(r"(?:\bWARNING\s+\S+\s+-\s+|UserWarning:\s*)(?P<message>.+)")


def dvc_markdown(dvc: str, *args: str) -> str:
    """The Markdown table a `dvc ... --md` command prints ('' when it has nothing to show)."""
    result = subprocess.run([dvc, *args, "--md"], capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise SystemExit(f"ERROR: dvc {' '.join(args)} failed: {detail}")
    table = result.stdout.strip()
    return table if len(table.splitlines()) > 2 else ""  # a header alone: nothing changed


def metrics_table(dvc: str) -> str:
    """This change's metrics, one per row (`dvc metrics show --md` puts them all in one row)."""
    result = subprocess.run([dvc, "metrics", "show", "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"ERROR: dvc metrics show failed: {result.stderr.strip()}")
    rows = []
    for revision in json.loads(result.stdout or "{}").values():
        for path, entry in sorted(revision.get("data", {}).items()):
            for key, value in flatten(entry.get("data", {})):
                rows.append(f"| {path} | {key} | {value} |")
    return "| Path | Metric | Value |\n| --- | --- | --- |\n" + "\n".join(rows)


def flatten(data: dict, prefix: str = ""):
    for key, value in sorted(data.items()):
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def short(commit: str | None) -> str:
    return commit[:7] if commit else ""


def head_label() -> str:
    commit = gate.resolve("HEAD")
    return f"this change (`{short(commit)}`)" if commit else "this change"


def intents_that_fell(
    baseline: dict | None, current: dict | None
) -> list[tuple[str, float, float]]:
    old = (baseline or {}).get("intent_f1") or {}
    new = (current or {}).get("intent_f1") or {}
    fell = [(name, old[name], new[name]) for name in old if name in new and new[name] < old[name]]
    return sorted(fell, key=lambda row: (row[2] - row[1], row[0]))


def validation_warnings(log: Path = VALIDATE_LOG) -> list[str] | None:
    if not log.exists():
        return None
    found = []
    for line in log.read_text(errors="replace").splitlines():
        match = WARNING_LINE.search(line)
        if match and match["message"].strip() not in found:
            found.append(match["message"].strip())
    return found


def f1_chart(out: Path, baseline: dict | None, baseline_name: str) -> bool:
    """A horizontal bar chart of F1 per intent (next to the baseline's when there is one)."""
    if not INTENT_F1.exists():
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with INTENT_F1.open() as handle:
        rows = sorted((r["intent"], float(r["f1"])) for r in csv.DictReader(handle))
    if not rows:
        return False
    names = [name for name, _ in rows]
    old = (baseline or {}).get("intent_f1") or {}
    positions = range(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    if old:
        ax.barh(
            [p + 0.2 for p in positions],
            [old.get(n, 0.0) for n in names],
            height=0.4,
            color="#b0b0b0",
            label=baseline_name,
        )
        ax.barh(
            [p - 0.2 for p in positions],
            [f1 for _, f1 in rows],
            height=0.4,
            color="#1f77b4",
            label="this change",
        )
        ax.legend(loc="lower right", fontsize="small")
    else:
        ax.barh(list(positions), [f1 for _, f1 in rows], color="#1f77b4")
    ax.set_yticks(list(positions))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 (held-out NLU test set)")
    ax.set_title("F1 per intent")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True


def build(dvc: str, baseline: str) -> list[str]:
    """The report's sections as Markdown blocks, with PLOTS where the plots go."""
    commit = gate.resolve(baseline)
    old_nlu = gate.read_at(commit, NLU_METRICS) if commit else None
    new_nlu = gate.read_workspace(NLU_METRICS)
    has_baseline = commit is not None and old_nlu is not None
    base = f"`{baseline}` (`{short(commit)}`)" if commit else f"`{baseline}`"

    blocks = [f"# Model report: {head_label()} vs {base}"]
    if has_baseline:
        blocks += ["## Metrics", dvc_markdown(dvc, "metrics", "diff", "--all", baseline)]
    else:
        reason = (
            f"{base} has no metrics yet (first run)"
            if commit
            else f"{base} is not a revision in this repository"
        )
        blocks += [
            "## Metrics",
            f"No baseline: {reason}, so there is nothing to compare with. "
            "The quality gate passes; these are this change's metrics:",
            metrics_table(dvc),
        ]

    results, verdict = gate.check(baseline)
    blocks += ["## Quality gate", "\n".join(f"    {r.line}" for r in results), f"**{verdict}**"]

    if has_baseline:
        fell = intents_that_fell(old_nlu, new_nlu)
        blocks.append("## Intents that got worse")
        if fell:
            rows = [
                f"| `{name}` | {old:.4f} | {new:.4f} | {new - old:+.4f} |"
                for name, old, new in fell
            ]
            blocks.append(
                f"| intent | F1 at `{baseline}` | F1 now | change |\n| --- | --- | --- | --- |\n"
                + "\n".join(rows)
            )
        else:
            blocks.append(f"No intent's F1 fell below its value at `{baseline}`.")
        params = dvc_markdown(dvc, "params", "diff", baseline)
        blocks += ["## Parameters", params or f"No parameter changed since `{baseline}`."]

    blocks += ["## Plots", PLOTS]

    warnings = validation_warnings()
    blocks.append("## Data validation")
    if warnings is None:
        blocks.append(f"`{VALIDATE_LOG}` is missing: run `make repro`.")
    elif warnings:
        blocks.append("`rasa data validate` warned:\n\n" + "\n".join(f"- {w}" for w in warnings))
    else:
        blocks.append("`rasa data validate` reported no warnings.")
    return blocks


def notes_section(notes: list[str], notes_file: Path | None) -> list[str]:
    """'## Notes' with each --note and the --notes-file's Markdown; [] when there are none."""
    texts = [note.strip() for note in notes]
    if notes_file is not None and notes_file.exists():
        texts.append(notes_file.read_text().strip())
    texts = [text for text in texts if text]
    return ["## Notes", "\n\n".join(texts)] if texts else []


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dvc", default="dvc", help="the dvc executable")
    parser.add_argument("--baseline", default="main", help="revision to compare with")
    parser.add_argument("--out", type=Path, default=Path("report.md"))
    parser.add_argument(
        "--note", action="append", default=[], help="a paragraph for the Notes section (repeatable)"
    )
    parser.add_argument(
        "--notes-file", type=Path, help="Markdown for the Notes section (CI: REPORT_NOTES)"
    )
    args = parser.parse_args(argv)

    assets = args.out.parent / "report"
    if assets.exists():
        shutil.rmtree(assets)
    assets.mkdir(parents=True)
    images = {}
    if CONFUSION_MATRIX.exists():
        shutil.copyfile(CONFUSION_MATRIX, assets / CONFUSION_MATRIX.name)
        images["Intent confusion matrix"] = f"report/{CONFUSION_MATRIX.name}"
    commit = gate.resolve(args.baseline)
    old_nlu = gate.read_at(commit, NLU_METRICS) if commit else None
    if f1_chart(assets / "intent_f1.png", old_nlu, args.baseline):
        images["F1 per intent"] = "report/intent_f1.png"

    try:
        blocks = build(args.dvc, args.baseline)
    except gate.GateError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    blocks += notes_section(args.note, args.notes_file)
    embedded = "\n\n".join(f"![{alt}]({path})" for alt, path in images.items())
    for path, plots in [(args.out, embedded or NO_PLOTS), (assets / "without-images.md", NO_PLOTS)]:
        path.write_text("\n\n".join(plots if b is PLOTS else b for b in blocks) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
