"""The report's sections, each from both revisions' evaluations (compare.Evaluation) and, for
what the evaluation does not hold, the bot's own files (pipeline/bot_data.py). A section about
something the bot does not have (entities, retrieval intents, new labels, ...) is []; every
name and text from the bot's data goes through pipeline/markdown.py, and every table shows at
most Context.limit rows (None: all)."""

import difflib
import functools
import json
from dataclasses import dataclass
from pathlib import Path

from pipeline import bot_data, compare, dvc_tables, markdown, paths


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
    params_diff = dvc_tables.dvc_diff(dvc, "params", baseline, c.limit)
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
