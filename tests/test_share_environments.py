"""`support.share_environments`: a clone borrows an installed bot's environments only when both
have the same locks (a `make install` of another lock would change them under every sharer).
`support.install_once_per_run`: the workers of one run install the default bot's environments
once, whichever comes first."""

import threading
import time

import pytest

from support import install_once_per_run, share_environments


def project(root, bot_lock):
    (root / ".git/info").mkdir(parents=True)
    (root / "requirements").mkdir()
    (root / "requirements/bot.txt").write_text(bot_lock)
    (root / "requirements/dvc.txt").write_text("dvc==3.67.1\n")
    return root


def test_a_clone_with_the_same_locks_links_the_environments_and_git_ignores_the_links(tmp_path):
    source = project(tmp_path / "source", "rasa==3.6.21\n")
    (source / ".venv").mkdir()
    (source / ".venv-dvc").mkdir()
    clone = project(tmp_path / "clone", "rasa==3.6.21\n")
    share_environments(source, clone)
    assert (clone / ".venv").resolve() == (source / ".venv").resolve()
    assert (clone / ".venv-dvc").resolve() == (source / ".venv-dvc").resolve()
    excluded = (clone / ".git/info/exclude").read_text().split()
    assert excluded == ["/.venv", "/.venv-dvc"]


def test_a_clone_with_another_lock_is_refused(tmp_path):
    source = project(tmp_path / "source", "rasa==3.6.21\n")
    clone = project(tmp_path / "clone", "rasa==3.6.21\npython-dateutil==2.9.0\n")
    with pytest.raises(AssertionError, match="requirements/bot.txt is not"):
        share_environments(source, clone)
    assert not (clone / ".venv").exists()


# `make install` as a slow stand-in: it builds both environments and counts the builds.
INSTALL = """install:
\ttest -d .venv || { sleep 1; mkdir .venv .venv-dvc; echo built >> ../builds; }
"""


class RunTemp:
    """tmp_path_factory as a worker sees it: its base folder inside the run's."""

    def __init__(self, run_folder, worker):
        self.base = run_folder / f"popen-{worker}"

    def getbasetemp(self):
        self.base.mkdir(exist_ok=True)
        return self.base


def test_workers_of_one_run_build_the_environments_once_and_link_them(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    bots = [project(tmp_path / f"bot-{n}", "rasa==3.6.21\n") for n in range(2)]
    for bot in bots:
        (bot / "Makefile").write_text(INSTALL)
    workers = [
        threading.Thread(target=install_once_per_run, args=(bot, RunTemp(tmp_path, f"gw{n}")))
        for n, bot in enumerate(bots)
    ]
    for worker in workers:
        worker.start()
        time.sleep(0.2)  # the second asks while the first is still building
    for worker in workers:
        worker.join()
    assert (tmp_path / "builds").read_text() == "built\n"
    assert (bots[1] / ".venv").resolve() == (bots[0] / ".venv").resolve()
    assert (bots[1] / ".venv-dvc").resolve() == (bots[0] / ".venv-dvc").resolve()


def test_sessions_without_workers_never_share(tmp_path, monkeypatch):
    """Plain pytest sessions side by side (their folders share a parent) each install their own."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    for n in range(2):
        bot = project(tmp_path / f"bot-{n}", "rasa==3.6.21\n")
        (bot / "Makefile").write_text(INSTALL)
        install_once_per_run(bot, RunTemp(tmp_path, f"session-{n}"))
        assert not (bot / ".venv").is_symlink()
    assert (tmp_path / "builds").read_text() == "built\nbuilt\n"
