"""`support.share_environments`: a clone borrows an installed bot's environments only when both
have the same locks (a `make install` of another lock would change them under every sharer)."""

import pytest

from support import share_environments


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
