"""Projects take template updates with cruft: bake from one commit of the template, change the
template, `cruft update`; the change arrives, the user's edits stay, git and DVC are untouched.

cruft re-runs the hooks on update (it renders the old and the new template into temporary
folders and applies their difference). The post-gen hook sets up git and DVC there too; the
baked pyproject.toml tells cruft to leave `.git` and DVC's local folders out of that diff.
"""

import shutil
import sys
from pathlib import Path

import pytest

from support import TEMPLATE, dvc_config, git, git_status, run


def cruft(*args, cwd, check=True):
    return run([sys.executable, "-m", "cruft", *args], cwd, check=check, timeout=600)


def template_repo(dest):
    """The template's tracked files, as they are in the working tree, in a fresh git repo."""
    files = git(TEMPLATE, "ls-files", "-z").split("\0")
    for rel in filter(None, files):
        source = TEMPLATE / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    git(dest, "init", "--quiet")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "template v1")
    return dest


@pytest.mark.e2e
def test_cruft_update_brings_template_changes_and_keeps_user_edits(tmp_path):
    template = template_repo(tmp_path / "template")
    cruft(
        "create", "--no-input", "--output-dir", str(tmp_path / "out"), str(template), cwd=tmp_path
    )
    project = tmp_path / "out/rasa-assistant"

    # A baked project is complete: git, DVC, one commit; cruft adds .cruft.json after the hooks.
    assert git(project, "status", "--porcelain") == "?? .cruft.json"
    git(project, "add", ".cruft.json")
    git(project, "commit", "--quiet", "-m", "Track the template with cruft")
    with (project / "README.md").open("a") as readme:
        readme.write("\n## Our team's notes\n\nOn call: the bot team.\n")
    git(project, "commit", "--quiet", "-am", "User edit")
    head, config_before = git(project, "rev-parse", "HEAD"), dvc_config(project)

    # The template moves on: one changed file, one new file.
    params = template / "{{cookiecutter.project_slug}}/params.yaml"
    params.write_text(params.read_text() + "# added by template v2\n")
    new_file = template / "{{cookiecutter.project_slug}}/docs/UPGRADING.md"
    new_file.parent.mkdir()
    new_file.write_text("# Upgrading {{ cookiecutter.project_name }}\n")
    git(template, "add", "--all")
    git(template, "commit", "--quiet", "-m", "template v2")
    v2 = git(template, "rev-parse", "HEAD")

    assert cruft("check", cwd=project, check=False).returncode != 0  # out of date
    cruft("update", "--skip-apply-ask", cwd=project)

    assert (project / "params.yaml").read_text().endswith("# added by template v2\n")
    assert (project / "docs/UPGRADING.md").read_text() == "# Upgrading Rasa Assistant\n"
    assert (project / "README.md").read_text().endswith("On call: the bot team.\n")
    assert f'"commit": "{v2}"' in (project / ".cruft.json").read_text()
    # The hooks' re-run touched neither the history nor DVC's set-up.
    assert git(project, "rev-parse", "HEAD") == head
    assert dvc_config(project) == config_before
    status = git_status(project)
    assert {line[3:] for line in status.splitlines()} == {
        ".cruft.json",
        "params.yaml",
        "docs/UPGRADING.md",
    }

    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Update from the template")
    assert "up to date" in cruft("check", cwd=project).stdout
    assert not Path(project / ".git/rebase-apply").exists()
