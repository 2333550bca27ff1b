"""Write Rasa's config.yml from the `train` section of params.yaml.

params.yaml is the single source of the hyperparameters; this keeps config.yml,
which Rasa reads, from drifting away from it. Change components here.
"""

import sys
from pathlib import Path

import yaml

ASSISTANT_ID = "{{ cookiecutter.project_slug }}"

HEADER = (
    "# Written by scripts/write_config.py from params.yaml (the `config` stage of dvc.yaml).\n"
    "# Edit params.yaml or the script, not this file: `dvc repro` rewrites it.\n"
)


def rasa_config(params: dict, assistant_id: str) -> dict:
    train = params["train"]
    seed = train["random_seed"]
    return {
        "recipe": "default.v1",
        "assistant_id": assistant_id,
        "language": "en",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "RegexFeaturizer"},
            {"name": "LexicalSyntacticFeaturizer"},
            {"name": "CountVectorsFeaturizer"},
            {
                "name": "CountVectorsFeaturizer",
                "analyzer": "char_wb",
                "min_ngram": 1,
                "max_ngram": 4,
            },
            {
                "name": "DIETClassifier",
                "epochs": train["diet_epochs"],
                "random_seed": seed,
                "constrain_similarities": True,
            },
            {"name": "EntitySynonymMapper"},
            {
                "name": "FallbackClassifier",
                "threshold": train["fallback_threshold"],
                "ambiguity_threshold": train["ambiguity_threshold"],
            },
        ],
        "policies": [
            {"name": "MemoizationPolicy"},
            {"name": "RulePolicy"},
            {
                "name": "TEDPolicy",
                "max_history": train["ted_max_history"],
                "epochs": train["ted_epochs"],
                "random_seed": seed,
                "constrain_similarities": True,
            },
        ],
    }


def main(params_path: str = "params.yaml", out_path: str = "config.yml") -> None:
    params = yaml.safe_load(Path(params_path).read_text())
    config = rasa_config(params, assistant_id=ASSISTANT_ID)
    body = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    Path(out_path).write_text(HEADER + body)


if __name__ == "__main__":
    main(*sys.argv[1:])
