"""The CML recorder (tests/support/cml_recorder.py) itself: it refuses what CML 0.20.6 refuses,
records what CML would accept, and needs what CML needs (a token, every image it publishes)."""

import json

import pytest

from support import cml_recorder


@pytest.mark.parametrize(
    "argv, error",
    [
        (["comment", "create", "--watermark", "x", "r.md"], "Unknown argument: watermark"),
        (["comment", "update", "--publish=yes", "r.md"], "is not a boolean"),
        (["comment", "create", "--publish-native", "r.md"], "not available on GitHub"),
        (["send-comment", "r.md"], "Unknown command"),
        (["runner", "launch", "--cloud=ibm"], "Choices"),
        (["runner", "launch", "--cloud-hdd-size=big"], "is not a number"),
        (["comment", "create", "missing.md"], "ENOENT"),
    ],
)
def test_recorder_refuses_what_cml_refuses(tmp_path, argv, error, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.md").write_text("report\n")
    env = {"REPO_TOKEN": "t", "GITHUB_ACTIONS": "true", "CML_RECORDER_LOG": str(tmp_path / "log")}
    assert cml_recorder.main(argv, env) == 1
    assert error in capsys.readouterr().err
    assert not (tmp_path / "log").exists()


def test_recorder_accepts_and_records_a_valid_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.md").write_text("report\n")
    env = {"REPO_TOKEN": "t", "CML_RECORDER_LOG": str(tmp_path / "log")}
    argv = ["comment", "update", "--watermark-title=Model report", "--no-publish", "r.md"]
    assert cml_recorder.main(argv, env) == 0
    [call] = cml_recorder.calls(tmp_path / "log")
    assert call["options"] == {"watermark-title": "Model report", "publish": False}
    assert call["markdown"] == "report\n"
    assert cml_recorder.main(argv, {"CML_RECORDER_LOG": env["CML_RECORDER_LOG"]}) == 1  # no token


def test_recorder_refuses_to_publish_a_report_whose_image_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.md").write_text("![matrix](report/matrix.png)\n")
    env = {"REPO_TOKEN": "t", "CML_RECORDER_LOG": str(tmp_path / "log")}
    assert cml_recorder.main(["comment", "update", "--publish", "r.md"], env) == 1
    assert cml_recorder.main(["comment", "update", "--publish=false", "r.md"], env) == 0
    (tmp_path / "report").mkdir()
    (tmp_path / "report/matrix.png").write_bytes(b"\x89PNG")
    assert cml_recorder.main(["comment", "update", "--publish", "r.md"], env) == 0
    assert cml_recorder.calls(tmp_path / "log")[-1]["published"] == ["report/matrix.png"]


def github_env(tmp_path, number=7):
    return {
        "REPO_TOKEN": "t",
        "GITHUB_REF": f"refs/pull/{number}/merge",
        "GITHUB_SHA": "ab" * 20,
        "CML_RECORDER_LOG": str(tmp_path / "log"),
        "CML_RECORDER_COMMENTS": str(tmp_path / "comments.json"),
    }


UPDATE = ["comment", "update", "--watermark-title=Model report", "--publish=false", "r.md"]


def test_comment_update_edits_its_own_comment_and_github_refuses_a_long_body(
    tmp_path, monkeypatch, capsys
):
    """Like CML: the body carries the watermark; a second update edits the first comment; a
    body over 65,536 characters (watermark included) is refused and nothing changes."""
    monkeypatch.chdir(tmp_path)
    env = github_env(tmp_path)
    (tmp_path / "r.md").write_text("first\n")
    assert cml_recorder.main(UPDATE, env) == 0
    (tmp_path / "r.md").write_text("second\n")
    assert cml_recorder.main(UPDATE, env) == 0
    [comment] = cml_recorder.comments(tmp_path / "comments.json", "pr/7")
    assert comment["body"].startswith("second\n\n\n![](https://cml.dev/watermark.png#abab")
    assert comment["body"].endswith(' "CML watermark Model report")')
    (tmp_path / "r.md").write_text("x" * (cml_recorder.COMMENT_LIMIT - 10))
    assert cml_recorder.main(UPDATE, env) == 1
    assert "body is too long" in capsys.readouterr().err
    assert cml_recorder.comments(tmp_path / "comments.json", "pr/7") == [comment]


def test_comment_update_misses_its_comment_beyond_the_first_page(tmp_path, monkeypatch):
    """CML 0.20.6 lists 30 comments, unpaged: a report comment that came after 30 others is
    never found again, and every update posts a new one."""
    monkeypatch.chdir(tmp_path)
    env = github_env(tmp_path)
    store = tmp_path / "comments.json"
    store.write_text(json.dumps({"pr/7": [{"id": n, "body": "LGTM"} for n in range(30)]}))
    (tmp_path / "r.md").write_text("report\n")
    assert cml_recorder.main(UPDATE, env) == 0
    assert cml_recorder.main(UPDATE, env) == 0
    assert len(cml_recorder.comments(store, "pr/7")) == 32
    store.write_text(json.dumps({"pr/7": [{"id": n, "body": "LGTM"} for n in range(29)]}))
    assert cml_recorder.main(UPDATE, env) == 0
    assert cml_recorder.main(UPDATE, env) == 0
    assert len(cml_recorder.comments(store, "pr/7")) == 30
