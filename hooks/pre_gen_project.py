"""Refuse bad answers and missing or too-old tools before cookiecutter writes the project.

Every check returns an error line or None; `main` prints the first error and exits 1.
Standard library only: hooks run in whatever Python runs cookiecutter.

Where the answers land, and what that rules out:
- project_name: the Makefile's first comment (a trailing backslash would swallow the next line),
  a Python docstring in actions/actions.py (backslash escapes, triple quotes), README headings
  (Markdown, where `<` starts raw HTML: an unclosed `<!--` hides the rest of the page), the
  first commit's message (an argument list, never a shell).
- description: a README paragraph.  author_name: LICENSE, `git -c user.name=...`.
- author_email: `git -c user.email=...`.
- project_slug: the folder name, `assistant_id` in config.yml, a Python string in
  scripts/write_config.py, file paths.
- dvc_remote_url: .dvc/config (through `dvc remote add`), a README code span.
So free text may hold quotes, apostrophes, colons, `#` and any letters, but not line breaks or
other control characters, `\\`, `` ` ``, `$`, `<`, `>` or `\"\"\"`. Template files quote answers
for YAML and TOML themselves (`| tojson`).

No answer may hold Jinja markers (a brace followed by a brace, % or #): cookiecutter renders answers given through
--no-input, a config file or extra_context as templates, and cruft does it again on every
update, so such a value would not stay what the user wrote.

Cookiecutter creates the project folder *before* this hook runs and deletes it when the hook
fails, unless the folder existed already (--overwrite-if-exists), which it never deletes. A slug
with `/` is refused here, but the empty parent folders cookiecutter made for it remain: they
cannot be told apart from empty folders the user had, so they are left alone.
There is no hooks/pre_prompt.py: that hook runs before any answer exists, so it could check
the tools only, and the checks below would still be needed for --no-input and replay.
"""

import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SLUG_MAX = 64
BUCKET = r"[a-z0-9][a-z0-9.\-_]{1,220}[a-z0-9]"
REMOTE_URL = {
    "s3": re.compile(rf"^s3://{BUCKET}(/[\w.\-/]*)?$"),
    "gs": re.compile(rf"^gs://{BUCKET}(/[\w.\-/]*)?$"),
    "azure": re.compile(rf"^azure://{BUCKET}(/[\w.\-/]*)?$"),
    "ssh": re.compile(r"^ssh://([\w.\-]+@)?[A-Za-z0-9][A-Za-z0-9.\-]*(:\d{1,5})?/[\w.\-/~]*$"),
}
LOCAL_PATH = re.compile(r"^[\w.\-/+@]+$")
URL_MAX = 1024
REMOTE_EXAMPLE = {
    "local": "a folder outside the project, e.g. ../my-bot-dvc-storage or /srv/dvc/my-bot",
    "s3": "s3://<bucket>/<path>",
    "gs": "gs://<bucket>/<path>",
    "azure": "azure://<container>/<path>",
    "ssh": "ssh://[user@]<host>[:port]/<absolute path>",
    "none": "an empty value",
}
# The choice options of cookiecutter.json (tests check that the two agree). A replay file or
# cruft's .cruft.json can hold any value, so the hook checks them again.
CHOICES = {
    "dvc_remote": ("local", "s3", "gs", "azure", "ssh", "none"),
    "ci_provider": ("github", "none"),
    "cml_runner": ("github-hosted", "aws", "gcp", "azure"),
    "cml_publish_images": ("no", "yes"),
    "license": ("MIT", "Apache-2.0", "Proprietary"),
}
# Free-text answers: (longest allowed, may be empty)
TEXT = {"project_name": (80, False), "description": (300, True), "author_name": (100, False)}
TEXT_FORBIDDEN = ("\\", "`", "$", "<", ">", '"""')
EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
EMAIL_MAX = 254
# Written as pieces: this file is itself rendered by Jinja.
JINJA_MARKERS = tuple("{" + second for second in ("{", "%", "#"))
# Unicode categories that are never text: controls (newlines, tabs, escapes), line and paragraph
# separators, surrogates, private use, unassigned; plus bidirectional overrides, which make
# text display in another order than it is read (Trojan Source), and the byte-order mark.
NOT_TEXT = {"Cc", "Zl", "Zp", "Cs", "Co", "Cn"}
BIDI_AND_BOM = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A)) | {0xFEFF}

# Oldest versions that have what the bake and the baked Makefile use: git 2.28 brought
# `init.defaultBranch`/`git init -b` (the hook points HEAD at main); uv 0.4 has `uv tool run
# --from` (DVC in the post-gen hook), `uv python find` and `uv pip sync` (make install).
TOOLS = {
    "git": ((2, 28), "install git (https://git-scm.com/downloads)"),
    "uv": ((0, 4), "install uv (https://docs.astral.sh/uv/getting-started/installation/)"),
}
UPGRADE = {
    "git": "upgrade git (https://git-scm.com/downloads)",
    "uv": "upgrade uv ('uv self update', or your package manager)",
}
VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
CLOUD_RUNNERS = {"aws", "gcp", "azure"}
SHOWN_MAX = 60


def shown(value):
    """The value as it appears in a one-line message: invisible characters escaped, long cut."""
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in value)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 3] + "..."


def _not_text(value):
    for ch in value:
        if unicodedata.category(ch) in NOT_TEXT or ord(ch) in BIDI_AND_BOM:
            return ch
    return None


