"""End-to-end: every figure the pipeline tracks equals what `rasa test` writes for the same model.

Three bots of different shapes: the default bake (`trained_bot`); the supportdesk bot as `make
adopt` brought it in (`supportdesk_bot`, shared with test_bring_your_own_bot.py: entities from two
extractors, a retrieval intent whose responses live in a data file, a form with a validation
action, custom actions, a `domain/` folder, a hand-written NLU test set); and the bistro bot (two
forms, two retrieval intents, 18 rules, test stories whose names Rasa quotes, one failing on
purpose), brought in by hand with few epochs (the check is equality, not quality). Each is trained
through the pipeline, then real `rasa test` runs by hand on the same model, the same NLU test set
and the same test stories, with explicit paths; the pipeline's metrics/, evaluation/ and failed
stories must hold exactly Rasa's figures.

The bistro bot shares the default bake's environments (symlinked, not reinstalled).
"""

import json
import math
import shutil
import sys

import pytest
import yaml

from support import TEMPLATE, run

sys.path.insert(0, str(TEMPLATE / "benchmarks"))
from bring_in import bring_in  # noqa: E402  (the benchmark brings bots in the same way)

pytestmark = pytest.mark.e2e

BOTS = TEMPLATE / "tests/bots"
FEW_EPOCHS = 5
AVERAGES = {"accuracy", "macro avg", "weighted avg", "micro avg"}
NOT_ENTITY_REPORTS = {"intent", "response_selection", "story", "TEDPolicy"}


def adopt(installed, bot, dest):
    """A copy of the installed default bake with `bot` brought in and trained by `make repro`."""
    shutil.copytree(
        installed,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv", ".venv-dvc", ".rasa", "models", "results"),
    )
    for env in (".venv", ".venv-dvc"):
        (dest / env).symlink_to(installed / env)
    bring_in(bot, dest)
    run(["make", "adopt-config"], dest)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    for options in params["train"].values():
        if "epochs" in options:
            options["epochs"] = FEW_EPOCHS
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["make", "repro"], dest)
    return dest


def rasa_test_by_hand(project, out):
    """`rasa test` as a user types it: the pipeline's model, split and test stories, every path
    explicit. Plain `rasa test` runs `rasa test core` with `--e2e` set (the test stories' intents
    predicted from the user's text, not taken as given) and then `rasa test nlu`, in one process
    (rasa/cli/test.py); it writes the same files as the two commands run one after the other.
    `--no-plot` leaves out Rasa's images (confusion matrices, histogram), not its figures."""
    stories = yaml.safe_load((project / "params.yaml").read_text())["test"]["stories"]
    domain = "domain" if (project / "domain").is_dir() else "domain.yml"
    paths = ["--nlu", "split/test.yml", "--stories", stories, "--domain", domain]
    model = ["--model", "models/model.tar.gz", "--out", str(out), "--successes", "--no-plot"]
    run([".venv/bin/rasa", "test", *paths, *model], project)
    return out


def as_committed(project):
    """The session bot as its last commit left it, whatever earlier tests changed: `dvc
    checkout` puts back the committed outputs from DVC's cache, so `make repro` trains nothing."""
    run(["git", "checkout", "--quiet", "--", "."], project)
    run(["git", "clean", "--quiet", "-d", "--force"], project)  # not -x: models/, .rasa/ stay
    run([".venv-dvc/bin/dvc", "checkout", "--quiet", "--force"], project)
    run(["make", "repro"], project)
    return project


# The session bots' tests run on the xdist worker that built the bot (conftest.py).
@pytest.fixture(
    scope="module",
    params=[
        pytest.param("default", marks=pytest.mark.xdist_group("trained_bot")),
        pytest.param("supportdesk", marks=pytest.mark.xdist_group("supportdesk_bot")),
        "bistro",
    ],
)
def tested(request, tmp_path_factory):
    """(project trained by the pipeline, folder of a hand-run `rasa test` on its model)."""
    if request.param == "default":
        project = request.getfixturevalue("trained_bot")
        run(["make", "repro"], project)  # a no-op unless an earlier test changed its inputs
    elif request.param == "supportdesk":
        project = as_committed(request.getfixturevalue("supportdesk_bot")[0])
    else:
        dest = tmp_path_factory.mktemp("equal") / request.param
        project = adopt(request.getfixturevalue("installed_bot"), BOTS / request.param, dest)
    return project, rasa_test_by_hand(project, tmp_path_factory.mktemp(f"{request.param}-rasa"))


def figures(report, names=("f1-score", "precision", "recall")):
    return {name: round(report[name], 4) for name in names}


def labels(report):
    """{label: {f1, precision, recall, support}} read from a Rasa report, as Rasa wrote them."""
    return {
        label: {
            "f1": round(values["f1-score"], 4),
            "precision": round(values["precision"], 4),
            "recall": round(values["recall"], 4),
            "support": values["support"],
        }
        for label, values in report.items()
        if label not in AVERAGES and isinstance(values, dict)
    }


