"""pipeline/model_archive.py on archives laid out as Rasa 3.6 writes them (a root entry, folders,
metadata.json with random ids, the clock's times), without training a model."""

import io
import json
import tarfile
import uuid
from pathlib import Path

from pipeline import model_archive

WEIGHTS = bytes(range(256)) * 40


def metadata(prints: list[str]) -> dict:
    resources = [{"name": f"train_C{i}", "output_fingerprint": x} for i, x in enumerate(prints)]
    nodes = {f"run_C{i}": {"uses": "x.C", "resource": r} for i, r in enumerate(resources)}
    return {
        "domain": {"version": "3.1"},
        "trained_at": "2026-12-01T19:10:28.836280",
        "model_id": uuid.uuid4().hex,
        "assistant_id": "our-assistant",
        "project_fingerprint": "ab" * 32,
        "train_schema": {"nodes": {"train_C0": {"uses": "x.C", "resource": None}}},
        "predict_schema": {"nodes": nodes},
    }


def rasa_like_archive(path: Path, mtime: float, weights: bytes = WEIGHTS, reverse=False) -> Path:
    """What LocalModelStorage.create_model_package writes: tar.add(folder, arcname="")."""
    files = {
        "components/train_C0/model.data": weights,
        "components/train_C1/vocabulary.json": b'{"hello": 0}',
        "metadata.json": json.dumps(metadata([uuid.uuid4().hex, uuid.uuid4().hex])).encode(),
    }
    folders = ["", "components", "components/train_C0", "components/train_C1"]
    with tarfile.open(path, "w:gz") as tar:
        for name in folders:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o700, mtime
            tar.addfile(info)
        for name in sorted(files, reverse=reverse):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.uname = len(files[name]), 0o600, mtime, "me"
            tar.addfile(info, io.BytesIO(files[name]))
    return path


def unpacked(path: Path) -> dict:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() if m.isfile() else None for m in tar.getmembers()}


def test_two_trainings_of_the_same_model_give_the_same_bytes(tmp_path):
    first = rasa_like_archive(tmp_path / "first.tar.gz", mtime=1_700_000_000)
    second = rasa_like_archive(tmp_path / "second.tar.gz", mtime=1_800_000_000, reverse=True)
    assert first.read_bytes() != second.read_bytes()
    assert model_archive.make_reproducible(first) == model_archive.make_reproducible(second)
    assert first.read_bytes() == second.read_bytes()


def test_other_weights_give_another_archive_and_another_model_id(tmp_path):
    first = rasa_like_archive(tmp_path / "first.tar.gz", mtime=1)
    other = rasa_like_archive(tmp_path / "other.tar.gz", mtime=1, weights=WEIGHTS[::-1])
    assert model_archive.make_reproducible(first) != model_archive.make_reproducible(other)
    assert first.read_bytes() != other.read_bytes()


def test_the_content_is_kept_and_the_metadata_is_a_function_of_it(tmp_path):
    archive = rasa_like_archive(tmp_path / "model.tar.gz", mtime=1_700_000_000)
    before = unpacked(archive)
    model_id = model_archive.make_reproducible(archive)
    after = unpacked(archive)

    assert sorted(after) == sorted(n for n in before if n)  # the root entry "" is not needed
    for name, content in before.items():
        if name and name != "metadata.json":
            assert after[name] == content
    old, new = json.loads(before["metadata.json"]), json.loads(after["metadata.json"])
    assert new["model_id"] == model_id and len(model_id) == 32 and model_id != old["model_id"]
    assert new["trained_at"] == model_archive.TRAINED_AT
    assert new["project_fingerprint"] is None
    assert new["assistant_id"] == "our-assistant" and new["domain"] == old["domain"]
    fingerprints = [
        node["resource"]["output_fingerprint"] for node in new["predict_schema"]["nodes"].values()
    ]
    assert len(set(fingerprints)) == 2  # one per component, not the random ones Rasa wrote
    assert not set(fingerprints) & {
        node["resource"]["output_fingerprint"] for node in old["predict_schema"]["nodes"].values()
    }


def test_members_are_sorted_with_fixed_times_owners_and_modes(tmp_path):
    archive = rasa_like_archive(tmp_path / "model.tar.gz", mtime=1_700_000_000, reverse=True)
    model_archive.make_reproducible(archive)
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid, m.uname) for m in members} == {(0, 0, 0, "")}
    assert {m.mode for m in members if m.isdir()} == {0o755}
    assert {m.mode for m in members if m.isfile()} == {0o644}
    assert archive.read_bytes()[4:8] == b"\0\0\0\0"  # the gzip header's time
    assert not archive.with_name("model.tar.gz.partial").exists()
