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
import difflib
import functools
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline import bot_data, charts, compare, gate, history, markdown, params, paths

CONFUSION_MATRIX = paths.CONFUSION_MATRIX
FULL = Path("report/full.md")  # every row of every table: the artifact's copy
NO_PLOTS = (
    "_Plots are not embedded in this version of the report: `make report` writes them to "
    "`report/`, and CI uploads them with the report as the run's artifact._"
)
# Room left under GitHub's comment limit for CML's watermark and what CI adds around the report.
COMMENT_ROOM = 4_000


def dvc_diff(dvc: str, kind: str, baseline: str, limit: int | None) -> str:
    """`dvc metrics|params diff` as a Markdown table ('' when nothing changed), laid out and
    rounded as DVC's own `--md` table, with every cell escaped and long tables capped."""
    diff = _dvc_json(dvc, kind, baseline)
    metrics = kind == "metrics"
    rows = []
    for path, changes in diff.items():
        for key, change in sorted(changes.items()):
            values = [change.get("old"), change.get("new")]
            if metrics:
                values.append(change.get("diff"))
            rows.append([markdown.text(path), markdown.text(key), *map(_dvc_value, values)])
    if not rows:
        return ""
    header = ["Path", "Metric" if metrics else "Param", markdown.text(baseline), "workspace"]
    return markdown.table(header + (["Change"] if metrics else []), rows, limit)


