"""What to run when a check finds a problem, in the words every place that reports it uses:
the check itself, the quality gate's line and the pull-request report."""

STALE_LOCK = (
    "run `make repro`, commit `dvc.lock` and `metrics/`, then `make push` "
    "(`make sync` when main has moved: it merges main first)"
)
