"""Unit tests for the custom actions in actions/actions.py."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from conftest import ROOT
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.actions import ActionTellTime


def empty_tracker() -> Tracker:
    return Tracker.from_dict({"sender_id": "unit-test"})


def run_action(action: ActionTellTime) -> tuple:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, empty_tracker(), domain={})
    return dispatcher.messages, events


@pytest.mark.parametrize(
    "now, text",
    [
        (datetime(2024, 5, 17, 14, 30, tzinfo=timezone.utc), "It is 14:30 UTC."),
        (datetime(2024, 1, 1, 0, 0, tzinfo=timezone.utc), "It is 00:00 UTC."),
        (datetime(2024, 12, 31, 9, 5, 59, tzinfo=timezone.utc), "It is 09:05 UTC."),
    ],
)
def test_tell_time_says_the_clock_time(now, text):
    messages, _ = run_action(ActionTellTime(clock=lambda: now))

    assert [m["text"] for m in messages] == [text]


def test_tell_time_sets_no_slots_and_sends_no_events():
    fixed = datetime(2024, 5, 17, 14, 30, tzinfo=timezone.utc)

    _, events = run_action(ActionTellTime(clock=lambda: fixed))

    assert events == []


def test_tell_time_name_matches_the_domain():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())

    assert ActionTellTime().name() == "action_tell_time"
    assert "action_tell_time" in domain["actions"]


def test_default_clock_is_utc_now():
    before = datetime.now(timezone.utc)
    now = ActionTellTime().clock()
    after = datetime.now(timezone.utc)

    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after


def test_action_server_finds_and_runs_tell_time():
    """The path `rasa run actions` takes: load the package, then answer an action call."""
    executor = ActionExecutor()
    executor.register_package("actions")
    call = {"next_action": "action_tell_time", "tracker": {"sender_id": "unit-test"}, "domain": {}}

    before = datetime.now(timezone.utc)
    response = asyncio.run(executor.run(call))
    after = datetime.now(timezone.utc)

    assert response["events"] == []
    assert [m["text"] for m in response["responses"]] in (
        [f"It is {before:%H:%M} UTC."],
        [f"It is {after:%H:%M} UTC."],
    )
