"""Custom actions for {{ cookiecutter.project_name }}, served by `rasa run actions`."""

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ActionTellTime(Action):
    """Tells the current time in UTC."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock

    def name(self) -> str:
        return "action_tell_time"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        now = self.clock()
        dispatcher.utter_message(text=f"It is {now:%H:%M} UTC.")
        return []
