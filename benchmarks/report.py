"""The benchmark's report: the headline table judged against goals.py, the per-stage table, and
the machine it ran on, as Markdown (benchmarks/results/latest.md)."""

from goals import GOALS
from samples import components, median, seconds, spread, stages


def verdict(passed):
    return "yes" if passed else "**no**"


def headline(r):
    """One row per measurement: value, goal, met or not."""
    rows = []

    def row(measurement, value, goal=None, value_for_goal=None, met=None):
        if goal is not None and met is None:
            met = GOALS[goal].met(value_for_goal)
        text = GOALS[goal].text if goal else ""
        rows.append(f"| {measurement} | {value} | {text} | {verdict(met) if goal else ''} |")

    bake = median([x.wall for x in r["bake"]])
    row(
        "bake: `cookiecutter --no-input` (hooks: git init, dvc init, first commit)",
        spread(r["bake"]),
        "bake",
        bake,
    )
    if "install_cold" in r:
        row("`make install`, cold (empty uv cache, downloads from PyPI)", spread(r["install_cold"]))
    row("`make install`, warm (uv cache, both environments new)", spread(r["install_warm"]))
    row("`make install`, no-op", spread(r["install_noop"]))
    row(
        "first Rasa import after `make install` (.pyc compiled by the install)",
        spread(r["first_import"]),
    )

    def repro_vs_hand(key, bot):
        """The pipeline's full repro against the hand-run (run.py stops when a figure differs)."""
        full, hand = r[f"{key}repro_full"], r[f"{key}hand"]
        ratio = median([x.wall for x in full]) / median([x.wall for x in hand])
        cpu_ratio = median([x.cpu for x in full]) / median([x.cpu for x in hand])
        row(f"{bot}full `dvc repro` (no dvc.lock, empty DVC cache and `.rasa`)", spread(full))
        row(f"{bot}same work by hand: `rasa train` + `rasa test` (empty `.rasa`)", spread(hand))
        row(
            f"{bot}full repro / by hand",
            f"{ratio:.2f}x (CPU {cpu_ratio:.2f}x); every tracked figure equal to the hand-run's",
            "full_vs_hand_cpu",
            cpu_ratio,
        )

    full = None
    if r.get("repro_full"):
        full = median([x.wall for x in r["repro_full"]])
        repro_vs_hand("", "")
        fresh = (median([x.wall for x in r["install_warm"]]) + full) / 60
        row(
            "fresh clone to metrics: warm `make install` + full `make repro`",
            f"{fresh:.2f} min",
            "fresh_clone_minutes",
            fresh,
        )
    if r.get("repro_noop"):
        noop = median([x.wall for x in r["repro_noop"]])
        row("no-op `dvc repro`", spread(r["repro_noop"]), "noop", noop)
    if r.get("repro_stories"):
        changed = median([x.wall for x in r["repro_stories"]])
        restored, trained = components(r["repro_stories"][-1])
        speedup = full / changed if full else float("nan")
        value = (
            f"{spread(r['repro_stories'])}; {speedup:.2f}x faster than full; Rasa restored "
            f"{len(restored)} components from `.rasa`, trained {len(trained)}"
        )
        row(
            "stories-only change (`data/stories.yml`), `dvc repro`",
            value,
            "stories_speedup",
            speedup,
        )
    if r.get("repro_test_stories"):
        ran = sorted(stages(r["repro_test_stories"][-1]))
        changed = median([x.wall for x in r["repro_test_stories"]])
        by_hand = median([x.wall for x in r["hand_test"]]) if r.get("hand_test") else None
        value = f"{spread(r['repro_test_stories'])}; stages run: {', '.join(ran) or 'none'}"
        met = ran == ["test"]
        if by_hand:
            value += f"; {changed / by_hand:.2f}x a hand-run `rasa test`"
            met = met and GOALS["test_stories_vs_hand"].met(changed / by_hand)
        row(
            "test-stories-only change (`tests/test_stories.yml`), `dvc repro`",
            value,
            "test_stories_vs_hand",
            met=met,
        )
    if r.get("helpdesk_repro_full"):
        repro_vs_hand("helpdesk_", "helpdesk bot (`tests/bots/helpdesk`): ")
    return ["| measurement | value | goal | ok? |", "| --- | --- | --- | --- |", *rows]


