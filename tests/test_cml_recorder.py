"""The CML recorder (tests/support/cml_recorder.py) itself: it refuses what CML 0.20.6 refuses,
records what CML would accept, and needs what CML needs (a token, every image it publishes)."""

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