@functools.cache
def _dvc_json(dvc: str, kind: str, baseline: str) -> dict:
    """`dvc metrics|params diff --json`, run once for the report's two versions."""
    result = subprocess.run([dvc, kind, "diff", baseline, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise SystemExit(f"ERROR: dvc {kind} diff {baseline} failed: {detail}")
    return json.loads(result.stdout or "{}")


def _dvc_value(value) -> str:
    """A value as DVC's diff tables show it (metrics: floats rounded to 5 digits)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        value = round(value, 5)
    if isinstance(value, (bool, int, float)):
        return str(value)
    return markdown.code(value if isinstance(value, str) else json.dumps(value))


def metrics_table(dvc: str) -> str:
    """This change's metrics, one per row (`dvc metrics show --md` puts them all in one row)."""
    result = subprocess.run([dvc, "metrics", "show", "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"ERROR: dvc metrics show failed: {result.stderr.strip()}")
    rows = []
    for revision in json.loads(result.stdout or "{}").values():
        for path, entry in sorted(revision.get("data", {}).items()):
            for key, value in flatten(entry.get("data", {})):
                rows.append([markdown.text(path), markdown.text(key), _dvc_value(value)])
    return markdown.table(["Path", "Metric", "Value"], rows, limit=None)


def flatten(data: dict, prefix: str = ""):
    for key, value in sorted(data.items()):
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _f(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def _change(old: float, new: float) -> list:
    return [f"{old:.4f}", f"{new:.4f}", f"{new - old:+.4f}"]


def _support(figures: dict | None) -> str:
    support = (figures or {}).get("support")
    return "-" if support is None else str(support)


@dataclass
class Context:
    """What every section needs: both revisions' evaluations, the baseline's name for
    headings (as a code span), and how many rows a table may show (None: all)."""

    base: compare.Evaluation
    now: compare.Evaluation
    name: str
    limit: int | None = markdown.MAX_ROWS

    def table(self, header: list[str], rows: list[list]) -> str:
        return markdown.table(header, rows, self.limit)

    def bullets(self, items: list[str]) -> str:
        return markdown.bullets(items, None if self.limit is None else self.limit * 2)


def intents_section(c: Context) -> list[str]:
    before, now = compare.intent_scores(c.base), compare.intent_scores(c.now)
    fell = compare.scores_that_fell(compare.f1_scores(before), compare.f1_scores(now))
    blocks = ["## Intents that got worse"]
    if fell:
        rows = [
            [markdown.code(intent), *_change(was, new), _support(now.get(intent))]
            for intent, was, new in fell
        ]
        header = ["intent", f"F1 at {c.name}", "F1 now", "change", "held-out examples"]
        blocks.append(c.table(header, rows))
    else:
        blocks.append(f"No intent's F1 fell below its value at {c.name}.")
    better, worse = compare.changed_predictions(c.base.predictions, c.now.predictions)
    if c.base.predictions is not None and (better or worse):
        blocks.append("### Held-out examples whose prediction changed")
        for title, changes in [("Now wrong", worse), ("Now right", better)]:
            if changes:
                rows = [
                    [markdown.code(x) for x in (ch.text, ch.actual, ch.before, ch.now)]
                    for ch in changes
                ]
                header = ["example", "intent", f"predicted at {c.name}", "predicted now"]
                blocks += [f"{title} ({len(changes)}):", c.table(header, rows)]
    return blocks


def _examples(predictions: list | None, intent: str) -> list[list[str]]:
    return [
        [markdown.code(row.get("text", "")), markdown.code(row["predicted"])]
        for row in predictions or []
        if row.get("actual") == intent
    ]


def new_and_removed_section(c: Context, results: Path = paths.RESULTS) -> list[str]:
    """Intents, entities and responses that are in one revision's evaluation only."""
    blocks = []
    before, now = compare.intent_scores(c.base), compare.intent_scores(c.now)
    for title, names, scores, predictions in [
        ("New intent", sorted(set(now) - set(before)), now, c.now.predictions),
        ("Removed intent", sorted(set(before) - set(now)), before, c.base.predictions),
    ]:
        for name in names:
            figures = scores[name]
            line = f"**{title} {markdown.code(name)}**: F1 {_f(figures.get('f1'))}"
            if figures.get("support") is not None:
                line += f", {figures['support']} held-out examples"
            blocks.append(line + ".")
            rows = _examples(predictions, name)
            if rows:
                blocks.append(c.table(["held-out example", "predicted as"], rows))
    labels = []
    for kind, base_scores, now_scores in [
        *_entities_in_both(c.base, c.now),
        ("response", compare.response_scores(c.base), compare.response_scores(c.now)),
    ]:
        for status, names, scores in [
            ("new", set(now_scores) - set(base_scores), now_scores),
            ("removed", set(base_scores) - set(now_scores), base_scores),
        ]:
            for name in sorted(names):
                figures = scores[name]
                labels.append(
                    [kind, markdown.code(name), status, _f(figures.get("f1")), _support(figures)]
                )
    if labels:
        header = ["kind", "name", "status", "F1", "held-out examples"]
        blocks.append(c.table(header, labels))
        examples = new_label_examples(c, results)
        if examples:
            blocks.append("Held-out examples of the new entities and responses:")
            blocks.append(c.table(["label", "held-out example", "predicted"], examples))
    return ["## New and removed intents, entities and responses", *blocks] if blocks else []


def new_label_examples(c: Context, results: Path = paths.RESULTS) -> list[list[str]]:
    """The held-out examples of entities and responses new in this change, with what was
    predicted, from this change's `rasa test` output (results/ is not committed, so the
    baseline's, and a removed label's examples, are not at hand)."""
    read = functools.cache(lambda name: _json_list(results / name))
    before, after = compare.entity_scores(c.base), compare.entity_scores(c.now)
    rows = []
    for extractor in sorted(set(before) & set(after)):
        for entity in sorted(set(after[extractor]) - set(before[extractor])):
            for example in read(f"{extractor}_successes.json") + read(f"{extractor}_errors.json"):
                if not any(e.get("entity") == entity for e in example.get("entities") or []):
                    continue
                predicted = [
                    f"{p.get('value')} ({p.get('entity')})"
                    for p in example.get("predicted_entities") or []
                    if p.get("extractor", extractor) == extractor
                ]
                label = markdown.code(f"{entity} ({extractor})")
                shown = ", ".join(map(markdown.code, predicted)) or "nothing"
                rows.append([label, markdown.code(example.get("text", "")), shown])
    old_keys = set(compare.response_scores(c.base))
    for key in sorted(set(compare.response_scores(c.now)) - old_keys):
        for example in read("response_selection_successes.json") + read(
            "response_selection_errors.json"
        ):
            if example.get("intent_response_key_target") == key:
                predicted = (example.get("intent_response_key_prediction") or {}).get("name")
                text = markdown.code(example.get("text", ""))
                rows.append([markdown.code(key), text, markdown.code(predicted or "None")])
    return rows


def _json_list(path: Path) -> list:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return []
    return data if isinstance(data, list) else []


def _entities_in_both(base: compare.Evaluation, now: compare.Evaluation) -> list[tuple]:
    """("entity", {"entity (extractor)": figures} at base, now) over the extractors both
    revisions evaluated: an extractor that predicted nothing has no report at all, which
    the entities section says, rather than listing all its entities as removed."""
    before, after = compare.entity_scores(base), compare.entity_scores(now)
    both = sorted(set(before) & set(after))

    def flat(scores: dict) -> dict:
        return {f"{e} ({x})": figures for x in both for e, figures in scores[x].items()}

    return [("entity", flat(before), flat(after))] if both else []


def entities_section(c: Context) -> list[str]:
    base, now = c.base, c.now
    if not now.entities and not base.entities:
        return []
    blocks = ["## Entities"]
    if not now.entities:
        return blocks + [f"No entity was evaluated now, although {c.name} evaluated some."]
    labels_now = compare.entity_scores(now)
    rows = []
    for extractor, metrics in sorted(now.entities.items()):
        before = (base.entities or {}).get(extractor, {}).get("weighted_f1")
        rows.append(
            [
                markdown.code(extractor),
                _f(before),
                f"{metrics['weighted_f1']:.4f}",
                f"{metrics['precision']:.4f}",
                f"{metrics['recall']:.4f}",
                len(labels_now.get(extractor) or metrics.get("entity_f1") or {}),
            ]
        )
    for extractor in sorted(set(base.entities or {}) - set(now.entities)):
        was = f"{base.entities[extractor]['weighted_f1']:.4f}"
        rows.append([markdown.code(extractor), was, "no entity predicted", "-", "-", 0])
    header = ["extractor", f"F1 at {c.name}", "F1 now", "precision", "recall", "entities"]
    blocks.append(c.table(header, rows))
    labels_before = compare.entity_scores(base)
    fell = []
    for extractor, entities in sorted(labels_now.items()):
        was = compare.f1_scores(labels_before.get(extractor) or {})
        for name, old, new in compare.scores_that_fell(was, compare.f1_scores(entities)):
            fell.append(
                [
                    markdown.code(name),
                    markdown.code(extractor),
                    *_change(old, new),
                    _support(entities.get(name)),
                ]
            )
    if fell:
        header = ["entity", "extractor", f"F1 at {c.name}", "F1 now", "change"]
        blocks += ["Entities that got worse:", c.table(header + ["held-out examples"], fell)]
    elif base.entities:
        blocks.append(f"No entity's F1 fell below its value at {c.name}.")
    return blocks


def responses_section(c: Context) -> list[str]:
    current = c.now.responses
    if not current:
        return []
    blocks = ["## Response selection (retrieval intents)"]
    scores, before = compare.response_scores(c.now), compare.response_scores(c.base)
    line = f"Accuracy {current['accuracy']:.4f}, weighted F1 {current['weighted_f1']:.4f}"
    if c.base.responses:
        base = c.base.responses
        line += f" (at {c.name}: {base['accuracy']:.4f}, {base['weighted_f1']:.4f})"
    blocks.append(line + f" over {len(scores)} responses.")
    was = compare.f1_scores(before)
    rows = []
    # worst change first, then the lowest F1: what a reviewer looks at
    for key in sorted(scores, key=lambda k: (scores[k]["f1"] - was.get(k, scores[k]["f1"]), k)):
        figures = scores[key]
        change = "-" if key not in was else f"{figures['f1'] - was[key]:+.4f}"
        rows.append(
            [markdown.code(key), _f(was.get(key)), _f(figures["f1"]), change, _support(figures)]
        )
    header = ["response", f"F1 at {c.name}", "F1 now", "change", "held-out examples"]
    blocks.append(c.table(header, rows))
    return blocks


def stories_section(c: Context) -> list[str]:
    core = c.now.core or {}
    blocks = ["## Test stories"]
    if core:
        blocks.append(
            f"{core['conversations_correct']} of {core['conversations_total']} test stories "
            f"passed (conversation accuracy {core['conversation_accuracy']:.4f})."
        )
    statuses = compare.story_status(c.now.failed_stories, c.base.failed_stories)
    if statuses:
        at_base = {"passed": "passed", "failed": "failed too", "unknown": "-"}
        rows = []
        for story, status in statuses:
            wrong = story.get("first_wrong") or {}
            turn = "-"
            if wrong:
                turn = (
                    f"{markdown.text(wrong['kind'])} {markdown.code(wrong['expected'])}, "
                    f"predicted {markdown.code(wrong['predicted'])}"
                )
            rows.append([markdown.text(story["story"]), turn, at_base[status]])
        blocks.append(c.table(["failed story", "first wrong turn", f"at {c.name}"], rows))
    return blocks


def coverage_section(c: Context, stories: str | None) -> list[str]:
    """Intents and actions of the domain that no test story uses."""
    if stories is None:
        return []
    known, used = bot_data.domain(), bot_data.story_steps(stories)
    blocks = []
    for kind in ("intents", "actions"):
        missing = sorted(known[kind] - used[kind])
        if missing:
            shown = missing if c.limit is None else missing[: c.limit * 2]
            line = f"{kind.capitalize()} ({len(missing)}): " + ", ".join(map(markdown.code, shown))
            if len(shown) < len(missing):
                line += " " + markdown.left_out(len(missing) - len(shown), kind)
            blocks.append(line)
    if not blocks:
        return []
    return [f"## Not covered by the test stories ({markdown.code(stories)})", *blocks]


def data_section(c: Context, base_commit: str | None, sources: list[Path]) -> list[str]:
    """Examples per intent added or removed in the NLU files under `sources` (data/ and a
    hand-written test set), and the split's sizes."""
    now = bot_data.workspace_examples(sources)
    before = bot_data.committed_examples(base_commit, sources) if base_commit else None
    blocks = []
    sizes = bot_data.split_sizes()
    held_out = sum((f.get("support") or 0) for f in compare.intent_scores(c.now).values())
    held_before = sum((f.get("support") or 0) for f in compare.intent_scores(c.base).values())
    parts = []
    if "train" in sizes:
        parts.append(f"{sizes['train']} training examples")
    if "test" in sizes:
        test = f"{sizes['test']} held-out examples"
        if held_before:
            test += f" ({held_before} at {c.name})"
        parts.append(test)
    elif held_out:
        parts.append(f"{held_out} held-out examples")
    if parts:
        blocks.append("NLU split: " + ", ".join(parts) + ".")
    if before is not None and (before or now):
        rows = []
        for intent in sorted(set(now) | set(before)):
            if now[intent] != before[intent]:
                delta = now[intent] - before[intent]
                rows.append([markdown.code(intent), before[intent], now[intent], f"{delta:+d}"])
        where = " and ".join(markdown.code(s.as_posix() + "/" * s.is_dir()) for s in sources)
        total = f"{where}: {sum(before.values())} examples at {c.name}, {sum(now.values())} now"
        if rows:
            blocks.append(f"Examples per intent that changed ({total}):")
            blocks.append(c.table(["intent", f"at {c.name}", "now", "change"], rows))
        else:
            blocks.append(f"No intent's examples changed ({total}).")
    return ["## Data", *blocks] if blocks else []


def parameters_section(c: Context, dvc: str, baseline: str) -> list[str]:
    blocks = ["## Parameters"]
    params_diff = dvc_diff(dvc, "params", baseline, c.limit)
    config = config_diff(c.base.config, c.now.config, c.limit)
    if params_diff:
        blocks.append(params_diff)
    if config:
        blocks += ["The trained configuration (`models/config.yml`) changed:", config]
    if not params_diff and not config:
        blocks.append(f"No parameter and no part of the configuration changed since {c.name}.")
    return blocks


def config_diff(before: str | None, now: str | None, limit: int | None) -> str:
    """A unified diff of models/config.yml in a fenced block ('' when equal or unknown)."""
    if before is None or now is None or before == now:
        return ""
    lines = list(
        difflib.unified_diff(
            before.splitlines(), now.splitlines(), "baseline", "this change", lineterm=""
        )
    )
    cap = None if limit is None else limit * 4
    shown = lines if cap is None else lines[:cap]
    block = markdown.fenced("\n".join(shown), "diff")
    if len(lines) > len(shown):
        block += "\n\n" + markdown.left_out(len(lines) - len(shown), "lines")
    return block


def validation_section(c: Context) -> list[str]:
    blocks = ["## Data validation"]
    now, base = c.now.validation, c.base.validation
    if now is None:
        return blocks + ["`evaluation/validation.json` is missing: run `make repro`."]
    escape = lambda warnings: [markdown.text(w) for w in warnings]  # noqa: E731
    if base is None:
        warnings = now.get("warnings") or []
        if not warnings:
            return blocks + ["No validation warnings."]
        return blocks + [f"{len(warnings)} validation warnings:\n\n" + c.bullets(escape(warnings))]
    new, known = compare.new_warnings(now, base)
    if not new and not known:
        return blocks + ["No validation warnings."]
    if new:
        blocks.append(f"**{len(new)} new** since {c.name}:\n\n" + c.bullets(escape(new)))
    else:
        blocks.append(f"No new warning since {c.name}.")
    if known:
        blocks.append(
            f"<details><summary>{len(known)} already there at {c.name}</summary>\n\n"
            + c.bullets(escape(known))
            + "\n\n</details>"
        )
    return blocks


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
    c = Context(base, now, name, limit)

    blocks = [f"# Model report: {title} vs {label}", *notes]
    blocks.append("## Metrics")
    if has_baseline:
        blocks.append(dvc_diff(dvc, "metrics", baseline, limit) or "No metric changed.")
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
    # an indented code block shows each line as written, if it stays one line
    lines = "\n".join("    " + r.line.replace("\n", " ") for r in results)
    blocks += ["## Quality gate", lines, f"**{markdown.text(verdict)}**"]
    blocks += list(trend)

    if has_baseline:
        blocks += intents_section(c)
        blocks += new_and_removed_section(c)
    blocks += entities_section(c)
    blocks += responses_section(c)
    blocks += stories_section(c)
    blocks += coverage_section(c, stories)
    blocks += data_section(c, commit if has_baseline else None, list(nlu_sources))
    if has_baseline:
        blocks += parameters_section(c, dvc, baseline)
    blocks += validation_section(c)
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
