"""End-to-end: real `rasa train`/`rasa test` through real DVC in a baked default bot.

`trained_bot` (conftest) bakes the default, runs `make install` and `make repro` once. Checks
that change the project work in a clone of it, so the shared bot stays as trained. That a
fresh clone retrains the same bytes is checked in test_team_loop.py, on main after two merges.
"""

import json
import shutil

import pytest
import yaml

from support import git, ran_stages, run, share_environments

pytestmark = pytest.mark.e2e

DVC = ".venv-dvc/bin/dvc"


def metrics(project):
    return {
        name: json.loads((project / f"metrics/{name}.json").read_text()) for name in ("nlu", "core")
    }


def repro(project, *args):
    result = run([DVC, "repro", *args], project)
    return ran_stages(result.stdout + result.stderr), result.stdout + result.stderr


@pytest.fixture(scope="module")
def committed_bot(trained_bot):
    """The trained bot with its pipeline results committed and pushed to the local remote."""
    git(trained_bot, "add", "--all")
    git(trained_bot, "commit", "--quiet", "-m", "Train the first model")
    run(["make", "push"], trained_bot)
    return trained_bot


def clone(source, dest):
    """A fresh clone beside `source`, so the relative local remote resolves to the same folder,
    with `source`'s environments linked (`make install` then finds them up to date)."""
    run(["git", "clone", "--quiet", str(source), str(dest)], source.parent)
    share_environments(source, dest)
    run(["make", "install"], dest)
    return dest


@pytest.fixture
def work_copy(committed_bot, request):
    """A clone of the committed bot with its outputs pulled and Rasa's cache copied over."""
    dest = committed_bot.parent / f"work-{request.node.name}"
    clone(committed_bot, dest)
    run(["make", "pull"], dest)
    shutil.copytree(committed_bot / ".rasa", dest / ".rasa")
    yield dest
    shutil.rmtree(dest, ignore_errors=True)


def test_repro_trains_and_writes_real_metrics(trained_bot):
    assert (trained_bot / "models/model.tar.gz").stat().st_size > 100_000
    nlu, core = metrics(trained_bot).values()
    # Seeds are fixed: the default bot scores 0.97 / 1.0; a model that learnt nothing cannot.
    for name in ("accuracy", "weighted_f1", "macro_f1"):
        assert 0.85 <= nlu[name] <= 1.0, name
    per_intent = json.loads((trained_bot / "evaluation/intents.json").read_text())
    assert set(per_intent) == set(
        yaml.safe_load((trained_bot / "domain.yml").read_text())["intents"]
    )
    assert nlu["examples"] == sum(figures["support"] for figures in per_intent.values())
    for name in ("conversation_accuracy", "action_accuracy", "action_f1"):
        assert 0.8 <= core[name] <= 1.0, name
    assert core["conversations_total"] == len(
        yaml.safe_load((trained_bot / "tests/test_stories.yml").read_text())["stories"]
    )
    assert (trained_bot / "results/intent_report.json").exists()
    assert (trained_bot / "results/story_report.json").exists()
    assert not (trained_bot / "metrics/entities.json").exists(), "the default bot has no entities"
    trained_with = yaml.safe_load((trained_bot / "models/config.yml").read_text())
    diet = next(c for c in trained_with["pipeline"] if c["name"] == "DIETClassifier")
    assert (diet["epochs"], diet["random_seed"]) == (100, 42)
    assert json.loads((trained_bot / "evaluation/validation.json").read_text()) == {"warnings": []}


def test_make_repro_ends_with_the_headline_metrics_one_per_line(trained_bot):
    output = run(["make", "repro"], trained_bot).stdout
    tail = output.strip().splitlines()[-2:]
    assert tail[0].startswith("intents      accuracy 0.9"), output
    assert tail[1].startswith("stories      "), output


def test_model_is_never_tested_on_its_training_examples(trained_bot):
    def texts(path):
        nlu = yaml.safe_load((trained_bot / path).read_text())["nlu"]
        return {
            line.strip()[2:]
            for block in nlu
            for line in block.get("examples", "").splitlines()
            if line.strip().startswith("- ")
        }

    train, test = texts("split/train.yml"), texts("split/test.yml")
    assert test and train
    assert not train & test
    assert train | test == texts("data/nlu.yml")


def test_noop_repro_does_no_work(trained_bot):
    """How fast it is belongs to the benchmark (`make bench`), not to a test on a shared machine."""
    stages, output = repro(trained_bot)
    assert stages == [], output
    assert "Data and pipelines are up to date" in output


def test_lint_passes_after_a_run(trained_bot):
    """metrics/, plots/ and the other output folders must not change how ruff sorts imports."""
    assert (trained_bot / "metrics/nlu.json").exists()
    run(["make", "lint"], trained_bot)


def test_push_then_pull_in_a_fresh_clone_restores_the_model(committed_bot):
    fresh = clone(committed_bot, committed_bot.parent / "fresh-clone")
    assert not (fresh / "models/model.tar.gz").exists()
    run(["make", "pull"], fresh)
    pulled = (fresh / "models/model.tar.gz").read_bytes()
    assert pulled == (committed_bot / "models/model.tar.gz").read_bytes()
    stages, output = repro(fresh)
    assert stages == [], f"a pulled clone should be up to date:\n{output}"


def test_editing_test_stories_reruns_only_the_test(work_copy):
    (work_copy / "tests/test_actions.py").write_text("# unit tests are not Rasa test data\n")
    stages, output = repro(work_copy, "--dry")
    assert stages == [], output
    stories = work_copy / "tests/test_stories.yml"
    stories.write_text(stories.read_text().replace("amazing", "wonderful", 1))
    stages, output = repro(work_copy, "--dry")  # DVC decides from the inputs alone
    assert stages == ["test"], output


def test_a_story_naming_an_intent_the_domain_lacks_stops_the_pipeline(work_copy):
    (work_copy / "data/broken.yml").write_text(
        'version: "3.1"\nstories:\n  - story: typo\n    steps:\n      - intent: gret\n'
        "      - action: utter_greet\n"
    )
    result = run(["make", "repro"], work_copy, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The intent 'gret' is used in your stories, but it is not listed in the domain" in output
    assert "Running stage 'test'" not in output


def test_a_test_example_that_is_also_a_training_example_is_refused(work_copy):
    params = yaml.safe_load((work_copy / "params.yaml").read_text())
    params["split"]["nlu_test_set"] = "tests/nlu/nlu_test.yml"
    (work_copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    test_set = yaml.safe_load((work_copy / "tests/nlu/nlu_test.yml").read_text())
    leaked = test_set["nlu"][0]["examples"].splitlines()[0]
    with (work_copy / "data/nlu.yml").open("a") as handle:
        handle.write(
            f"  - intent: {test_set['nlu'][0]['intent']}\n    examples: |\n      {leaked}\n"
        )
    result = run([DVC, "repro", "split"], work_copy, check=False)
    assert result.returncode != 0
    assert "examples of tests/nlu/nlu_test.yml are also training examples" in result.stderr


def test_a_component_option_in_config_yml_reruns_training(work_copy):
    config = work_copy / "config.yml"
    config.write_text(config.read_text().replace("max_ngram: 4", "max_ngram: 5"))
    stages, output = repro(work_copy, "--dry")
    assert stages == ["train"], output  # a dry run stops at the stages whose own inputs changed
