"""Every file and folder the pipeline reads or writes, relative to the project root (the working
directory of `dvc repro` and of every make target)."""

from pathlib import Path

PARAMS = Path("params.yaml")
CONFIG = Path("config.yml")
DOMAIN = Path("domain.yml")
DOMAIN_DIR = Path("domain")  # a domain split over several files, which Rasa reads as one
DATA = Path("data")
HAND_WRITTEN_NLU = Path("tests/nlu")
TESTS = Path("tests")
ACTIONS = Path("actions")
BOT_REQUIREMENTS = Path("requirements/bot.in")
BOT_LOCK = Path("requirements/bot.txt")

SPLIT = Path("split")
NLU_TRAIN = SPLIT / "train.yml"
NLU_TEST = SPLIT / "test.yml"

MODELS = Path("models")
MODEL = MODELS / "model.tar.gz"
MERGED_CONFIG = MODELS / "config.yml"

RESULTS = Path("results")
CONFUSION_MATRIX = RESULTS / "intent_confusion_matrix.png"

METRICS = Path("metrics")
NLU_METRICS = METRICS / "nlu.json"
ENTITY_METRICS = METRICS / "entities.json"
RESPONSE_METRICS = METRICS / "responses.json"
CORE_METRICS = METRICS / "core.json"

PLOTS = Path("plots")
INTENT_CONFUSION = PLOTS / "intent_confusion.csv"
INTENT_F1 = PLOTS / "intent_f1.csv"
ENTITY_F1 = PLOTS / "entity_f1.csv"

EVALUATION = Path("evaluation")
VALIDATION = EVALUATION / "validation.json"
FAILED_STORIES = EVALUATION / "failed_stories.json"
# Per-label figures, versioned with each commit but not DVC metrics (DVC's views stay readable).
INTENT_LABELS = EVALUATION / "intents.json"
ENTITY_LABELS = EVALUATION / "entities.json"
RESPONSE_LABELS = EVALUATION / "responses.json"

DVC_YAML = Path("dvc.yaml")
DVC_LOCK = Path("dvc.lock")
REPORT = Path("report.md")


def domain() -> Path:
    """The domain Rasa reads: the domain/ folder when the project has one, else domain.yml."""
    return DOMAIN_DIR if DOMAIN_DIR.is_dir() else DOMAIN
