"""Custom actions for {{ cookiecutter.project_name }}, served by `rasa run actions`."""

from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ActionTellTime(Action):
    """Tells the current time in UTC."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock

    def name(self) -> Text:
        return "action_tell_time"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        now = self.clock()
        dispatcher.utter_message(text=f"It is {now:%H:%M} UTC.")
        return []
