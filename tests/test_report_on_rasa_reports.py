"""The bot's report sections (pipeline/report.py, markdown.py) on what real `rasa test` runs
wrote, and on a generated big bot: what a reviewer reads, that it fits GitHub's limits, and
that names and texts from the bot's data show as written and do nothing else in Markdown.

tests/data/rasa-reports/helpdesk (now) against helpdesk-weak (the baseline): entities, a
retrieval intent, failing stories; default: no entities, no retrieval intent. The per-label
files follow the metrics contract (evaluation/intents.json, entities.json, responses.json),
written here from Rasa's reports. Rendering uses markdown-it-py (CommonMark + GFM tables, raw
HTML on, as GitHub parses it before sanitising).
"""

import html as htmllib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from support import TEMPLATE, template_modules

REPORTS = TEMPLATE / "tests/data/rasa-reports"
check_lock, compare, dvc_tables, markdown, metrics, report, report_sections = template_modules(
    "check_lock", "compare", "dvc_tables", "markdown", "metrics", "report", "report_sections"
)

AVERAGES = {"accuracy", "macro avg", "weighted avg", "micro avg"}
GITHUB = MarkdownIt("commonmark", {"html": True}).enable("table")


def per_label(rasa_report: dict) -> dict:
    """The contract's per-label figures from one Rasa report."""
    return {
        name: {
            "f1": round(v["f1-score"], 4),
            "precision": round(v["precision"], 4),
            "recall": round(v["recall"], 4),
            "support": v["support"],
        }
        for name, v in sorted(rasa_report.items())
        if name not in AVERAGES and isinstance(v, dict)
    }


def evaluation(tmp_path, bot: str) -> compare.Evaluation:
    """What the test stage leaves for a bot's Rasa reports, read as the report reads it."""
    root = tmp_path / bot
    results = root / "results"
    shutil.copytree(REPORTS / bot, results)
    metrics.write_all(results, root=root)
    write_labels(root, results)
    files = {key: root / path for key, path in compare.FILES.items()}
    return compare.Evaluation(
        **{
            key: compare._parse(str(p), p.read_text() if p.exists() else None)
            for key, p in files.items()
        }
    )


def write_labels(root, results) -> None:
    labels = root / "evaluation"
    labels.mkdir(exist_ok=True)
    intents = per_label(json.loads((results / "intent_report.json").read_text()))
    (labels / "intents.json").write_text(json.dumps(intents))
    entities = {}
    for path in sorted(results.glob("*_report.json")):
        extractor = path.name[: -len("_report.json")]
        if extractor not in metrics.NOT_ENTITY_REPORTS:
            found = per_label(json.loads(path.read_text()))
            if found:
                entities[extractor] = found
    if entities:
        (labels / "entities.json").write_text(json.dumps(entities))
    responses = results / "response_selection_report.json"
    if responses.exists():
        (labels / "responses.json").write_text(
            json.dumps(per_label(json.loads(responses.read_text())))
        )


def context(base, now, limit=markdown.MAX_ROWS) -> report_sections.Context:
    return report_sections.Context(base, now, "`main`", limit)


