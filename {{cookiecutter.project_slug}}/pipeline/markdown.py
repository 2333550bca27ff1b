"""Markdown for text a pull request or the bot's data controls, and caps that keep a report
inside GitHub's limits.

Every intent, entity, response, story name, validation warning, example text and parameter
value goes through text() or code() before it enters the report: it then shows exactly as
written and cannot become a mention, raw HTML, a link or an image (with `--publish`, CML
uploads every local file a link or an image points at), a heading or an extra table column.
"""

import re

COMMENT_LIMIT = 65_536  # characters GitHub accepts in an issue or pull-request comment
SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub accepts in one step's job summary
MAX_ROWS = 15  # rows a capped table shows; the full report has them all

# ASCII punctuation that can start markup anywhere in a line (CommonMark lets any of it be
# backslash-escaped), and `_` unless it is between two letters or digits, where it can neither
# open nor close emphasis (`weighted_f1` stays as it reads); `|` is left to table(), which
# escapes it in every cell, and `@` is apart.
_SPECIAL = re.compile(r"[\\`*\[\]<>&#~$]|_(?![^\W_])|(?<![^\W_])_")
# What starts a list item, a heading underline or a quote at the start of a line.
_LEADING = re.compile(r"^(\d+)([.)])|^([-+=])")
_MENTION = "@\u200b"  # a zero-width space after @: GitHub links no user, the text reads the same


def _one_line(value) -> str:
    return " ".join(str(value).split())


def text(value) -> str:
    """Plain text for a paragraph, a list item, a heading or a table cell, shown as written."""
    escaped = _SPECIAL.sub(r"\\\g<0>", _one_line(value)).replace("@", _MENTION)
    return _LEADING.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escaped)


def code(value) -> str:
    """A code span holding any text, backticks included, on one line."""
    content = _one_line(value)
    if not content:
        return text("(empty)")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", content)), default=0) + 1)
    if content[0] in "` " or content[-1] in "` ":
        content = f" {content} "
    return f"{fence}{content}{fence}"


def cell(markdown: str) -> str:
    """Markdown (from text(), code() or ours) made safe as one table cell."""
    return markdown.replace("\n", " ").replace("|", "\\|")


def table(header: list[str], rows: list[list], limit: int | None = MAX_ROWS) -> str:
    """A table of Markdown cells; past `limit` rows, a line says how many were left out."""
    shown = rows if limit is None else rows[:limit]
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(str(c)) for c in row) + " |" for row in shown]
    if len(rows) > len(shown):
        lines.append(f"\n{left_out(len(rows) - len(shown), 'rows')}")
    return "\n".join(lines)


def bullets(items: list[str], limit: int | None = MAX_ROWS * 2) -> str:
    """A list of Markdown items (escape them first); past `limit`, a line says how many more."""
    shown = items if limit is None else items[:limit]
    lines = ["- " + item.replace("\n", " ") for item in shown]
    if len(items) > len(shown):
        lines.append(f"\n{left_out(len(items) - len(shown), 'items')}")
    return "\n".join(lines)


def left_out(count: int, what: str) -> str:
    return (
        f"_{count} more {what} left out here: the full report is `report/full.md` in the "
        "run's `model-report` artifact._"
    )


def fenced(content: str, info: str = "") -> str:
    """A fenced code block holding any text (its fence is longer than any backtick run in it)."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{content}\n{fence}"
