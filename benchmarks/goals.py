"""The benchmark's goals, as data: what each headline measurement must reach to count as met.
report.py shows each goal's `text` and judges the measured value against its `limit`; change a goal
here, never in the report."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    text: str  # as the report shows it
    limit: float  # the measured value must be at most this (a ratio or seconds)
    kind: str = "at_most"  # or "at_least"

    def met(self, value: float) -> bool:
        return value <= self.limit if self.kind == "at_most" else value >= self.limit


GOALS = {
    "bake": Goal("< 5 s", 5.0),
    # Issue 17: the pipeline costs at most 0.85x the CPU of the same work by hand, numbers equal.
    "full_vs_hand_cpu": Goal("CPU <= 0.85x", 0.85),
    "fresh_clone_minutes": Goal("<= 2.5 min", 2.5),
    "noop": Goal("<= 1.5 s", 1.5),
    "stories_speedup": Goal(">= 2x faster than full", 2.0, "at_least"),
    "test_stories_vs_hand": Goal("only `test` reruns, <= 1.05x `rasa test` by hand", 1.05),
}
