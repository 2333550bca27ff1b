"""The user-facing path: `cookiecutter gh:<org>/<repo>` clones the template with git, then bakes.

`git+file://` takes the same code path (clone into cookiecutters_dir, bake from the clone) offline.
"""

import time

from support import TEMPLATE, git, run
from support.cli import cookiecutter


def test_bake_from_a_git_url_of_the_committed_template(tmp_path):
    source = tmp_path / "template.git"
    run(["git", "clone", "--quiet", "--bare", str(TEMPLATE), str(source)], tmp_path)
    config = tmp_path / "user-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {tmp_path / 'cookiecutters'}\nreplay_dir: {tmp_path / 'replay'}\n"
    )
    out = tmp_path / "out"

    start = time.monotonic()
    result = cookiecutter(out, "--config-file", str(config), template=f"git+file://{source}")
    elapsed = time.monotonic() - start

    assert result.returncode == 0, result.stderr
    project = out / "rasa-assistant"
    assert (tmp_path / "cookiecutters/template").is_dir(), "cookiecutter cloned the template"
    assert (
        git(project, "log", "--format=%s") == "Bake Rasa Assistant from the rasa-dvc-cml template"
    )
    assert git(project, "status", "--porcelain") == ""
    assert 'remote "storage"' in (project / ".dvc/config").read_text()
    assert elapsed < 60, f"bake from a git URL took {elapsed:.1f} s"
