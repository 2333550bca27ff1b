"""Write report.md: what this change did to the assistant, compared with a baseline revision.

    python -m pipeline.report --dvc .venv-dvc/bin/dvc --baseline main --out report.md

`make report` runs it, and CI posts the result on pull requests. The report holds the metrics
and params diffs (from DVC), the quality gate's verdict, what got worse (intents, entities,
responses, held-out examples whose prediction changed, failed test stories), the validation
warnings (new ones apart) and plots written to report/ next to report.md.
report/without-images.md is the same report without the plots, for places that cannot show
local images (the CI job summary, a comment that uploads no images).
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline import charts, compare, gate, params, paths

CONFUSION_MATRIX = paths.CONFUSION_MATRIX
MAX_ROWS = 15  # longer lists are cut, with a count of the rest
NO_PLOTS = (
    "_Plots are not embedded in this version of the report: `make report` writes them to "
    "`report/`, and CI uploads them with the report as the run's artifact._"
)


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


def table(header: list[str], rows: list[list]) -> str:
    shown = rows[:MAX_ROWS]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in shown]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n_... and {len(rows) - MAX_ROWS} more._")
    return "\n".join(lines)


def _change(old: float, new: float) -> list:
    return [f"{old:.4f}", f"{new:.4f}", f"{new - old:+.4f}"]


def intents_section(base: compare.Evaluation, now: compare.Evaluation, name: str) -> list[str]:
    old = (base.nlu or {}).get("intent_f1")
    fell = compare.scores_that_fell(old, (now.nlu or {}).get("intent_f1"))
    blocks = ["## Intents that got worse"]
    if fell:
        rows = [[f"`{intent}`", *_change(was, new)] for intent, was, new in fell]
        blocks.append(table(["intent", f"F1 at `{name}`", "F1 now", "change"], rows))
    else:
        blocks.append(f"No intent's F1 fell below its value at `{name}`.")
    better, worse = compare.changed_predictions(base.predictions, now.predictions)
    if base.predictions is not None and (better or worse):
        blocks.append("### Held-out examples whose prediction changed")
        for title, changes in [("Now wrong", worse), ("Now right", better)]:
            if changes:
                rows = [
                    [f"`{c.text}`", f"`{c.actual}`", f"`{c.before}`", f"`{c.now}`"] for c in changes
                ]
                blocks += [
                    f"{title} ({len(changes)}):",
                    table(["example", "intent", f"predicted at `{name}`", "predicted now"], rows),
                ]
    return blocks


def entities_section(base: compare.Evaluation, now: compare.Evaluation, name: str) -> list[str]:
    if not now.entities and not base.entities:
        return []
    blocks = ["## Entities"]
    if not now.entities:
        return blocks + [f"No entity was evaluated now, although `{name}` evaluated some."]
    rows = []
    for extractor, metrics in sorted(now.entities.items()):
        before = (base.entities or {}).get(extractor, {}).get("weighted_f1")
        was = f"{before:.4f}" if before is not None else "-"
        rows.append(
            [
                f"`{extractor}`",
                was,
                f"{metrics['weighted_f1']:.4f}",
                f"{metrics['precision']:.4f}",
                f"{metrics['recall']:.4f}",
                len(metrics["entity_f1"]),
            ]
        )
    for extractor in sorted(set(base.entities or {}) - set(now.entities)):
        was = f"{base.entities[extractor]['weighted_f1']:.4f}"
        rows.append([f"`{extractor}`", was, "no entity predicted", "-", "-", 0])
    header = ["extractor", f"F1 at `{name}`", "F1 now", "precision", "recall", "entities"]
    blocks.append(table(header, rows))
    fell = compare.entities_that_fell(base.entities, now.entities)
    if fell:
        rows = [[f"`{entity}`", f"`{ex}`", *_change(was, new)] for ex, entity, was, new in fell]
        blocks += [
            "Entities that got worse:",
            table(["entity", "extractor", f"F1 at `{name}`", "F1 now", "change"], rows),
        ]
    elif base.entities:
        blocks.append(f"No entity's F1 fell below its value at `{name}`.")
    return blocks


def responses_section(base: compare.Evaluation, now: compare.Evaluation, name: str) -> list[str]:
    if not now.responses:
        return []
    blocks = ["## Response selection (retrieval intents)"]
    current = now.responses
    line = f"Accuracy {current['accuracy']:.4f}, weighted F1 {current['weighted_f1']:.4f}"
    if base.responses:
        line += (
            f" (at `{name}`: {base.responses['accuracy']:.4f}, {base.responses['weighted_f1']:.4f})"
        )
    blocks.append(line + f" over {len(current['response_f1'])} responses.")
    fell = compare.scores_that_fell(
        (base.responses or {}).get("response_f1"), current.get("response_f1")
    )
    if fell:
        rows = [[f"`{key}`", *_change(was, new)] for key, was, new in fell]
        blocks.append(table(["response", f"F1 at `{name}`", "F1 now", "change"], rows))
    return blocks


def stories_section(base: compare.Evaluation, now: compare.Evaluation, name: str) -> list[str]:
    core = now.core or {}
    blocks = ["## Test stories"]
    if core:
        blocks.append(
            f"{core['conversations_correct']} of {core['conversations_total']} test stories "
            f"passed (conversation accuracy {core['conversation_accuracy']:.4f})."
        )
    statuses = compare.story_status(now.failed_stories, base.failed_stories)
    if statuses:
        at_base = {"passed": "passed", "failed": "failed too", "unknown": "-"}
        rows = []
        for story, status in statuses:
            wrong = story.get("first_wrong") or {}
            turn = "-"
            if wrong:
                turn = f"{wrong['kind']} `{wrong['expected']}`, predicted `{wrong['predicted']}`"
            rows.append([story["story"], turn, at_base[status]])
        blocks.append(table(["failed story", "first wrong turn", f"at `{name}`"], rows))
    return blocks


def validation_section(base: compare.Evaluation, now: compare.Evaluation, name: str) -> list[str]:
    blocks = ["## Data validation"]
    if now.validation is None:
        return blocks + ["`evaluation/validation.json` is missing: run `make repro`."]
    if base.validation is None:
        warnings = now.validation.get("warnings") or []
        if not warnings:
            return blocks + ["No validation warnings."]
        return blocks + [f"{len(warnings)} validation warnings:\n\n" + _bullets(warnings)]
    new, known = compare.new_warnings(now.validation, base.validation)
    if not new and not known:
        return blocks + ["No validation warnings."]
    if new:
        blocks.append(f"**{len(new)} new** since `{name}`:\n\n" + _bullets(new))
    else:
        blocks.append(f"No new warning since `{name}`.")
    if known:
        blocks.append(
            f"<details><summary>{len(known)} already there at `{name}`</summary>\n\n"
            + _bullets(known)
            + "\n\n</details>"
        )
    return blocks


def _bullets(lines: list[str]) -> str:
    shown = [f"- {line}" for line in lines[: MAX_ROWS * 2]]
    if len(lines) > MAX_ROWS * 2:
        shown.append(f"- ... and {len(lines) - MAX_ROWS * 2} more")
    return "\n".join(shown)


def build(
    dvc: str,
    baseline: str,
    notes: list[str],
    base_files: compare.Revision,
    now_files: compare.Revision,
    gate_result: tuple[list[gate.Result], str],
) -> list:
    """The report's blocks, with None where the plots go; gate_result is the quality gate's
    (results, verdict) for the same two revisions."""
    base, now = base_files.evaluation, now_files.evaluation
    has_baseline = base.nlu is not None
    commit = base_files.commit
    label = f"`{baseline}` (`{commit[:7]}`)" if commit else f"`{baseline}`"
    head = compare.resolve("HEAD")
    title = f"this change (`{head[:7]}`)" if head else "this change"

    blocks = [f"# Model report: {title} vs {label}", *notes]
    blocks.append("## Metrics")
    if has_baseline:
        blocks.append(dvc_markdown(dvc, "metrics", "diff", baseline) or "No metric changed.")
    else:
        reason = (
            "has no metrics yet (first run)" if commit else "is not a revision in this repository"
        )
        blocks += [
            f"No baseline: {label} {reason}, so there is nothing to compare with. "
            "The quality gate passes; these are this change's metrics:",
            metrics_table(dvc),
        ]

    results, verdict = gate_result
    blocks += ["## Quality gate", "\n".join(f"    {r.line}" for r in results), f"**{verdict}**"]

    if has_baseline:
        blocks += intents_section(base, now, baseline)
    blocks += entities_section(base, now, baseline)
    blocks += responses_section(base, now, baseline)
    blocks += stories_section(base, now, baseline)
    if has_baseline:
        params = dvc_markdown(dvc, "params", "diff", baseline)
        blocks += ["## Parameters", params or f"No parameter changed since `{baseline}`."]
    blocks += validation_section(base, now, baseline)
    blocks += ["## Plots", None]
    return blocks


def write_images(
    assets: Path, base_files: compare.Revision, now_files: compare.Revision, baseline: str
) -> dict[str, str]:
    base, now = base_files.evaluation, now_files.evaluation
    images = {}
    if CONFUSION_MATRIX.exists():
        shutil.copyfile(CONFUSION_MATRIX, assets / CONFUSION_MATRIX.name)
        images["Intent confusion matrix"] = f"report/{CONFUSION_MATRIX.name}"
    intent_now = (now.nlu or {}).get("intent_f1") or {}
    intent_before = (base.nlu or {}).get("intent_f1") or {}
    if charts.f1_chart(
        assets / "intent_f1.png", "F1 per intent", intent_now, intent_before, baseline
    ):
        images["F1 per intent"] = "report/intent_f1.png"
    for extractor, metrics in sorted((now.entities or {}).items()):
        before = ((base.entities or {}).get(extractor) or {}).get("entity_f1") or {}
        out = assets / f"entity_f1_{extractor}.png"
        if charts.f1_chart(
            out, f"F1 per entity ({extractor})", metrics["entity_f1"], before, baseline
        ):
            images[f"F1 per entity ({extractor})"] = f"report/{out.name}"
    return images


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
    parser.add_argument("--out", type=Path, default=paths.REPORT)
    parser.add_argument(
        "--note", action="append", default=[], help="a paragraph for the Notes section (repeatable)"
    )
    parser.add_argument(
        "--notes-file", type=Path, help="Markdown for the Notes section (CI: REPORT_NOTES)"
    )
    parser.add_argument(
        "--gate-result",
        type=Path,
        help="the verdict `make gate` wrote (GATE_RESULT); without it the gate is run here",
    )
    args = parser.parse_args(argv)

    # The baseline's files (none when it is not a revision here) and the workspace's: the
    # baseline is resolved here only, and each file is read once for every section and chart.
    base_files, now_files = compare.committed(args.baseline), compare.Workspace()
    try:
        notes = notes_section(args.note, args.notes_file)
        if args.gate_result:
            gate_result = gate.read_result(args.gate_result)
        else:
            gate_result = gate.check(args.baseline, base_files, now_files)
        blocks = build(args.dvc, args.baseline, notes, base_files, now_files, gate_result)
    except gate.GateError as error:
        return params.fail(error)
    assets = args.out.parent / "report"
    if assets.exists():
        shutil.rmtree(assets)
    assets.mkdir(parents=True)
    images = write_images(assets, base_files, now_files, args.baseline)
    embedded = "\n\n".join(f"![{alt}]({path})" for alt, path in images.items())
    for path, plots in [(args.out, embedded or NO_PLOTS), (assets / "without-images.md", NO_PLOTS)]:
        path.write_text("\n\n".join(plots if b is None else b for b in blocks) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
