"""Two pull requests that change training data in parallel, on a real baked bot (issue 18.1).

Both branch off the same `main` and commit their own results, as the stale-lock check asks.
The first is merged; the second then conflicts in `dvc.lock` and `metrics/`. `make sync` on the
second branch merges `main`, retrains on the merged data and commits; the second is merged in
turn. Nothing generated is edited here by hand, and `main`'s results after both merges are, byte
for byte, what a fresh `dvc repro` of `main` from scratch gives. It starts from the 5-epoch bot's
committed results: the assertions are about which results, not how good.
"""

import json
import time

import pytest

from support import git, ran_stages, run, share_environments, tracked_outputs


def add_examples(project, intent, *examples):
    """New NLU examples at the top of one intent's list (two intents: two places in the file)."""
    path = project / "data/nlu.yml"
    header = f"  - intent: {intent}\n    examples: |\n"
    text = path.read_text()
    assert header in text
    path.write_text(text.replace(header, header + "".join(f"      - {e}\n" for e in examples)))


def commit_results(project, message):
    """What a developer does before pushing: run the pipeline, commit inputs and results."""
    run(["make", "repro"], project)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", message)


def metrics(project):
    return {
        path.name: json.loads(path.read_text())
        for path in sorted((project / "metrics").glob("*.json"))
    }


@pytest.mark.e2e
def test_two_data_pull_requests_merge_one_after_the_other_with_make_sync(few_epochs_bot, tmp_path):
    start = time.monotonic()
    project = tmp_path / "bot"
    git(tmp_path, "clone", "--quiet", str(few_epochs_bot), str(project))
    share_environments(few_epochs_bot, project)

    for branch, intent, examples in (
        ("more-greetings", "greet", ["yo", "hey hey"]),
        ("more-goodbyes", "goodbye", ["catch you later"]),
    ):
        git(project, "checkout", "--quiet", "-b", branch, "main")
        add_examples(project, intent, *examples)
        commit_results(project, f"More {intent} examples")
    git(project, "checkout", "--quiet", "main")
    git(project, "merge", "--quiet", "--no-ff", "--no-edit", "more-greetings")
    after_first = git(project, "rev-parse", "main")
    first_metrics = {
        name: json.loads(git(project, "show", f"main:metrics/{name}")) for name in metrics(project)
    }

    git(project, "checkout", "--quiet", "more-goodbyes")
    merge = run(["git", "merge", "--no-commit", "main"], project, check=False)
    conflicts = git(project, "diff", "--name-only", "--diff-filter=U").split()
    # dvc.lock conflicts; metrics/ may even merge cleanly, into numbers no run produced.
    assert merge.returncode != 0 and "dvc.lock" in conflicts, merge.stdout
    git(project, "merge", "--abort")

    synced = run(["make", "sync", "SYNC_BASE=main"], project)

    output = synced.stdout + synced.stderr
    assert "Committed: Merge main; results regenerated from the merged inputs" in output
    assert "Running stage 'train'" in output and "Running stage 'test'" in output
    assert git(project, "status", "--porcelain", "--untracked-files=no") == ""
    assert git(project, "rev-parse", "HEAD^2") == after_first
    nlu = (project / "data/nlu.yml").read_text()
    assert "- yo\n" in nlu and "- catch you later\n" in nlu
    run(["make", "check-lock"], project)
    # The report's baseline is main after the first merge.
    dvc_diff = [".venv-dvc/bin/dvc", "metrics", "diff", "main", "--all", "--json"]
    diff = json.loads(run(dvc_diff, project).stdout)["metrics/nlu.json"]["weighted_f1"]
    assert diff["old"] == first_metrics["nlu.json"]["weighted_f1"]
    assert diff["new"] == metrics(project)["nlu.json"]["weighted_f1"]

    git(project, "checkout", "--quiet", "main")
    git(project, "merge", "--quiet", "--no-ff", "--no-edit", "more-goodbyes")
    run(["make", "check-lock"], project)

    # A fresh clone of main, with no Rasa cache (what CI or a teammate trains) gives the same
    # bytes: main's results came from its inputs, and training is repeatable. Rasa's random ids
    # and times in the model archive are rewritten (pipeline/model_archive.py); the test stage
    # writes its reports' keys in one order; TED, restored from the cache in `make sync`, is
    # trained here, and lands on the same weights.
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "--quiet", str(project), str(fresh))
    share_environments(few_epochs_bot, fresh)
    regenerated = run([".venv-dvc/bin/dvc", "repro"], fresh)
    output = regenerated.stdout + regenerated.stderr
    assert ran_stages(output) == ["split", "train", "test"], output
    assert "from cache." not in output, "a fresh clone has no Rasa cache: it trains from scratch"
    assert (fresh / "dvc.lock").read_bytes() == (project / "dvc.lock").read_bytes()
    ours, theirs = tracked_outputs(fresh), tracked_outputs(project)
    assert "models/model.tar.gz" in ours and sorted(ours) == sorted(theirs)
    assert [path for path in ours if ours[path] != theirs[path]] == []
    print(f"\ntwo pull requests, one make sync: {time.monotonic() - start:.0f}s")
