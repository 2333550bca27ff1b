"""A GitHub repository that runs the CML workflow's train job: one origin, one fresh clone per run.

What it models: a pull request runs on its merge commit (refs/pull/N/merge), and none runs for a
conflicted one; a run id per run that a re-run keeps (with its artifacts); one Actions cache
and one set of comments for all the repository's runs. The runs share the origin's installed
environments (linked, see `share_environments`), so the workflow's `make install` only checks them
against the locks, as on a runner whose uv cache is warm. What it does not: permissions, branch
protection, required checks, the queue of runs (concurrency is `workflow_runner`'s), webhooks,
or any API beyond the comments the CML recorder keeps.
"""

import time

import yaml

from support import cml_recorder, git, run, share_environments
from support.actions_cache import CacheService
from support.local_actions import local_actions
from support.workflow_runner import run_job


class GitHub:
    """`origin` plays the GitHub repository; each run checks out a fresh clone beside it, so the
    bot's local DVC remote (../rasa-assistant-dvc-storage) is the same folder for all of them.
    One cache service serves every run, as GitHub's serves a repository's workflow runs. Every
    run links the origin's environments (`make install` there first)."""

    def __init__(self, root, origin):
        self.root, self.origin = root, origin
        self.workflow = yaml.safe_load((origin / ".github/workflows/cml.yml").read_text())
        self.cache = CacheService(root / "actions-cache")
        self.comments = root / "comments.json"
        self.run_ids = iter(range(4242, 9999))

    def run(self, name, event, branch, workflow=None, prepare=None, **options):
        """Run the train job for `event` on a fresh clone of `branch`; `prepare(workspace)` runs
        after the checkout. A pull request runs on its merge commit with the base branch, as
        GitHub's refs/pull/N/merge (the event's sha becomes that commit). Options go to run_job
        (secrets, variables, needs, stop_before, start_at)."""
        workspace = self.root / name
        if event.run_attempt == "1":  # a new run; a re-run keeps its run's id and artifacts
            event.run_id = str(next(self.run_ids))
        run(["git", "clone", "--quiet", str(self.origin), str(workspace)], self.root)
        share_environments(self.origin, workspace)
        if event.name == "pull_request":
            merge_ref(workspace, event, branch)
        else:
            git(workspace, "checkout", "--quiet", "--detach", f"origin/{branch}")
            assert git(workspace, "rev-parse", "HEAD") == event.sha
        if prepare:
            prepare(workspace)
        log, artifacts = (
            self.root / f"{name}-cml.jsonl",
            self.root / f"run-{event.run_id}-artifacts",
        )
        start = time.monotonic()
        job = run_job(
            workflow or self.workflow,
            "train-report-gate",
            workspace,
            event,
            self.root / f"{name}-runner",
            local_actions(
                workspace, self.root / f"{name}-bin", log, self.cache, artifacts, self.comments
            ),
            **options,
        )
        job.seconds = time.monotonic() - start
        job.workspace, job.calls, job.artifacts = workspace, cml_recorder.calls(log), artifacts
        job.runner_temp = self.root / f"{name}-runner"
        job.run_id = event.run_id
        timings = ", ".join(f"{s.name[:30]}: {s.seconds:.0f}s" for s in job.steps if s.seconds > 1)
        print(f"\n{name}: {job.seconds:.0f}s ({timings})")
        return job


def merge_ref(workspace, event, branch):
    """Check out what GitHub runs a pull request on: the head merged into the base branch."""
    git(workspace, "checkout", "--quiet", "--detach", f"origin/{event.base_ref}")
    merged = run(
        [
            "git",
            "-c",
            "user.name=GitHub",
            "-c",
            "user.email=noreply@github.com",
            "merge",
            "--quiet",
            "--no-ff",
            "--no-edit",
            f"origin/{branch}",
        ],
        workspace,
        check=False,
    )
    assert merged.returncode == 0, "GitHub runs no pull_request workflow for a conflicted PR"
    event.sha = git(workspace, "rev-parse", "HEAD")
