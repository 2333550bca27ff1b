"""The report's charts: F1 per label now, next to the baseline's when there is one, and the
headline metrics over time. Labels come from the bot's data and are drawn as plain text (an
intent named `$x$` is not read as math)."""

from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plain(legend) -> None:
    for text in legend.get_texts():
        text.set_parse_math(False)


def f1_chart(out: Path, title: str, now: dict, before: dict, baseline: str) -> bool:
    """A horizontal bar chart of F1 per label; False (and no file) when there is nothing to draw."""
    if not now:
        return False
    plt = _pyplot()
    names = sorted(now)
    positions = range(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.6))
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
        # Above the plot, outside the axes: it can cover no bar.
        _plain(ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize="small"))
    else:
        ax.barh(list(positions), [now[n] for n in names], color="#1f77b4")
    ax.set_yticks(list(positions))
    ax.set_yticklabels(names, parse_math=False)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 (held-out NLU test set)")
    ax.set_title(title, pad=24 if before else 6, parse_math=False)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True


def trend_chart(out: Path, title: str, labels: list[str], lines: dict) -> None:
    """One line per figure over `labels` (commits, oldest first). `lines` maps a figure's name
    to (its values per commit, this change's value or None): this change, when given, is the
    last label and is drawn as a dashed step from the last commit."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for name, (values, pending) in lines.items():
        xs = [i for i, v in enumerate(values) if v is not None]
        line = ax.plot(xs, [values[i] for i in xs], marker="o", label=name)[0]
        if pending is not None and xs:
            step = [xs[-1], len(values)], [values[xs[-1]], pending]
            ax.plot(*step, linestyle="--", color=line.get_color())
        if pending is not None:
            ax.plot([len(values)], [pending], marker="*", markersize=12, color=line.get_color())
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize="small", parse_math=False)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("score")
    ax.grid(axis="y", alpha=0.3)
    _plain(ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize="small"))
    ax.set_title(title, pad=28, parse_math=False)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