def accuracy(report):
    if isinstance(report.get("accuracy"), float | int):
        return round(report["accuracy"], 4)
    return round(report["micro avg"]["f1-score"], 4)


def read(path):
    return json.loads(path.read_text()) if path.exists() else None


def test_intent_figures_equal_rasa_s(tested):
    project, rasa = tested
    report = read(rasa / "intent_report.json")
    nlu = read(project / "metrics/nlu.json")
    weighted, macro = report["weighted avg"], report["macro avg"]
    assert nlu["accuracy"] == accuracy(report)
    assert nlu["weighted_f1"] == round(weighted["f1-score"], 4)
    assert nlu["macro_f1"] == round(macro["f1-score"], 4)
    assert read(project / "evaluation/intents.json") == labels(report)


def test_entity_figures_equal_rasa_s_per_extractor(tested):
    project, rasa = tested
    reports = {
        path.name.removesuffix("_report.json"): read(path)
        for path in rasa.glob("*_report.json")
        if path.name.removesuffix("_report.json") not in NOT_ENTITY_REPORTS
    }
    reports = {name: report for name, report in reports.items() if labels(report)}
    if not reports:
        assert not (project / "metrics/entities.json").exists()
        assert not (project / "evaluation/entities.json").exists()
        return
    headline = {
        name: {
            "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
            "precision": round(report["weighted avg"]["precision"], 4),
            "recall": round(report["weighted avg"]["recall"], 4),
        }
        for name, report in reports.items()
    }
    assert read(project / "metrics/entities.json") == headline
    per_label = {name: labels(report) for name, report in reports.items()}
    assert read(project / "evaluation/entities.json") == per_label


def test_response_selection_figures_equal_rasa_s(tested):
    project, rasa = tested
    report = read(rasa / "response_selection_report.json")
    if not report or not labels(report):
        assert not (project / "metrics/responses.json").exists()
        return
    assert read(project / "metrics/responses.json") == {
        "accuracy": accuracy(report),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
    }
    assert read(project / "evaluation/responses.json") == labels(report)


def test_story_figures_equal_rasa_s(tested):
    project, rasa = tested
    report = read(rasa / "story_report.json")
    conversations = report["conversation_accuracy"]
    assert read(project / "metrics/core.json") == {
        "conversation_accuracy": round(conversations["accuracy"], 4),
        "conversations_correct": conversations["correct"],
        "conversations_total": conversations["total"],
        "action_accuracy": accuracy(report),
        "action_f1": round(report["weighted avg"]["f1-score"], 4),
    }


def test_failed_stories_are_rasa_s_with_names_as_written(tested):
    project, rasa = tested
    failed_by_rasa = yaml.safe_load((rasa / "failed_test_stories.yml").read_text()) or {}
    names_by_rasa = [story["story"] for story in failed_by_rasa.get("stories") or []]
    ours = read(project / "evaluation/failed_stories.json")
    # Rasa names a failed story "<name> (<file>)"; ours keeps the two apart, without quotes
    assert [f"{story['story']} ({story['file']})" for story in ours] == names_by_rasa
    if project.name == "bistro":
        wrong = "wrong on purpose: 'hello' answered with goodbye #2"
        assert wrong in [story["story"] for story in ours]


def same(ours, theirs):
    """Equal, floats up to their last bits: each Rasa process orders labels by its own string
    hash seed, so sklearn's averages can differ in the 16th digit between two runs of Rasa."""
    if isinstance(ours, float) or isinstance(theirs, float):
        return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(same, ours, theirs))
    return ours == theirs


def test_rasa_s_reports_and_the_pipeline_s_are_the_same(tested):
    """Not only the tracked figures: Rasa's whole reports, as the test stage kept them."""
    project, rasa = tested
    names = sorted(p.name for p in rasa.glob("*.json"))
    assert names == sorted(p.name for p in (project / "results").glob("*.json"))
    for name in names:
        assert same(read(project / "results" / name), read(rasa / name)), name


def test_dvc_shows_every_plot_the_bot_has_without_a_warning(tested, tmp_path):
    project, rasa = tested
    shown = run([".venv-dvc/bin/dvc", "plots", "show", "--json", "-o", str(tmp_path)], project)
    assert "failed to load" not in shown.stdout + shown.stderr
    plots = set(json.loads(shown.stdout)["data"])
    expected = {"plots/intent_confusion.csv", "plots/intent_f1.csv"}
    if (project / "metrics/entities.json").exists():
        expected.add("plots/entity_f1.csv")
    assert plots == expected


def test_dvc_metrics_show_holds_headline_figures_only(tested):
    project, _ = tested
    shown = run([".venv-dvc/bin/dvc", "metrics", "show", "--json"], project)
    (workspace,) = json.loads(shown.stdout).values()
    files = workspace["data"]

    def leaves(value):
        if isinstance(value, dict):
            return sum(leaves(inner) for inner in value.values())
        return 1

    columns = sum(leaves(file["data"]) for file in files.values())
    assert columns <= 24, f"{columns} columns in dvc metrics show"
