"""Answers written by an attacker (or a careless script): each one either bakes into files that all
parse, with the text landed as data, or is refused with one clear line and nothing left on disk.

Answers go through the real command line (`cookiecutter --no-input key=value`), the way CI
scripts and `--config-file` pass them.
"""

import ast
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from support import DEFAULTS, git, parse, project_files
from support.cli import canaries, cli_answers, cookiecutter, first_error, tree

# (id, answers, slug of the baked project)
LANDS_AS_DATA = [
    (
        "non-ascii",
        {"project_name": "Café Bøt", "author_name": "Zoë Łukasiewicz-Ørsted"},
        "cafe-bot",
    ),
    (
        "quotes-colons-hash",
        {
            "project_name": "O'Brien's \"Quote\": #1 bot",
            "description": 'Answers "FAQ": prices, hours & more # not a comment',
            "author_name": 'D\'Arcy "DJ" Smith: #team',
        },
        "o-brien-s-quote-1-bot",
    ),
    (
        "shell-syntax-as-data",
        {
            "project_name": "Bot; rm -rf ~ && echo pwned | sh",
            "description": "'; DROP TABLE bots; -- & || true",
            "author_name": "x'; touch /tmp/pwned; '",
        },
        "bot-rm-rf-echo-pwned-sh",
    ),
    (
        "yaml-and-markdown-syntax",
        {
            "project_name": "- [x] *bot*: {a: [1, 2]} & !tag |",
            "description": "--- key: value # [link](javascript:alert(1)) **b**",
        },
        "x-bot-a-1-2-tag",
    ),
    (
        "markdown-blocks-and-inlines",
        {
            "project_name": "Bot ~~old~~ _new_ #",
            "description": "1. first | col | &copy; ![img](x.png) [ref]: http://x",
        },
        "bot-old-new",
    ),
    ("markdown-rule", {"project_name": "Rule bot", "description": "***"}, "rule-bot"),
    ("markdown-list", {"project_name": "+ plus", "description": "- item & more"}, "plus"),
    ("scripts", {"project_name": "ボット 机器人 بوت", "project_slug": "multilingual-bot"}, None),
    # a slug is at most 64 characters: a long name needs its own slug
    (
        "longest-allowed",
        {"project_name": "N" * 80, "description": "d" * 300, "project_slug": "n"},
        None,
    ),
]

# CommonMark plus the GitHub extensions that add markup (tables, strikethrough).
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def rendered_blocks(text):
    """[(block, text a reader sees)] of a Markdown document: markup gone, escapes resolved."""
    tokens = MARKDOWN.parse(text)
    return [
        (
            opening.type,
            "".join(c.content for c in inline.children if c.type in ("text", "code_inline")),
        )
        for opening, inline in itertools.pairwise(tokens)
        if inline.type == "inline"
    ]


def parse_all(project):
    """Parse every YAML, TOML, JSON and Python file of the project (except .git and envs)."""
    parsed = [path for path in project_files(project) if parse(project / path) is not None]
    return len(parsed)


@pytest.mark.parametrize(
    ("answers", "slug"), [c[1:] for c in LANDS_AS_DATA], ids=[c[0] for c in LANDS_AS_DATA]
)
def test_hostile_text_lands_as_data(tmp_path, answers, slug):
    assert canaries(tmp_path) == []
    out = tmp_path / "out"
    result = cookiecutter(out, *cli_answers(answers))
    assert result.returncode == 0, result.stderr[-3000:]
    (project,) = out.iterdir()
    if slug:
        assert project.name == slug
    assert parse_all(project) > 10

    name = answers["project_name"]
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# ")
    blocks = rendered_blocks(readme)
    assert blocks[0] == ("heading_open", name)
    if "description" in answers:
        assert blocks[1] == ("paragraph_open", answers["description"])
    actions = ast.parse((project / "actions/actions.py").read_text(encoding="utf-8"))
    assert name in ast.get_docstring(actions)
    assert (project / "Makefile").read_text(encoding="utf-8").startswith(f"# {name}: ")
    if "author_name" in answers:
        assert answers["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")
    config = yaml.safe_load((project / "config.yml").read_text())
    assert config["assistant_id"] == project.name
    assert git(project, "log", "-1", "--format=%s") == f"Bake {name} from the rasa-dvc-cml template"
    assert git(project, "status", "--porcelain") == ""
    assert canaries(tmp_path) == []