def stage_table(r, alone):
    """Wall seconds per stage for each kind of repro, and each command run alone (--breakdown)."""
    lines = [
        (
            "Per stage (wall seconds from DVC's `Running stage` to its lock-file update; "
            "median over runs):"
        ),
        "",
    ]
    columns = [
        ("full repro", "repro_full"),
        ("stories-only", "repro_stories"),
        ("test-stories-only", "repro_test_stories"),
    ]
    columns = [(title, key) for title, key in columns if r.get(key)]
    if not columns:  # --skip-default: the helpdesk bot's stages follow, in one line
        return helpdesk_stages(r)
    per_stage = {key: [stages(x) for x in r[key]] for _, key in columns}
    names = []
    for runs in per_stage.values():
        for stage_times in runs:
            names += [n for n in stage_times if n not in names]
    if alone:
        columns.append(("command alone, no DVC (wall / CPU)", "alone"))
    lines += [
        "| stage | " + " | ".join(t for t, _ in columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for name in names:
        cells = []
        for _, key in columns:
            if key == "alone":
                run = alone.get(name)
                cells.append(f"{seconds(run.wall)} / {seconds(run.cpu)}" if run else "")
                continue
            values = [s[name] for s in per_stage[key] if name in s]
            cells.append(seconds(median(values)) if values else "skipped")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if r.get("repro_full"):
        sums = [sum(stages(x).values()) for x in r["repro_full"]]
        outside = median([x.wall - s for x, s in zip(r["repro_full"], sums, strict=True)])
        totals = [spread(r["repro_full"])] + [""] * (len(columns) - 1)
        if alone:
            totals[-1] = (
                f"{seconds(sum(x.wall for x in alone.values()))} / "
                f"{seconds(sum(x.cpu for x in alone.values()))}"
            )
        lines.append(
            "| DVC outside stages (start, hashing deps, exit) | "
            + seconds(outside)
            + " |" * len(columns)
        )
        lines.append("| **total** | " + " | ".join(totals) + " |")
        lines += [
            "",
            f"By hand: `rasa train` {spread(r['hand_train'])}, "
            f"`rasa test` {spread(r['hand_test'])}.",
        ]
    return lines + helpdesk_stages(r)


def helpdesk_stages(r):
    if not r.get("helpdesk_repro_full"):
        return []
    walls = ", ".join(
        f"{name} {seconds(t)}" for name, t in stages(r["helpdesk_repro_full"][-1]).items()
    )
    return [
        "",
        f"Helpdesk bot, per stage of the last full repro: {walls}; by hand: `rasa train` "
        f"{spread(r['helpdesk_hand_train'])}, `rasa test` {spread(r['helpdesk_hand_test'])}.",
    ]


def machine_table(machine, load_start, load_end, settings, total):
    lines = ["Machine and versions:", "", "| | |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    lines.append(f"| load average (1 min) at start / end | {load_start:.2f} / {load_end:.2f} |")
    lines.append(f"| settings | {settings} |")
    lines.append(f"| benchmark wall time | {total / 60:.1f} min |")
    lines += [
        "",
        (
            "Wall times on a machine whose cores may be shared with other jobs are noisy; "
            "CPU time (user + sys of the process tree) is steadier. Full repro and hand-run "
            "alternate (A-B-B-A) so drifting load hits both."
        ),
    ]
    return lines


def write(runs, alone, machine, settings, load_start, load_end, total):
    lines = [*headline(runs), "", *stage_table(runs, alone), ""]
    lines += machine_table(machine, load_start, load_end, settings, total)
    return "\n".join(lines) + "\n"