def check_answer_is_text(field, value):
    """Every string answer: no line breaks or other control characters, no Jinja markers."""
    bad = _not_text(value)
    if bad is not None:
        what = "line breaks" if bad in "\r\n\u2028\u2029\x85" else "control characters"
        return (
            f"{field} '{shown(value)}': expected one line of text, without {what} (found {bad!r})"
        )
    marker = next((m for m in JINJA_MARKERS if m in value), None)
    if marker:
        return (
            f"{field} '{shown(value)}': expected plain text without template markers "
            f"({marker!r}); cookiecutter and cruft would render it as a template"
        )
    return None


def check_text(field, value, limit, may_be_empty):
    if not value.strip() and not may_be_empty:
        return f"{field} '{shown(value)}': expected a non-empty value"
    if value != value.strip():
        return f"{field} '{shown(value)}': expected no leading or trailing spaces"
    if len(value) > limit:
        return f"{field} '{shown(value)}': expected at most {limit} characters, got {len(value)}"
    found = [s for s in TEXT_FORBIDDEN if s in value]
    if found:
        return (
            f"{field} '{shown(value)}': expected text without {' '.join(found)} "
            "(they are code in the Makefile, Python strings and Markdown the answer lands in)"
        )
    return None


def check_slug(slug):
    if len(slug) > SLUG_MAX or not SLUG.fullmatch(slug):
        hint = " (set project_slug: the project name has no letters or digits to make one)"
        return (
            f"project_slug '{shown(slug)}': expected lowercase letters, digits and single dashes, "
            f"starting with a letter, at most {SLUG_MAX} characters (e.g. 'support-bot')"
            + (hint if not slug else "")
        )
    return None


def check_email(email):
    if len(email) > EMAIL_MAX or not EMAIL.fullmatch(email):
        return f"author_email '{shown(email)}': expected an address like team@example.com"
    return None


def check_choices(answers):
    for option, choices in CHOICES.items():
        if answers.get(option) not in choices:
            value = shown(str(answers.get(option)))
            return f"{option} '{value}': expected one of {', '.join(choices)}"
    return None


def check_remote_url(remote, url):
    expected = REMOTE_EXAMPLE.get(remote)
    if expected is None:
        return f"dvc_remote '{shown(remote)}': expected one of {', '.join(REMOTE_EXAMPLE)}"
    if remote == "none":
        if url == "":
            return None
        return f"dvc_remote_url '{shown(url)}': dvc_remote 'none' expects {expected}"
    if not url or len(url) > URL_MAX or any(ch.isspace() or not ch.isprintable() for ch in url):
        return (
            f"dvc_remote_url '{shown(url)}': expected {expected}, at most {URL_MAX} characters "
            "with no spaces or control characters"
        )
    if remote == "local":
        inside = not (url.startswith(("/", "../")) or url == "..")
        if "://" in url or inside or not LOCAL_PATH.fullmatch(url):
            return (
                f"dvc_remote_url '{shown(url)}': the local remote must be {expected} "
                "(letters, digits, . - _ + @ and /)"
            )
        return None
    if not REMOTE_URL[remote].fullmatch(url):
        return f"dvc_remote_url '{shown(url)}': dvc_remote '{remote}' expects {expected}"
    return None


def check_combination(answers):
    if answers["cml_runner"] in CLOUD_RUNNERS and answers["ci_provider"] != "github":
        return (
            f"cml_runner '{answers['cml_runner']}': cloud runners are launched from GitHub Actions; "
            "choose ci_provider 'github' or cml_runner 'github-hosted'"
        )
    return None


def parse_version(text):
    """(major, minor, patch) from the first x.y[.z] in a `--version` line, None if there is none."""
    match = VERSION.search(text or "")
    if match is None:
        return None
    return tuple(int(part or 0) for part in match.groups())


def tool_version(path):
    try:
        result = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_version(result.stdout)


def check_tools(which=shutil.which, version=tool_version):
    for tool, (minimum, how) in TOOLS.items():
        path = which(tool)
        if path is None:
            return f"'{tool}' not found on PATH: {how}, then bake again"
        found = version(path)
        if found is None:
            return f"'{tool}' ({path}): could not read its version from '{tool} --version'; {how}"
        if found[: len(minimum)] < minimum:
            have = ".".join(map(str, found))
            need = ".".join(map(str, minimum))
            return f"'{tool}' {have} ({path}): expected {need} or newer; {UPGRADE[tool]}"
    return None


def errors(answers, which=shutil.which, version=tool_version):
    checks = [
        lambda key=key: check_answer_is_text(key, answers[key])
        for key in answers
        if not key.startswith("_") and isinstance(answers[key], str)
    ]
    checks += [
        lambda field=field, rule=rule: check_text(field, answers[field], *rule)
        for field, rule in TEXT.items()
    ]
    checks += [
        lambda: check_slug(answers["project_slug"]),
        lambda: check_email(answers["author_email"]),
        lambda: check_choices(answers),
        lambda: check_remote_url(answers["dvc_remote"], answers["dvc_remote_url"]),
        lambda: check_combination(answers),
        lambda: check_tools(which, version),
    ]
    for check in checks:
        error = check()
        if error:
            return [error]
    return []


def note_existing_folder(folder):
    """Cookiecutter made the folder empty; anything in it means --overwrite-if-exists."""
    if any(folder.iterdir()):
        print(
            f"NOTE: {folder} exists: template files are rewritten, other files and the git "
            "history are kept; review the changes with 'git status' and 'git diff'",
            file=sys.stderr,
        )


def main(answers, folder=None):
    found = errors(answers)
    if found:
        print(f"ERROR: {found[0]}", file=sys.stderr)
        sys.exit(1)
    note_existing_folder(Path.cwd() if folder is None else folder)


if __name__ == "__main__":
    main(json.loads(r"""{{ cookiecutter | tojson }}"""))
