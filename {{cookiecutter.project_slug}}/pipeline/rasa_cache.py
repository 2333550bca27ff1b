"""Run a pipeline module while holding Rasa's training cache alone.

    python -m pipeline.rasa_cache pipeline.train      (the train stage; see dvc.yaml)

Rasa keeps the components it trained in .rasa/cache (an SQLite index and one folder per result),
so a run that changes only a policy restores the NLU components instead of training them again.
Every experiment DVC runs shares the project's cache (scripts/bot-python.sh), but Rasa 3.6's cache
is not safe for concurrent writers: a second writer gets SQLite's "database is locked" and its
training stops, and evicting old entries deletes folders another run may be restoring. So trainings
take turns: each holds an exclusive lock beside the cache (released by the system if it dies).
"""

import fcntl
import os
import runpy
import sys
from pathlib import Path

CACHE_DIRECTORY = "RASA_CACHE_DIRECTORY"  # Rasa's own setting (rasa/engine/caching.py)
DEFAULT_CACHE = Path(".rasa/cache")


def lock_path() -> Path:
    cache = Path(os.environ.get(CACHE_DIRECTORY, DEFAULT_CACHE))
    return cache.parent / f"{cache.name}.lock"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or not argv[0].startswith("pipeline."):
        print("ERROR: no module given: run e.g. 'python -m pipeline.rasa_cache pipeline.train'")
        return 2
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Waiting for Rasa's cache: another training holds {path}", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        sys.argv = argv
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)  # its sys.exit ends us
    return 0


if __name__ == "__main__":
    sys.exit(main())
