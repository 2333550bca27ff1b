"""`make adopt`'s components: the ones of the bot's config.yml this machine cannot run (a
service that does not answer, a package or model that is not installed), removed with the ones
that need them unless --keep names them."""

import importlib.util
import socket
from pathlib import Path
from urllib.parse import urlparse

from pipeline.adopt_report import Report

# Components that fall with the one that loads their model.
FAMILIES = {
    "SpacyNLP": {"SpacyTokenizer", "SpacyFeaturizer", "SpacyEntityExtractor"},
    "MitieNLP": {
        "MitieTokenizer",
        "MitieFeaturizer",
        "MitieEntityExtractor",
        "MitieIntentClassifier",
    },
}


def answers(url: str) -> bool:
    where = urlparse(url)
    try:
        with socket.create_connection((where.hostname, where.port or 80), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_here(component: dict) -> str | None:
    """Why this machine cannot run the component, or None."""
    name = component["name"]
    if name == "DucklingEntityExtractor":
        url = component.get("url")
        if not url:
            return "needs a Duckling server, and its `url` is not set"
        return None if answers(url) else f"needs a Duckling server at {url}, which does not answer"
    if name == "SpacyNLP":
        model = component.get("model")
        if not installed("spacy"):
            return f"needs the spaCy package and its model {model}, which are not installed"
        if model and not installed(model):
            return f"needs the spaCy model {model} (python -m spacy download {model})"
    if name == "MitieNLP":
        model = component.get("model", "")
        if not installed("mitie") or not Path(model).is_file():
            return f"needs the mitie package and its model file {model or '(not set)'}"
    if name == "LanguageModelFeaturizer" and not installed("transformers"):
        weights = component.get("model_weights") or component.get("model_name", "bert")
        return f"needs the transformers package and downloads {weights} from Hugging Face"
    if name == "ConveRTFeaturizer" and not Path(str(component.get("model_url"))).exists():
        return f"downloads the ConveRT model from {component.get('model_url')}"
    if name == "JiebaTokenizer" and not installed("jieba"):
        return "needs the jieba package"
    return None


def drop_unavailable(config, keep: set[str], bot: Path, report: Report) -> None:
    """Removes the components this machine cannot run (and the ones that need them)."""
    for section in ("pipeline", "policies"):
        entries = config.get(section) or []
        for entry in list(entries):
            why = missing_here(entry)
            if not why:
                continue
            name = entry["name"]
            if name in keep:
                report.check.append(f"{name} {why}: kept (KEEP); set it up before make repro")
                continue
            fallen = {name} | FAMILIES.get(name, set())
            names = [e["name"] for e in entries if e["name"] in fallen]
            tokenizer_gone = any(n.endswith("Tokenizer") for n in names)
            at = next(i for i, e in enumerate(entries) if e["name"] in fallen)
            for i in reversed(range(len(entries))):
                if entries[i]["name"] in fallen:
                    drop_comment_above(entries, i)
                    del entries[i]
            if tokenizer_gone and not any(e["name"].endswith("Tokenizer") for e in entries):
                entries.insert(at, {"name": "WhitespaceTokenizer"})
                names.append("(WhitespaceTokenizer in its place)")
            whose = f"{name} " if len(names) > 1 else ""
            report.did.append(
                f"config.yml: removed {', '.join(names)} ({whose}{why}; "
                f"to keep it: make adopt BOT={bot} KEEP={name})"
            )
            report.check.append(
                f"without {name} the bot understands less than it did: compare the metrics "
                "with your own, or keep it once the machine has what it needs"
            )


def drop_comment_above(entries, index: int) -> None:
    """Removes the comment lines written above entries[index] (ruamel keeps them with the entry
    before it), so a removed component leaves no comment about itself behind."""
    if index == 0:
        return
    previous = entries[index - 1]
    tokens = previous.ca.items.get(list(previous)[-1]) if hasattr(previous, "ca") else None
    if tokens and len(tokens) > 2 and tokens[2] is not None:
        first, *rest = tokens[2].value.split("\n")
        tokens[2].value = "\n".join([first, *(line for line in rest if not line.strip())])
