"""The post-gen hook's functions, imported from the template (its Jinja sits under `__main__`)."""

import pytest

from support import DEFAULTS, TEMPLATE, bake, git, load_hook
from support.remote_facts import REMOTES, dvc_lock

post_gen = load_hook("post_gen_project")
DVC_LOCKS = {dvc_lock(remote) for remote in REMOTES}
WORKFLOWS = {
    ".github/workflows/cml.yml",
    ".github/workflows/image.yml",
    ".github/dependabot.yml",
    ".github/CODEOWNERS",
    ".github/workflows/sweep.yml",
}


@pytest.mark.parametrize(
    ("answers", "kept"),
    [
        ({"ci_provider": "github", "dvc_remote": "local"}, WORKFLOWS | {dvc_lock("local")}),
        ({"ci_provider": "none", "dvc_remote": "none"}, {dvc_lock("none")}),
        ({"ci_provider": "github", "dvc_remote": "s3"}, WORKFLOWS | {dvc_lock("s3")}),
        ({"ci_provider": "none", "dvc_remote": "ssh"}, {dvc_lock("ssh")}),
    ],
)
def test_every_unchosen_path_is_removed_and_no_chosen_one(answers, kept):
    removed = set(post_gen.paths_to_remove(answers | {"_remotes": REMOTES}))
    assert removed == (WORKFLOWS | DVC_LOCKS) - kept


def test_every_file_under_github_is_owned_by_ci_provider():
    """A new workflow in the template must be listed, or ci_provider=none would keep it."""
    github = TEMPLATE / "{{cookiecutter.project_slug}}/.github"
    files = {str(p.relative_to(github.parent)) for p in github.rglob("*") if p.is_file()}
    assert files == set(post_gen.WORKFLOW_FILES)


def test_removal_keeps_folders_holding_other_files(tmp_path):
    for rel in [".github/workflows/cml.yml", ".github/workflows/mine.yml", "a/b/c.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    post_gen.remove_paths(tmp_path, [".github/workflows/cml.yml", "a/b/c.txt"])
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        ".github",
        ".github/workflows",
        ".github/workflows/mine.yml",
    ]


def test_template_files_are_the_templates_and_the_hooks_own(tmp_path):
    (tmp_path / "README.md").write_text("x")
    (tmp_path / ".env").write_text("secret")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements/dvc.txt").write_text("dvc")
    assert post_gen.template_files(tmp_path, str(TEMPLATE)) == ["README.md", "requirements/dvc.txt"]


def test_identity_is_the_users_only_when_complete(tmp_path, monkeypatch):
    git(tmp_path, "init", "--quiet")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    answers = ("Team", "team@example.com")
    git(tmp_path, "config", "user.name", "Jo")
    assert post_gen.commit_identity(tmp_path, *answers) == answers
    git(tmp_path, "config", "user.email", "jo@example.org")
    assert post_gen.commit_identity(tmp_path, *answers) == ("Jo", "jo@example.org")


def test_every_owned_path_exists_in_the_template():
    template = TEMPLATE / "{{cookiecutter.project_slug}}"
    owned_paths = post_gen.owned_paths(REMOTES)
    owned = {p for choices in owned_paths.values() for paths in choices.values() for p in paths}
    assert {p for p in owned if not (template / p).exists()} == set()


def test_removing_missing_paths_is_not_an_error(tmp_path):
    post_gen.remove_paths(tmp_path, [".github/workflows/cml.yml", "requirements/dvc-s3.txt"])


def test_running_the_hook_again_changes_nothing(cookies):
    """cruft re-runs hooks: a second run must not re-init, re-commit or move the remote."""
    project = bake(cookies)
    head, config = git(project, "rev-parse", "HEAD"), (project / ".dvc/config").read_text()
    answers = DEFAULTS | {
        "project_slug": project.name,
        "dvc_remote_url": f"../{project.name}-dvc-storage",
    }
    post_gen.main(answers, root=project)
    assert git(project, "rev-parse", "HEAD") == head
    assert (project / ".dvc/config").read_text() == config
    assert git(project, "status", "--porcelain") == ""


def test_template_files_without_the_template_folder(tmp_path):
    """cruft's fresh folder: every file git would take, including what DVC staged itself."""
    git(tmp_path, "init", "--quiet")
    for name, text in {".gitignore": "secret\n", "a.txt": "a", "secret": "s", "b.txt": "b"}.items():
        (tmp_path / name).write_text(text)
    git(tmp_path, "add", "b.txt")
    (tmp_path / "b.txt").write_text("b, changed after staging")
    assert post_gen.template_files(tmp_path, None) == [".gitignore", "a.txt", "b.txt"]