def test_jinja_in_a_cli_answer_that_cannot_render_is_refused(tmp_path):
    """cookiecutter renders --no-input answers as templates; an unknown name stops it early."""
    out = tmp_path / "out"
    result = cookiecutter(out, "project_name={{ cookiecutter.nothing }}")
    assert result.returncode != 0
    assert "Unable to render variable 'project_name'" in result.stdout + result.stderr
    assert tree(tmp_path) == []


def test_refusal_never_deletes_an_existing_folder(tmp_path):
    """A refused re-bake over a user's folder (--overwrite-if-exists) leaves it untouched."""
    out = tmp_path / "out"
    mine = out / "rasa-assistant"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    result = cookiecutter(out, "--overwrite-if-exists", "author_email=nope")
    assert result.returncode != 0
    assert first_error(result).startswith("ERROR: author_email 'nope'")
    assert tree(out) == ["rasa-assistant", "rasa-assistant/notes.txt"]


def test_slug_with_parents_leaves_only_empty_folders_cookiecutter_made(tmp_path):
    """cookiecutter makes the project folder (with parents) before the hook runs; it deletes the
    folder on refusal. The empty parents stay: the hook cannot tell them from a user's."""
    out = tmp_path / "out"
    result = cookiecutter(out, "project_slug=a/b/c")
    assert first_error(result).startswith("ERROR: project_slug 'a/b/c'")
    assert tree(out) == ["a", "a/b"]
    assert not any(p.is_file() for p in out.rglob("*"))


def test_name_without_letters_says_to_set_the_slug(tmp_path):
    result = cookiecutter(tmp_path / "out", "project_name=***")
    assert "set project_slug" in first_error(result)
    assert "already exists" not in result.stdout + result.stderr


def replay_context(**changes):
    """A replay file's context: the template's defaults (each list's first choice), then changes."""
    return {"cookiecutter": DEFAULTS | changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"project_name": 5}, "project_name 5: expected text, got int"),
        ({"author_email": None}, "author_email null: expected text"),
        ({"license": ["MIT", "Apache-2.0"]}, 'license ["MIT", "Apache-2.0"]: expected text'),
        (
            {"_copy_without_render": ["*"]},
            '_copy_without_render ["*"]: expected the template\'s own',
        ),
        ({"_copy_without_render": []}, "_copy_without_render []: expected the template's own"),
    ],
    ids=["number", "null", "list", "copy-everything-raw", "render-the-locks"],
)
def test_replay_file_with_odd_values_is_refused(tmp_path, changes, message):
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps(replay_context(**changes)))
    out = tmp_path / "out"
    result = cookiecutter(out, "--replay-file", str(replay), no_input=False)
    assert result.returncode != 0
    assert first_error(result).startswith(f"ERROR: {message}")
    assert "Traceback" not in result.stderr
    assert tree(out) == []
    assert not re.search(r"\{\{|\{%", "".join(p.read_text() for p in out.rglob("*") if p.is_file()))


def test_replay_file_of_the_defaults_bakes(tmp_path):
    """The replay context above is a valid one: the refusals come from the changed values."""
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps(replay_context()))
    result = cookiecutter(tmp_path / "out", "--replay-file", str(replay), no_input=False)
    assert result.returncode == 0, result.stderr[-3000:]


YAML_WORDS = ["null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf"]


@pytest.mark.parametrize("slug", YAML_WORDS)
def test_slug_that_yaml_reads_as_another_type_stays_a_string(tmp_path, slug):
    """Every generated YAML file holds the slug as the string it is (assistant_id, image)."""
    out = tmp_path / "out"
    result = cookiecutter(out, f"project_slug={slug}")
    assert result.returncode == 0, result.stderr[-3000:]
    project = out / slug
    config = yaml.safe_load((project / "config.yml").read_text())
    assert config["assistant_id"] == slug
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())
    assert compose["x-bot"]["image"] == f"{slug}:latest"
    shipped = (project / "config.yml").read_text()
    assert yaml.safe_dump({"assistant_id": slug}) in shipped, "not quoted as YAML needs it"