def rows_of(table: str) -> list[list[str]]:
    """A Markdown table's body as GitHub splits it, cell texts rendered."""
    html = GITHUB.render(table)
    return [
        [_plain(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)[1:]
    ]


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports")
    return evaluation(tmp, "helpdesk-weak"), evaluation(tmp, "helpdesk")


def test_intents_that_got_worse_show_their_held_out_examples(helpdesk):
    base, now = helpdesk
    # the weak model is the baseline here: swap to make intents fall
    blocks = report_sections.intents_section(context(now, base))
    intents = json.loads((REPORTS / "helpdesk-weak/intent_report.json").read_text())
    table = next(b for b in blocks if b.startswith("| intent"))
    assert "held-out examples" in table.splitlines()[0]
    for intent, was, new, _change, support in rows_of(table):
        assert int(support) == intents[intent.strip("`")]["support"]
        assert float(new) < float(was)


def test_new_and_removed_intents_with_their_examples_and_predictions(helpdesk):
    base, now = helpdesk
    base.intents = {k: v for k, v in now.intents.items() if k != "request_human"}

    blocks = report_sections.new_and_removed_section(context(base, now))

    assert blocks[0] == "## New and removed intents, entities and responses"
    support = now.intents["request_human"]["support"]
    assert blocks[1].startswith("**New intent `request_human`**: F1 ")
    assert f"{support} held-out examples." in blocks[1]
    examples = [r for r in now.predictions if r["actual"] == "request_human"]
    assert (
        rows_of(blocks[2]) == [[r["text"], r["predicted"]] for r in examples][: markdown.MAX_ROWS]
    )


def test_a_response_removed_and_an_entity_added_are_listed(helpdesk):
    base, now = helpdesk
    dropped = sorted(now.response_labels)[0]
    now_responses = {k: v for k, v in now.response_labels.items() if k != dropped}
    base_entities = json.loads(json.dumps(now.entity_labels))
    del base_entities["RegexEntityExtractor"]["product"]
    base = compare.Evaluation(
        **{**vars(base), "entity_labels": base_entities, "intents": now.intents}
    )
    now = compare.Evaluation(**{**vars(now), "response_labels": {**now_responses}})
    base.response_labels = now.response_labels | {dropped: {"f1": 1.0, "support": 3}}

    blocks = report_sections.new_and_removed_section(context(base, now), REPORTS / "helpdesk")

    table = next(b for b in blocks if b.startswith("| kind"))
    assert ["entity", "product (RegexEntityExtractor)", "new"] in [r[:3] for r in rows_of(table)]
    assert ["response", dropped, "removed", "1.0000", "3"] in rows_of(table)
    # the new entity's held-out examples, with what RegexEntityExtractor found in each
    examples = rows_of(blocks[-1])
    rasa = json.loads((REPORTS / "helpdesk/RegexEntityExtractor_successes.json").read_text())
    rasa += json.loads((REPORTS / "helpdesk/RegexEntityExtractor_errors.json").read_text())
    texts = [x["text"] for x in rasa if any(e["entity"] == "product" for e in x["entities"])]
    assert [r[1] for r in examples] == texts[: markdown.MAX_ROWS] and texts
    assert all(r[0] == "product (RegexEntityExtractor)" for r in examples)


def test_response_selection_table_has_every_response_with_its_support(helpdesk):
    base, now = helpdesk
    blocks = report_sections.responses_section(context(base, now))
    rasa = json.loads((REPORTS / "helpdesk/response_selection_report.json").read_text())
    rows = {r[0]: r for r in rows_of(blocks[-1])}
    keys = {k for k in rasa if k not in AVERAGES}
    assert set(rows) == keys
    for key in keys:
        assert rows[key][2] == f"{rasa[key]['f1-score']:.4f}"
        assert rows[key][4] == str(rasa[key]["support"])


def test_a_bot_without_entities_or_retrieval_intents_gets_no_empty_sections(tmp_path):
    base, now = evaluation(tmp_path / "a", "default"), evaluation(tmp_path / "b", "default")
    c = context(base, now)
    assert not (tmp_path / "b/default/evaluation/entities.json").exists()
    assert report_sections.entities_section(c) == []
    assert report_sections.responses_section(c) == []
    assert report_sections.new_and_removed_section(c) == []
    assert report_sections.config_diff(None, "x: 1\n", 15) == ""
    assert report_sections.config_diff("x: 1\n", "x: 1\n", 15) == ""


def test_the_config_diff_shows_an_edit_to_config_yml():
    diff = report_sections.config_diff(
        "pipeline:\n- name: DIETClassifier\n  epochs: 100\n",
        "pipeline:\n- name: DIETClassifier\n  epochs: 5\n",
        15,
    )
    assert diff.startswith("```diff\n") and "\n-  epochs: 100\n+  epochs: 5\n" in diff


# --- reports of any size -------------------------------------------------------------------


def big_bot(root, f1, predicted=None, intents=300, entities=60, responses=150):
    """Rasa-format report files of a big bot (names long as real ones), no training."""
    results = root / "results"
    results.mkdir(parents=True)

    def rasa_report(names):
        body = {n: {"precision": f1, "recall": f1, "f1-score": f1, "support": 9} for n in names}
        average = {"precision": f1, "recall": f1, "f1-score": f1, "support": 9 * len(names)}
        return {**body, "accuracy": 0.7, "macro avg": average, "weighted avg": average}

    intent_names = [f"ask_about_product_category_{i:03d}_details" for i in range(intents)]
    (results / "intent_report.json").write_text(json.dumps(rasa_report(intent_names)))
    predictions = [
        {
            "text": f"tell me more about category {i} please",
            "intent": n,
            "intent_prediction": {"name": predicted or n},
        }
        for i, n in enumerate(intent_names)
    ]
    (results / "intent_errors.json").write_text(json.dumps(predictions))
    entity_names = [f"product_attribute_{i:02d}" for i in range(entities)]
    (results / "DIETClassifier_report.json").write_text(json.dumps(rasa_report(entity_names)))
    response_names = [f"faq/ask_question_number_{i:03d}" for i in range(responses)]
    (results / "response_selection_report.json").write_text(json.dumps(rasa_report(response_names)))
    story = {"conversation_accuracy": {"accuracy": 0.5, "correct": 1, "total": 2}}
    story.update(rasa_report(["action_listen"]))
    (results / "story_report.json").write_text(json.dumps(story))
    metrics.write_all(results, root=root)
    write_labels(root, results)


def test_a_big_bot_s_report_fits_a_comment_and_the_full_one_keeps_every_row(tmp_path, monkeypatch):
    big_bot(tmp_path / "base", 0.9)
    big_bot(tmp_path / "now", 0.75, predicted="greet")  # every label worse, every example wrong
    base, now = evaluation_at(tmp_path / "base"), evaluation_at(tmp_path / "now")
    # DVC's own diff JSON for a params.yaml that sets one value per intent (big, and passed
    # through uncapped before)
    params = {f"train.intent_{i:03d}_threshold": {"old": 0.1, "new": 0.2} for i in range(400)}
    monkeypatch.setattr(
        dvc_tables,
        "_dvc_json",
        lambda dvc, kind, baseline: {"params.yaml": params} if kind == "params" else {},
    )
    gate = ([], "Quality gate passed.")
    monkeypatch.chdir(tmp_path / "now")

    capped, full = (
        "\n\n".join(
            b or ""
            for b in report.build("dvc", "main", [], Fake(base), Fake(now), gate, limit=limit)
        )
        for limit in (markdown.MAX_ROWS, None)
    )
    comment = report.fit(capped)

    assert len(comment) < markdown.COMMENT_LIMIT - report.COMMENT_ROOM
    assert len(comment.encode()) < markdown.SUMMARY_LIMIT
    assert "more rows left out here: the full report is `report/full.md`" in comment
    assert comment.count("| train.intent_") == markdown.MAX_ROWS
    assert full.count("| train.intent_") == 400
    # each table capped: intents show in 3 (got worse, examples' intent and prediction)
    assert comment.count("| `ask_about_product_category_") == 3 * markdown.MAX_ROWS
    for name in ("product_attribute_", "faq/ask_question_"):
        assert comment.count(f"| `{name}") == markdown.MAX_ROWS, name
    assert full.count("| `ask_about_product_category_") == 3 * 300
    assert full.count("| `product_attribute_") == 60
    assert full.count("| `faq/ask_question_number_") == 150
    assert full.count("| `tell me more about category") == 300  # examples now wrong


def test_a_report_too_long_even_capped_is_cut_at_a_section_with_a_note():
    blocks = ["# Model report", *[f"## Section {i}\n\n" + "x" * 5_000 for i in range(40)]]
    cut = report.fit("\n\n".join(blocks))
    assert len(cut) <= markdown.COMMENT_LIMIT - report.COMMENT_ROOM
    assert cut.endswith("in the run's `model-report` artifact._\n")
    assert "\n## Section 11\n" in cut and "\n## Section 12" not in cut


def test_a_normal_bot_s_report_is_not_capped(helpdesk):
    """The helpdesk bot's tables fit: only its 20 changed predictions are cut, at the 15 rows
    the report always showed."""
    base, now = helpdesk
    for section in (
        report_sections.responses_section,
        report_sections.entities_section,
        report_sections.stories_section,
    ):
        assert section(context(base, now)) == section(context(base, now, limit=None))
    capped, full = (
        report_sections.intents_section(context(base, now, limit)) for limit in (15, None)
    )
    assert capped[:-1] == full[:-1]
    assert capped[-1].count("\n| `") == 15 and full[-1].count("\n| `") == 20


class Fake:
    """A revision whose files are already parsed."""

    def __init__(self, evaluation):
        self.evaluation, self.commit = evaluation, None


def evaluation_at(root) -> compare.Evaluation:
    files = {key: root / path for key, path in compare.FILES.items()}
    return compare.Evaluation(
        **{
            key: compare._parse(str(p), p.read_text() if p.exists() else None)
            for key, p in files.items()
        }
    )


# --- escaping: one test per class of PR- or data-controlled text (issue 20 class 2) ---------

HOSTILE = {
    "pipe": "a | b | c",
    "backticks": "say ``` `hi` ```",
    "html": '<img src=x onerror="alert(1)">',
    "mention": "ping @octocat and @org/team",
    "image": "![secret](../../.dvc/config)",
    "link": "[click](report/../.dvc/tmp/creds)",
    "autolink": "<file:///etc/passwd>",
    "heading": "# Heading",
    "list": "- item",
    "ordered": "1. first",
    "math": "$x^2$",
    "emphasis": "**bold** _it_ ~~gone~~",
    "underscores": "_it_ __init__ snake_case a__b__c",
    "entity": "&lt;script&gt;",
    "newline": "line one\n\n## injected heading",
}


def render(markdown_text: str) -> str:
    return GITHUB.render(markdown_text)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_text_in_a_table_cell_shows_as_written_and_does_nothing_else(name):
    value = HOSTILE[name]
    table = markdown.table(["name", "value"], [[markdown.code(value), markdown.text(value)]])
    html = render(table)
    shown = [[cell.replace("@\u200b", "@") for cell in row] for row in rows_of(table)]
    assert shown == [[" ".join(value.split())] * 2]
    assert "<img" not in html and "<a " not in html and "<h" not in html.replace("<th>", "")
    assert (
        "<em>" not in html and "<strong>" not in html and "<del>" not in html and "<li>" not in html
    )
    assert "@octocat" not in _plain(re.sub(r"<code>.*?</code>", "", html))  # none outside code


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_text_in_a_list_item_and_a_heading_shows_as_written(name):
    value = HOSTILE[name]
    for source in (f"- {markdown.text(value)}", f"## {markdown.text(value)}", markdown.text(value)):
        html = render(source)
        assert "<img" not in html and "<a " not in html and "<em>" not in html
        assert html.count("<li>") <= 1 and html.count("<h") <= 1 and "<ol" not in html
        assert _plain(html).strip().replace("@\u200b", "@") == " ".join(value.split())


def test_a_code_span_holds_any_backticks():
    for value in ["`", "``", "a`b", "``x``", "` lead", "trail`", "<b>|</b>"]:
        html = render(markdown.code(value))
        assert _plain(re.fullmatch(r"<p><code>(.*)</code></p>\n", html, re.S)[1]) == value


def test_validation_warnings_and_story_names_are_escaped_in_the_report(helpdesk):
    base, now = helpdesk
    hostile = HOSTILE["image"] + " " + HOSTILE["html"] + " " + HOSTILE["mention"]
    now = compare.Evaluation(**{**vars(now), "validation": {"warnings": [hostile]}})
    now.failed_stories = [{"story": HOSTILE["link"], "file": "t.yml", "first_wrong": None}]
    blocks = report_sections.validation_section(
        context(base, now)
    ) + report_sections.stories_section(context(base, now))
    html = render("\n\n".join(blocks))
    assert "<img" not in html and "<a " not in html and "@octocat" not in _plain(html)


def _plain(html: str) -> str:
    """The text a reader sees (tags dropped, entities decoded)."""
    return htmllib.unescape(re.sub(r"<[^>]+>", "", html))


def test_check_lock_notes_escape_file_and_stage_names():
    changes = [{"changed deps": {"data/<img src=x>@octocat.yml": "modified"}}]
    note = check_lock.markdown(check_lock.stage_problems("train", changes, set(), set()))
    html = render(note)
    assert "<img" not in html and "@octocat" not in _plain(re.sub(r"<code>.*?</code>", "", html))
    assert "<code>data/&lt;img src=x&gt;@octocat.yml</code>" in html


# --- what the bot's own files say: coverage by test stories, data changes ------------------


def test_intents_and_actions_no_test_story_covers_are_named(helpdesk, tmp_path, monkeypatch):
    bot = tmp_path / "helpdesk"
    shutil.copytree(TEMPLATE / "tests/bots/helpdesk", bot)
    monkeypatch.chdir(bot)
    stories = (bot / "tests/test_stories.yml").read_text()
    (bot / "tests/test_stories.yml").write_text(stories.replace("intent: thank", "intent: greet"))

    blocks = report_sections.coverage_section(context(*helpdesk), "tests")

    assert blocks[0] == "## Not covered by the test stories (`tests`)"
    intents = next(b for b in blocks if b.startswith("Intents ("))
    assert "`thank`" in intents and "`greet`" not in intents
    actions = next(b for b in blocks if b.startswith("Actions ("))
    assert "`utter_greet`" not in actions


def test_the_data_section_counts_examples_added_and_removed_per_intent(
    helpdesk, tmp_path, monkeypatch
):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    shutil.copytree(TEMPLATE / "tests/bots/helpdesk/data", tmp_path / "data")
    git("init", "--quiet")
    git("add", "--all")
    git("commit", "--quiet", "-m", "baseline")
    nlu = tmp_path / "data/nlu/general.yml"
    greet = "  - intent: greet\n    examples: |\n"
    assert greet in nlu.read_text()
    nlu.write_text(nlu.read_text().replace(greet, greet + "      - howdy\n      - hiya\n"))
    new = "nlu:\n- intent: thank_you_new\n  examples: |\n    - cheers\n"
    (tmp_path / "data/nlu/new.yml").write_text(new)
    monkeypatch.chdir(tmp_path)

    blocks = report_sections.data_section(context(*helpdesk), "HEAD", [Path("data")])

    assert blocks[0] == "## Data" and blocks[-2].startswith("Examples per intent that changed")
    rows = rows_of(blocks[-1])
    assert [r for r in rows if r[0] == "greet"][0][3] == "+2"
    assert ["thank_you_new", "0", "1", "+1"] in rows
    assert len(rows) == 2
