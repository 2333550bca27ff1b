"""What the report needs from the bot's own files: examples per intent (in the workspace and at
a revision, read through git in two processes) and what the test stories cover."""

import subprocess
from collections import Counter
from pathlib import Path

import yaml

from pipeline import paths


def _yaml(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def count_examples(texts) -> Counter:
    """Examples per intent in Rasa YAML NLU files (texts of any YAML files; others add nothing)."""
    counts = Counter()
    for text in texts:
        data = _yaml(text)
        nlu = data.get("nlu") if isinstance(data, dict) else None
        for item in nlu if isinstance(nlu, list) else []:
            if not isinstance(item, dict) or "intent" not in item:
                continue
            examples = item.get("examples")
            if isinstance(examples, str):
                lines = [line for line in examples.splitlines() if line.strip().startswith("- ")]
                counts[str(item["intent"])] += len(lines)
    return counts


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _files(source: Path) -> list[Path]:
    return [source] if source.is_file() else _yaml_files(source) if source.is_dir() else []


def workspace_examples(sources: list[Path]) -> Counter:
    """Examples per intent in the NLU files under `sources` (folders or files) on disk."""
    return count_examples(p.read_text(errors="replace") for s in sources for p in _files(s))


def committed_examples(commit: str, sources: list[Path]) -> Counter | None:
    """Examples per intent in the NLU files under `sources` committed at `commit` (None when
    git cannot say)."""
    listing = subprocess.run(
        ["git", "ls-tree", "-r", commit, "--", *(s.as_posix() for s in sources)],
        capture_output=True,
        text=True,
    )
    if listing.returncode != 0:
        return None
    blobs = []
    for line in listing.stdout.splitlines():
        meta, _, path = line.partition("\t")
        kind, blob = meta.split()[1:3]
        if kind == "blob" and path.endswith((".yml", ".yaml")):
            blobs.append(blob)
    if not blobs:
        return Counter()
    batch = subprocess.run(
        ["git", "cat-file", "--batch"],
        input=("\n".join(blobs) + "\n").encode(),
        capture_output=True,
    )
    return count_examples(_batch_texts(batch.stdout))


def _batch_texts(output: bytes):
    """The contents out of `git cat-file --batch` output ("<sha> blob <size>\\n<bytes>\\n")."""
    position = 0
    while position < len(output):
        header_end = output.index(b"\n", position)
        size = int(output[position:header_end].split()[2])
        start = header_end + 1
        yield output[start : start + size].decode("utf-8", errors="replace")
        position = start + size + 1


def split_sizes() -> dict[str, int]:
    """Examples in the workspace's training and held-out NLU sets (split/), where present."""
    sizes = {}
    for name, path in [("train", paths.NLU_TRAIN), ("test", paths.NLU_TEST)]:
        if path.exists():
            sizes[name] = sum(count_examples([path.read_text(errors="replace")]).values())
    return sizes


def domain() -> dict:
    """The domain's intents and actions (responses included): domain.yml or a domain/ folder."""
    files = [paths.DOMAIN] if paths.DOMAIN.is_file() else _yaml_files(Path("domain"))
    intents, actions = set(), set()
    for path in files:
        data = _yaml(path.read_text(errors="replace"))
        if not isinstance(data, dict):
            continue
        for intent in data.get("intents") or []:
            intents.add(next(iter(intent)) if isinstance(intent, dict) else str(intent))
        actions.update(str(a) for a in data.get("actions") or [] if not isinstance(a, dict))
        actions.update(str(r) for r in data.get("responses") or {} if "/" not in str(r))
        actions.update(str(f) for f in data.get("forms") or {})
    return {"intents": intents, "actions": actions}


def story_steps(stories_path: str) -> dict:
    """Intents and actions the test stories use (files under a folder, or one file)."""
    files = _files(Path(stories_path))
    used = {"intents": set(), "actions": set()}
    for path in files:
        data = _yaml(path.read_text(errors="replace"))
        if not isinstance(data, dict):
            continue
        for story in (data.get("stories") or []) + (data.get("rules") or []):
            _collect(story.get("steps") if isinstance(story, dict) else None, used)
    return used


def _collect(steps, used: dict) -> None:
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        if "intent" in step:
            used["intents"].add(str(step["intent"]).split("/")[0])
        if "action" in step:
            used["actions"].add(str(step["action"]))
        if "active_loop" in step and step["active_loop"]:
            used["actions"].add(str(step["active_loop"]))
        for branch in step.get("or") or []:
            _collect([branch], used)