# params.yaml values of the wrong type or pointing out of the project: each stage that reads one
# refuses it with one `ERROR:` line (exit 2) before Rasa is imported, never a traceback. The
# stages run in the template's Python, which has no Rasa: reaching Rasa is a failure here too.
OUTSIDE = "../outside-the-project"
HOSTILE_PARAMS = [
    # (id, stage, key path, value, expected in the message)
    ("fraction-text", "split", "split.test_fraction", "0.2", "split.test_fraction must be"),
    ("fraction-list", "split", "split.test_fraction", [0.2], "split.test_fraction must be"),
    ("fraction-nan", "split", "split.test_fraction", float("nan"), "split.test_fraction must be"),
    ("fraction-zero", "split", "split.test_fraction", 0, "> 0 and < 1"),
    ("seed-mapping", "split", "split.seed", {"a": 1}, "split.seed must be a whole number"),
    ("seed-bool", "split", "split.seed", True, "split.seed must be a whole number"),
    ("split-list", "split", "split", ["holdout"], "params.yaml split must be a mapping"),
    ("nlu-number", "split", "split.nlu_test_set", 5, "split.nlu_test_set must be"),
    ("nlu-dotdot", "split", "split.nlu_test_set", "tests/nlu/../../" + OUTSIDE, "leads outside"),
    ("nlu-absolute", "split", "split.nlu_test_set", "/etc", "must be relative"),
    ("nlu-link", "split", "split.nlu_test_set", "tests/nlu/link", "leads outside tests/nlu/"),
    ("epochs-text", "train", "train.DIETClassifier.epochs", "100", "epochs must be a whole"),
    ("epochs-list", "train", "train.TEDPolicy.epochs", [100], "TEDPolicy.epochs must be"),
    ("epochs-zero", "train", "train.TEDPolicy.epochs", 0, "TEDPolicy.epochs must be"),
    ("threshold-text", "train", "train.FallbackClassifier.threshold", "0.3", "threshold must"),
    ("threshold-inf", "train", "train.FallbackClassifier.threshold", float("inf"), "<= 1"),
    ("history-float", "train", "train.TEDPolicy.max_history", 2.5, "max_history must be"),
    ("seed-negative", "train", "train.DIETClassifier.random_seed", -1, "random_seed must be"),
    ("component-number", "train", "train.DIETClassifier", 5, "must map options to values"),
    ("train-list", "train", "train", [1], "params.yaml train must be a mapping"),
    ("warnings-text", "train", "validate.fail_on_warnings", "yes", "must be true or false"),
    ("stories-list", "evaluate", "test.stories", ["tests"], "test.stories must be"),
    ("stories-absolute", "evaluate", "test.stories", "/tmp", "must be relative"),
    ("stories-dotdot", "evaluate", "test.stories", OUTSIDE, "leads outside the project"),
    ("stories-root", "evaluate", "test.stories", ".", "leads outside the project"),
]


