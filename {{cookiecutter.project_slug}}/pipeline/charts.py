"""The report's bar charts: F1 per label now, next to the baseline's when there is one."""

from pathlib import Path


def f1_chart(out: Path, title: str, now: dict, before: dict, baseline: str) -> bool:
    """A horizontal bar chart of F1 per label; False (and no file) when there is nothing to draw."""
    if not now:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(now)
    positions = range(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    if before:
        ax.barh(
            [p + 0.2 for p in positions],
            [before.get(n, 0.0) for n in names],
            height=0.4,
            color="#b0b0b0",
            label=baseline,
        )
        ax.barh(
            [p - 0.2 for p in positions],
            [now[n] for n in names],
            height=0.4,
            color="#1f77b4",
            label="this change",
        )
        ax.legend(loc="lower right", fontsize="small")
    else:
        ax.barh(list(positions), [now[n] for n in names], color="#1f77b4")
    ax.set_yticks(list(positions))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 (held-out NLU test set)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True
