"""Write report.md: what this change did to the assistant, compared with a baseline revision.

    python -m pipeline.report --dvc .venv-dvc/bin/dvc --baseline main --out report.md

`make report` runs it, and CI posts the result on pull requests. The report holds the metrics
and params diffs (from DVC), the quality gate's verdict, the headline metrics over time, what
got worse (intents, entities, responses, held-out examples whose prediction changed, failed
test stories), new and removed labels, the data and config changes, what the test stories do
not cover, the validation warnings (new ones apart) and plots written to report/.
report/without-images.md is the same report without the plots, for places that cannot show
local images (the CI job summary, a comment that uploads no images). Both fit in a comment
(tables capped, see pipeline/markdown.py); report/full.md has every row.
"""

import argparse
import shutil
import sys
from pathlib import Path

from pipeline import (
    charts,
    compare,
    dvc_tables,
    gate,
    history,
    markdown,
    params,
    paths,
    report_sections,
)

CONFUSION_MATRIX = paths.CONFUSION_MATRIX
FULL = Path("report/full.md")  # every row of every table: the artifact's copy
NO_PLOTS = (
    "_Plots are not embedded in this version of the report: `make report` writes them to "
    "`report/`, and CI uploads them with the report as the run's artifact._"
)
# Room left under GitHub's comment limit for CML's watermark and what CI adds around the report.
COMMENT_ROOM = 4_000


def build(
    dvc: str,
    baseline: str,
    notes: list[str],
    base_files: compare.Revision,
    now_files: compare.Revision,
    gate_result: tuple[list[gate.Result], str],
    head: str | None = None,
    limit: int | None = markdown.MAX_ROWS,
    stories: str | None = None,
    nlu_sources: tuple[Path, ...] = (paths.DATA,),
    trend: list[str] = (),
) -> list:
    """The report's blocks, with None where the plots go; gate_result is the quality gate's
    (results, verdict) for the same two revisions; head is the commit checked out; tables show
    at most `limit` rows."""
    base, now = base_files.evaluation, now_files.evaluation
    has_baseline = base.nlu is not None
    commit = base_files.commit
    name = markdown.code(baseline)
    label = f"{name} (`{commit[:7]}`)" if commit else name
    title = f"this change (`{head[:7]}`)" if head else "this change"
    c = report_sections.Context(base, now, name, limit)

    blocks = [f"# Model report: {title} vs {label}", *notes]
    blocks.append("## Metrics")
    if has_baseline:
        blocks.append(dvc_tables.dvc_diff(dvc, "metrics", baseline, limit) or "No metric changed.")
    else:
        reason = (
            "has no metrics yet (first run)" if commit else "is not a revision in this repository"
        )
        blocks += [
            f"No baseline: {label} {reason}, so there is nothing to compare with. "
            "The quality gate passes; these are this change's metrics:",
            dvc_tables.metrics_table(dvc),
        ]

    results, verdict = gate_result
    # an indented code block shows each line as written, if it stays one line
    lines = "\n".join("    " + r.line.replace("\n", " ") for r in results)
    blocks += ["## Quality gate", lines, f"**{markdown.text(verdict)}**"]
    blocks += list(trend)

    if has_baseline:
        blocks += report_sections.intents_section(c)
        blocks += report_sections.new_and_removed_section(c)
    blocks += report_sections.entities_section(c)
    blocks += report_sections.responses_section(c)
    blocks += report_sections.stories_section(c)
    blocks += report_sections.coverage_section(c, stories)
    blocks += report_sections.data_section(c, commit if has_baseline else None, list(nlu_sources))
    if has_baseline:
        blocks += report_sections.parameters_section(c, dvc, baseline)
    blocks += report_sections.validation_section(c)
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
    intent_now = compare.f1_scores(compare.intent_scores(now))
    intent_before = compare.f1_scores(compare.intent_scores(base))
    if charts.f1_chart(
        assets / "intent_f1.png", "F1 per intent", intent_now, intent_before, baseline
    ):
        images["F1 per intent"] = "report/intent_f1.png"
    before_entities = compare.entity_scores(base)
    for index, (extractor, entities) in enumerate(sorted(compare.entity_scores(now).items())):
        before = compare.f1_scores(before_entities.get(extractor) or {})
        out = assets / f"entity_f1_{index + 1}.png"
        if charts.f1_chart(
            out, f"F1 per entity ({extractor})", compare.f1_scores(entities), before, baseline
        ):
            images[f"F1 per entity ({index + 1})"] = f"report/{out.name}"
    responses = compare.f1_scores(compare.response_scores(now))
    out = assets / "response_f1.png"
    if charts.f1_chart(
        out,
        "F1 per response",
        responses,
        compare.f1_scores(compare.response_scores(base)),
        baseline,
    ):
        images["F1 per response"] = f"report/{out.name}"
    return images


def fit(text: str, limit: int = markdown.COMMENT_LIMIT - COMMENT_ROOM) -> str:
    """The report cut at a section boundary so that it fits in `limit` characters."""
    if len(text) <= limit:
        return text
    note = (
        "\n\n_The report is too long for a comment: the rest is left out here. The full "
        "report is `report/full.md` in the run's `model-report` artifact._\n"
    )
    cut = text[: limit - len(note)]
    boundary = cut.rfind("\n## ")
    return (cut[:boundary] if boundary > 0 else cut[: cut.rfind("\n")]) + note


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
    stories, nlu_sources = None, (paths.DATA,)
    try:  # the pipeline itself says what is wrong with params.yaml
        settings = params.load()
        stories = settings.test_stories()
        test_set = settings.split().nlu_test_set
        if test_set != "holdout":
            nlu_sources += (Path(test_set),)
    except params.ParamsError:
        pass
    try:
        notes = notes_section(args.note, args.notes_file)
        if args.gate_result:
            gate_result = gate.read_result(args.gate_result)
        else:
            gate_result = gate.check(args.baseline, base_files, now_files)
        trend = history.report_section(args.baseline, now_files.evaluation)
        head = compare.resolve("HEAD")
        full, capped = (
            build(
                args.dvc,
                args.baseline,
                notes,
                base_files,
                now_files,
                gate_result,
                head=head,
                limit=limit,
                stories=stories,
                nlu_sources=nlu_sources,
                trend=trend,
            )
            for limit in (None, markdown.MAX_ROWS)
        )
    except gate.GateError as error:
        return params.fail(error)
    assets = args.out.parent / "report"
    if assets.exists():
        shutil.rmtree(assets)
    assets.mkdir(parents=True)
    images = write_images(assets, base_files, now_files, args.baseline)
    if trend and history.chart(assets / "history.png", args.baseline, now_files.evaluation):
        images["Headline metrics over time"] = "report/history.png"
    embedded = "\n\n".join(f"![{alt}]({path})" for alt, path in images.items())
    for path, blocks, plots in [
        (args.out.parent / FULL, full, embedded or NO_PLOTS),
        (args.out, capped, embedded or NO_PLOTS),
        (assets / "without-images.md", capped, NO_PLOTS),
    ]:
        text = "\n\n".join(plots if b is None else b for b in blocks) + "\n"
        path.write_text(text if path.name == FULL.name else fit(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