@pytest.fixture(scope="module")
def plain_bake(tmp_path_factory):
    """A default bake, not installed, with a folder beside it that test paths may point at."""
    out = tmp_path_factory.mktemp("params")
    result = cookiecutter(out / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    (project,) = (out / "out").iterdir()
    outside = project / OUTSIDE
    outside.mkdir()
    (outside / "nlu.yml").write_text('version: "3.1"\nnlu: []\n')
    (project / "tests/nlu").mkdir(parents=True, exist_ok=True)
    (project / "tests/nlu/link").symlink_to(outside)
    return project


def with_value(data, dotted, value):
    *parents, last = dotted.split(".")
    for part in parents:
        data = data[part]
    data[last] = value


@pytest.mark.parametrize(
    ("stage", "key", "value", "message"),
    [c[1:] for c in HOSTILE_PARAMS],
    ids=[c[0] for c in HOSTILE_PARAMS],
)
def test_hostile_params_are_one_error_line(plain_bake, tmp_path, stage, key, value, message):
    settings = yaml.safe_load((plain_bake / "params.yaml").read_text())
    if key.startswith("split.") and key != "split.nlu_test_set":
        settings["split"]["nlu_test_set"] = "holdout"
    with_value(settings, key, value)
    hostile = tmp_path / "params.yaml"
    hostile.write_text(yaml.safe_dump(settings))
    args = ["--validate-only"] if stage == "train" else []
    result = subprocess.run(
        [sys.executable, "-B", "-m", f"pipeline.{stage}", "--params", str(hostile), *args],
        cwd=plain_bake,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("ERROR: params.yaml "), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert message in result.stderr


# Values a branch name, CI or a user's command line gives make: each reaches the program as one
# argument, exactly as written, and no shell or make syntax in it runs.
HOSTILE_MAKE_VALUES = [
    "main;touch${IFS}pwned",
    "main$$(touch pwned)",
    "main`touch pwned`",
    "it's|touch pwned&",
    "$(shell touch pwned)",
    "a b\tc",
]
RECORDER = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
with open({log!r} + ".env", "a") as log:
    log.write(json.dumps(os.environ.get("GATE_LOCK_CHECK")) + "\\n")
"""


@pytest.mark.parametrize("value", HOSTILE_MAKE_VALUES)
@pytest.mark.parametrize("via", ["command-line", "environment"])
def test_make_passes_hostile_values_as_single_arguments(plain_bake, tmp_path, value, via):
    log = tmp_path / "argv.jsonl"
    recorder = tmp_path / "python"
    recorder.write_text(RECORDER.format(python=sys.executable, log=str(log)))
    recorder.chmod(0o755)
    names = ["BASELINE", "GATE_RESULT", "GATE_LOCK_CHECK", "REPORT_NOTES"]
    given = {name: f"{value}-{name}" for name in names}
    tools = [f"PYTHON={recorder}", f"RASA={recorder}", f"DVC={recorder}"]
    assignments = (
        [f"{name}={text}" for name, text in given.items()] if via == "command-line" else []
    )
    env = os.environ | (given if via == "environment" else {})
    for target in ("gate", "report", "check-lock", "metrics"):
        result = subprocess.run(
            ["make", "--no-print-directory", target, *tools, *assignments],
            cwd=plain_bake,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    gate, report, check_lock, metrics_diff, params_diff = calls
    assert gate == [
        "-m",
        "pipeline.gate",
        f"--baseline={given['BASELINE']}",
        f"--result={given['GATE_RESULT']}",
    ]
    assert f"--baseline={given['BASELINE']}" in report
    assert f"--notes-file={given['REPORT_NOTES']}" in report
    assert f"--gate-result={given['GATE_RESULT']}" in report
    assert f"--result={given['GATE_LOCK_CHECK']}" in check_lock
    assert f"--notes={given['REPORT_NOTES']}" in check_lock
    assert metrics_diff == ["metrics", "diff", "--", given["BASELINE"]]
    assert params_diff == ["params", "diff", "--", given["BASELINE"]]
    # the gate and the report's copy of it read the lock check's result from the environment
    seen = [json.loads(line) for line in Path(f"{log}.env").read_text().splitlines()]
    assert seen[:2] == [given["GATE_LOCK_CHECK"]] * 2
    assert not list(plain_bake.rglob("pwned")), "a value ran as a command"


def test_make_exp_passes_each_hostile_assignment_as_one_argument(plain_bake, tmp_path):
    log = tmp_path / "argv.jsonl"
    recorder = tmp_path / "dvc"
    recorder.write_text(RECORDER.format(python=sys.executable, log=str(log)))
    recorder.chmod(0o755)
    result = subprocess.run(
        [
            "make",
            "exp",
            f"RASA={recorder}",
            f"DVC={recorder}",
            "SET=a.b=1 c=$$(touch${IFS}pwned);'",
        ],
        cwd=plain_bake,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run_args = json.loads(log.read_text().splitlines()[0])
    assert run_args == ["exp", "run", "-S", "a.b=1", "-S", "c=$$(touch${IFS}pwned);'"]
    assert not list(plain_bake.rglob("pwned"))
