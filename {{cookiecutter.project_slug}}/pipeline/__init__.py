"""The assistant's DVC pipeline and its reports, one module per job.

Stages (dvc.yaml runs them as `python -m pipeline.<stage>` with the bot environment):
    split      hold out the NLU test set                       split/train.yml, split/test.yml
    train      params.yaml over config.yml, validate, train    models/, evaluation/validation.json
    evaluate   `rasa test`'s two evaluations, then metrics      results/, metrics/, plots/

Around them: report (report.md, what CI posts), gate (the quality gate), check_lock (is dvc.lock
this commit's?), compare (a baseline's files against the workspace's), charts, rasa_config
(`make adopt-config`), serve (helpers of scripts/serve.sh), sweep (`make sweep`: DVC experiments
queued and compared), rasa_cache (trainings take turns on Rasa's cache). Every file path is in
`paths`, and params.yaml is read through `params` only.
"""
