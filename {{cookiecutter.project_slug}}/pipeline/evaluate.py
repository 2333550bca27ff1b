"""The test stage: evaluate the held-out NLU split and the test stories, model loaded once.

    python -m pipeline.evaluate      (what `dvc repro` runs; see dvc.yaml)

It runs the two evaluations `rasa test` runs, with the same Rasa functions and the same options
(`--successes`; test stories as end-to-end conversations), into results/, and then
pipeline/metrics.py. `rasa test` loads the model once per evaluation; one load serves both here, and
the load skips tracing a training step whose result it throws away (build_models_eagerly).
"""

import argparse
import asyncio
import sys
from pathlib import Path

from pipeline import metrics, params, paths
from pipeline.params import ParamsError
from pipeline.rasa_start import start_like_the_rasa_command


def build_models_eagerly() -> None:
    """Make Rasa's model loading cheaper without changing a prediction.

    To give a TensorFlow model (DIET, TED, ResponseSelector) weights of the right shapes, Rasa's
    load trains it one step on one example, then loads the trained weights over the result.
    Traced into a graph, that throwaway step is most of a load (~15 s CPU per model on 2 cores);
    run eagerly it takes well under a second. Each model goes back to its configured mode right
    after its weights are loaded, so predictions run traced, as in `rasa test`: the same
    predictions and confidences.
    """
    from rasa.utils.tensorflow.models import RasaModel

    compile_model, load_weights = RasaModel.compile, RasaModel.load_weights

    def compile_eagerly(model, *args, run_eagerly=None, **kwargs):
        model.configured_run_eagerly = run_eagerly
        compile_model(model, *args, run_eagerly=True, **kwargs)

    def load_weights_then_restore_mode(model, *args, **kwargs):
        loaded = load_weights(model, *args, **kwargs)
        model.run_eagerly = model.configured_run_eagerly
        return loaded

    RasaModel.compile = compile_eagerly
    RasaModel.load_weights = load_weights_then_restore_mode


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
    build_models_eagerly()
    asyncio.run(evaluate(args.model, args.nlu, stories, args.out, args.domain))
    print("\n".join(metrics.summary(metrics.write_all(args.out))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
