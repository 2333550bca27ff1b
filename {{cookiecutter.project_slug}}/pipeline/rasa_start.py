"""What the `rasa` command does before any of its commands, for scripts that call Rasa directly,
and a quieter output: warnings from Rasa's libraries that say nothing about the bot are hidden,
progress bars only drawn on a terminal. Rasa's own warnings about the bot's data are kept."""

import logging
import os
import sys
import warnings
from pathlib import Path

# Said by a library through Rasa's own code, about the library (matplotlib drawing an empty
# confusion matrix), not about the bot.
LIBRARY_MESSAGES = ("Attempting to set identical",)


def _from_a_library(message, category, filename: str) -> bool:
    """Whether a warning is a library's (or Python's) business rather than the bot's.

    Libraries install their own filters as they are imported (Sanic shows every deprecation
    once, SQLAlchemy and pyparsing warn while imported), so a filter set up front does not hold:
    warnings are sorted where they are shown. Kept: warnings from the project's own code, and
    Rasa's (about the bot's data, config and domain) except deprecations of its dependencies.
    """
    path = Path(filename)
    if "site-packages" not in path.parts:
        # the project's own actions and components, or else the standard library
        # (and `<frozen importlib._bootstrap>`)
        in_project = path.is_absolute() and path.resolve().is_relative_to(Path.cwd().resolve())
        return not in_project
    if path.parts[path.parts.index("site-packages") + 1] != "rasa":
        return True
    if issubclass(category, (DeprecationWarning, PendingDeprecationWarning)):
        return True
    return str(message).startswith(LIBRARY_MESSAGES)


def hide_library_warnings() -> None:
    shown = warnings.showwarning

    def show_unless_from_a_library(message, category, filename, lineno, file=None, line=None):
        if not _from_a_library(message, category, filename):
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show_unless_from_a_library


def progress_bars_only_on_a_terminal() -> None:
    """tqdm's bars, redrawn dozens of times a second, flood a CI log or a file: off there."""
    if sys.stderr.isatty():
        return
    from tqdm import tqdm

    init = tqdm.__init__

    def init_disabled(self, *args, **kwargs):
        kwargs["disable"] = True
        init(self, *args, **kwargs)

    tqdm.__init__ = init_disabled


def start_like_the_rasa_command() -> None:
    """Rasa's logging (INFO, as `rasa train` prints it; its structured log too, without which
    every debug event of a test run is printed), TensorFlow's settings from the environment, and
    the project folder on sys.path so custom components and actions import."""
    hide_library_warnings()  # before Rasa imports them: some warn while imported
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    from rasa.utils.tensorflow import environment as tf_env

    logging.basicConfig(format="%(asctime)s %(levelname)-8s %(name)s  - %(message)s")
    configure_logging_and_warnings(None, None, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(None)
    progress_bars_only_on_a_terminal()
    tf_env.setup_tf_environment()
    tf_env.check_deterministic_ops()
    sys.path.insert(1, os.getcwd())
