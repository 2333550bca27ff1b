"""The post-gen hook's functions, imported from the template (its Jinja sits under `__main__`)."""

import importlib.util
import json

import pytest

from conftest import TEMPLATE, bake, git

SPEC = importlib.util.spec_from_file_location("post_gen", TEMPLATE / "hooks/post_gen_project.py")
post_gen = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(post_gen)

DEFAULTS = {
    key: value[0] if isinstance(value, list) else value
    for key, value in json.loads((TEMPLATE / "cookiecutter.json").read_text()).items()
}
DVC_LOCKS = {f"requirements/dvc-{extra}.txt" for extra in ("base", "s3", "gs", "azure", "ssh")}


@pytest.mark.parametrize(
    ("answers", "kept"),
    [
        ({"ci_provider": "github", "dvc_remote": "local"}, {".github", "requirements/dvc-base.txt"}),
        ({"ci_provider": "none", "dvc_remote": "none"}, {"requirements/dvc-base.txt"}),
        ({"ci_provider": "github", "dvc_remote": "s3"}, {".github", "requirements/dvc-s3.txt"}),
        ({"ci_provider": "none", "dvc_remote": "ssh"}, {"requirements/dvc-ssh.txt"}),
    ],
)
def test_every_unchosen_path_is_removed_and_no_chosen_one(answers, kept):
    removed = set(post_gen.paths_to_remove(answers))
    assert removed == ({".github"} | DVC_LOCKS) - kept


def test_every_owned_path_exists_in_the_template():
    template = TEMPLATE / "{{cookiecutter.project_slug}}"
    owned = {p for choices in post_gen.OWNED_PATHS.values() for paths in choices.values() for p in paths}
    assert {p for p in owned if not (template / p).exists()} == set()


def test_removing_missing_paths_is_not_an_error(tmp_path):
    post_gen.remove_paths(tmp_path, [".github", "requirements/dvc-s3.txt"])


def test_running_the_hook_again_changes_nothing(cookies):
    """cruft re-runs hooks: a second run must not re-init, re-commit or move the remote."""
    project = bake(cookies)
    head, config = git(project, "rev-parse", "HEAD"), (project / ".dvc/config").read_text()
    answers = DEFAULTS | {"project_slug": project.name}
    answers["dvc_remote_url"] = f"../{project.name}-dvc-storage"
    post_gen.main(answers, root=project)
    assert git(project, "rev-parse", "HEAD") == head
    assert (project / ".dvc/config").read_text() == config
    assert git(project, "status", "--porcelain") == ""
