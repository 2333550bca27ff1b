"""The test stage: evaluate the held-out NLU split and the test stories, model loaded once.

    python -m pipeline.evaluate      (what `dvc repro` runs; see dvc.yaml)

It runs the two evaluations `rasa test` runs, with the same Rasa functions and the same options
(`--successes`; test stories as end-to-end conversations, `rasa test core --e2e`), into results/,
and then pipeline/metrics.py. `rasa test` loads the model once per evaluation; one load serves both
here, without the throwaway training step Rasa's load traces (pipeline/model_load.py: the same
weights, checked); tests/test_metrics_equal_rasa.py checks every figure against `rasa test` on
three bots.
Rasa writes its JSON reports with keys in varying order; they are rewritten with sorted keys so
identical inputs give identical results/ (and an unchanged dvc.lock).
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pipeline import metrics, model_load, params, paths
from pipeline.params import ParamsError
from pipeline.rasa_start import start_like_the_rasa_command


async def evaluate(model: Path, nlu: Path, stories: str, out: Path, domain: Path) -> None:
    from rasa.core.agent import Agent
    from rasa.core.test import test as test_stories
    from rasa.nlu.test import run_evaluation

    agent = Agent.load(model_path=str(model))
    await test_stories(
        stories, agent, out_directory=str(out), e2e=True, successes=True, errors=True
    )
    await run_evaluation(
        str(nlu),
        agent.processor,
        output_directory=str(out),
        successes=True,
        errors=True,
        domain_path=str(domain),
    )


def sort_report_keys(out: Path) -> None:
    """Rewrites each JSON report in `out` with sorted keys (same content, stable bytes)."""
    for path in sorted(out.glob("*.json")):
        report = json.loads(path.read_text())
        path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=paths.PARAMS)
    parser.add_argument("--model", type=Path, default=paths.MODEL)
    parser.add_argument("--nlu", type=Path, default=paths.NLU_TEST)
    parser.add_argument("--domain", type=Path, default=paths.domain())
    parser.add_argument("--out", type=Path, default=paths.RESULTS)
    args = parser.parse_args(argv)
    try:
        stories = params.load(args.params).test_stories()
    except ParamsError as error:
        return params.fail(error)
    if not Path(stories).exists():
        print(f"ERROR: test.stories '{stories}' does not exist (params.yaml)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    start_like_the_rasa_command()
    model_load.load_without_training_step()
    asyncio.run(evaluate(args.model, args.nlu, stories, args.out, args.domain))
    sort_report_keys(args.out)
    print("\n".join(metrics.summary(metrics.write_all(args.out))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
