"""What the `rasa` command does before any of its commands, for scripts that call Rasa directly."""

import logging
import os
import sys


def start_like_the_rasa_command() -> None:
    """Rasa's logging (INFO, as `rasa train` prints it; its structured log too, without which
    every debug event of a test run is printed), TensorFlow's settings from the environment, and
    the project folder on sys.path so custom components and actions import."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    from rasa.utils.tensorflow import environment as tf_env

    logging.basicConfig(format="%(asctime)s %(levelname)-8s %(name)s  - %(message)s")
    configure_logging_and_warnings(None, None, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(None)
    tf_env.setup_tf_environment()
    tf_env.check_deterministic_ops()
    sys.path.insert(1, os.getcwd())
