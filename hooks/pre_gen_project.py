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
  pipeline/rasa_config.py, file paths.
- dvc_remote_url: .dvc/config (through `dvc remote add`), a README code span.
So free text may hold quotes, apostrophes, colons, `#` and any letters, but not line breaks or
other control characters, `\\`, `` ` ``, `$`, `<`, `>` or `\"\"\"`. In YAML, free text lands in
comments only; the slug is the one answer in YAML values (config.yml quotes the slugs YAML reads as
null or a boolean, docker-compose.yml writes it through `tojson`).

The facts of each DVC remote type (the URL it expects, its DVC extra, its CI secrets) come from
the `_remotes` table of cookiecutter.json, through the answers: cookiecutter passes `_` keys
unrendered, and cruft drops them from .cruft.json, so an update always reads the new template's.

No answer may hold Jinja markers (a brace followed by a brace, % or #): cookiecutter renders
answers given through --no-input, a config file or extra_context as templates, and cruft does it
again on every update, so such a value would not stay what the user wrote.

Cookiecutter creates the project folder *before* this hook runs and deletes it when the hook
fails, unless the folder existed already (--overwrite-if-exists), which it never deletes. A slug
with `/` is refused here, but the empty parent folders cookiecutter made for it remain: they
cannot be told apart from empty folders the user had, so they are left alone.
There is no hooks/pre_prompt.py: that hook runs before any answer exists, so it could check
the tools only, and the checks below would still be needed for --no-input and replay.
"""

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SLUG_MAX = 64
# What cookiecutter.json makes of a name with no letters or digits: an empty slug would name the
# output folder itself, which cookiecutter refuses ("directory already exists") before this hook.
NO_SLUG = "(none)"
# scheme://<bucket>[/<path>]; the bucket is checked against its provider's naming rules below.
CLOUD_URL = re.compile(r"^(?P<scheme>s3|gs|azure)://(?P<bucket>[^/]*)(?P<path>/[\w.\-/]*)?$")
# Naming rules of each provider (AWS "General purpose bucket naming rules", Google Cloud Storage
# "Bucket names", Azure "Naming and referencing containers"). S3 keeps `_` for buckets made
# before 2018 in us-east-1, which are still in use.
BUCKET_RULES = {
    "s3": re.compile(r"^(?!xn--|sthree-|amzn-s3-demo-)[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$"),
    "gs": re.compile(r"^(?!goog)[a-z0-9][a-z0-9.\-_]{1,220}[a-z0-9]$"),
    "azure": re.compile(r"^[a-z0-9](?!.*--)[a-z0-9\-]{1,61}[a-z0-9]$"),
}
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# ssh://[user@]host[:port]/path, the host a name or an IPv6 address in brackets.
SSH_URL = re.compile(
    r"^ssh://([\w.\-]+@)?(?P<host>[A-Za-z0-9][A-Za-z0-9.\-]*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?"
    r"/[\w.\-/~]*$"
)
LOCAL_PATH = re.compile(r"^[\w.\-/+@]+$")
URL_MAX = 1024
# The choice options of cookiecutter.json. A replay file or cruft's .cruft.json can hold any
# value, so the hook checks them again. They are written here rather than read from
# cookiecutter.json because a hook has no reliable way to find that file: it runs as a rendered
# copy in a temporary folder, from the new project's folder. cookiecutter 2.7 gives the hook the
# template's folder as `_repo_dir` (a local path, the clone under ~/.cookiecutters for a git URL,
# the unzipped copy for a zip, and again with --replay) and the original lists as
# `_cookiecutter` (not with --replay: it holds the replayed answers then), but cruft 2.16 renders
# it with neither on `cruft create`, `update` and `diff` (only `_template`, the URL, and
# `_commit`; tried on create and update, and diff renders as update does). tests/test_pre_gen.py
# fails when the two disagree.
CHOICES = {
    "dvc_remote": ("local", "s3", "gs", "azure", "ssh", "none"),
    "ci_provider": ("github", "none"),
    "cml_runner": ("github-hosted", "aws", "gcp", "azure"),
    "cml_publish_images": ("no", "yes"),
    "license": ("MIT", "Apache-2.0", "Proprietary"),
}
# Private keys steer how cookiecutter renders; a replay file could change them (copy every file
# unrendered, load extensions). The template's own values, which tests compare with
# cookiecutter.json, and the keys it never sets.
PRIVATE = {"_copy_without_render": ["*requirements/*.txt"]}
PRIVATE_UNSET = ("_extensions", "_jinja2_env_vars", "_new_lines")
# The template's tables of facts, read by the hooks and the template files: checked for their
# shape only (a replay file written before they existed lacks them).
REMOTE_FIELDS = {
    "example": str,
    "default_url": str,
    "dvc_extra": str,
    "secrets": list,
    "dvc_env": list,
}
RUNNER_FIELDS = {"cloud_name": str, "secrets": list}
DVC_VERSION = re.compile(r"^\d+(\.\d+)+$")
# Free-text answers: (longest allowed, may be empty)
TEXT = {"project_name": (80, False), "description": (300, True), "author_name": (100, False)}
TEXT_FORBIDDEN = ("\\", "`", "$", "<", ">", '"""')
EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
EMAIL_MAX = 254
# Written as pieces: this file is itself rendered by Jinja.
JINJA_MARKERS = tuple("{" + second for second in ("{", "%", "#"))
# Unicode categories that are never text: controls (newlines, tabs, escapes), line and paragraph
# separators, surrogates, private use, unassigned, and format characters: invisible ones such as
# zero-width spaces, word joiners, tag characters, the byte-order mark and the bidirectional
# controls that make text display in another order than it is read (Trojan Source).
NOT_TEXT = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}

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
        if unicodedata.category(ch) in NOT_TEXT:
            return ch
    return None


def check_answer_is_text(field, value):
    """Every string answer: no line breaks or other control characters, no Jinja markers."""
    bad = _not_text(value)
    if bad is not None:
        what = (
            "line breaks"
            if bad in "\r\n\u2028\u2029\x85"
            else "control characters or invisible formatting characters"
        )
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


def check_types(answers):
    """Every answer the template asks for is text (a replay file can hold numbers, lists, null)."""
    for key in (*TEXT, "project_slug", "author_email", "dvc_remote_url", *CHOICES):
        value = answers.get(key)
        if not isinstance(value, str):
            return (
                f"{key} {shown(json.dumps(value))}: expected text, got "
                f"{'nothing' if value is None else type(value).__name__} (check the replay file "
                "or --config-file)"
            )
    return None


def check_private(answers):
    for key, value in PRIVATE.items():
        if answers.get(key) != value:
            return (
                f"{key} {shown(json.dumps(answers.get(key)))}: expected the template's own "
                f"{json.dumps(value)}; remove it from the replay file or extra context"
            )
    found = next((key for key in PRIVATE_UNSET if key in answers), None)
    if found:
        return f"{found}: not set by this template; remove it from the replay file or extra context"
    return check_tables(answers)


def _has_fields(facts, fields):
    return isinstance(facts, dict) and all(
        isinstance(facts.get(field), kind)
        and (kind is str or all(isinstance(item, str) for item in facts[field]))
        for field, kind in fields.items()
    )


def _is_table(table, choices, fields):
    return (
        isinstance(table, dict)
        and set(table) == set(choices)
        and all(_has_fields(facts, fields) for facts in table.values())
    )


def check_tables(answers):
    tables = [
        ("_remotes", "DVC remote types", CHOICES["dvc_remote"], REMOTE_FIELDS),
        ("_runners", "CML runners", CHOICES["cml_runner"], RUNNER_FIELDS),
    ]
    for key, what, choices, fields in tables:
        if not _is_table(answers.get(key), choices, fields):
            return (
                f"{key}: expected the template's table of {what} (cookiecutter.json); "
                "remove it from the replay file or extra context"
            )
    version = answers.get("_dvc_version")
    if not isinstance(version, str) or not DVC_VERSION.fullmatch(version):
        return (
            f"_dvc_version {shown(json.dumps(version))}: expected the template's DVC version "
            "(cookiecutter.json); remove it from the replay file or extra context"
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
            + (hint if slug in ("", NO_SLUG) else "")
        )
    return None


def check_author_name(name):
    """git refuses a name with nothing but punctuation and spaces ("disallowed characters")."""
    if name.strip() and not any(ch.isalnum() for ch in name):
        return f"author_name '{shown(name)}': expected a name with at least one letter or digit"
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


def check_remote_url(remote, url, expected, project=None):
    """`expected`: the remote type's example from the `_remotes` table (a known type: check_choices
    ran first)."""
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
        return check_local_remote(url, expected, Path.cwd() if project is None else project)
    # None: the URL is fine; otherwise what is wrong with it ("" when its form is)
    problem = ssh_problem(url) if remote == "ssh" else cloud_problem(remote, url)
    if problem is not None:
        return f"dvc_remote_url '{shown(url)}': dvc_remote '{remote}' expects {expected}{problem}"
    return None


def check_local_remote(url, expected, project):
    """A folder outside the project, decided on resolved paths: `../<slug>` is the project itself,
    `../<slug>/.dvc/cache` its own cache, and a symlink may lead back into it."""
    relative_outside = url.startswith("../") or url == ".."
    if (
        "://" in url
        or not LOCAL_PATH.fullmatch(url)
        or not (url.startswith("/") or relative_outside)
    ):
        return (
            f"dvc_remote_url '{shown(url)}': the local remote must be {expected} "
            "(letters, digits, . - _ + @ and /)"
        )
    project = Path(os.path.realpath(project))
    target = Path(os.path.realpath(project / url))
    if target == project or project in target.parents:
        return (
            f"dvc_remote_url '{shown(url)}': the local remote must be {expected}; "
            f"it resolves to {shown(str(target))}, inside the project"
        )
    return None


def ssh_problem(url):
    match = SSH_URL.fullmatch(url)
    if match is None:
        return ""
    host = match["host"]
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f" ('{shown(host)}' is not an IPv6 address)"
    return None


def cloud_problem(remote, url):
    """'' when the URL has the wrong form, a reason when the bucket breaks a naming rule."""
    match = CLOUD_URL.fullmatch(url)
    if match is None or match["scheme"] != remote:
        return ""
    bucket = match["bucket"]
    if not BUCKET_RULES[remote].fullmatch(bucket):
        return f" (bucket '{shown(bucket)}' breaks the provider's naming rules)"
    if ".." in bucket or _is_ip_address(bucket):
        return f" (bucket '{shown(bucket)}': no '..', not an IP address)"
    if remote == "s3" and bucket.endswith(S3_RESERVED_SUFFIXES):
        return f" (bucket '{shown(bucket)}' ends with a suffix AWS reserves)"
    return None


def _is_ip_address(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_combination(answers):
    if answers["cml_runner"] in CLOUD_RUNNERS and answers["ci_provider"] != "github":
        return (
            f"cml_runner '{answers['cml_runner']}': cloud runners are launched from GitHub "
            "Actions; choose ci_provider 'github' or cml_runner 'github-hosted'"
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


def checks(answers, which, version):
    """Each check's result in order. A generator: a check runs only once every check before it
    passed, so later ones may rely on text answers, known choices and the template's tables."""
    yield check_types(answers)
    yield check_private(answers)
    for key, value in answers.items():
        if not key.startswith("_") and isinstance(value, str):
            yield check_answer_is_text(key, value)
    for field, rule in TEXT.items():
        yield check_text(field, answers[field], *rule)
    yield check_slug(answers["project_slug"])
    yield check_author_name(answers["author_name"])
    yield check_email(answers["author_email"])
    yield check_choices(answers)
    remote = answers["dvc_remote"]
    yield check_remote_url(
        remote, answers["dvc_remote_url"], answers["_remotes"][remote]["example"]
    )
    yield check_combination(answers)
    yield check_tools(which, version)


def first_error(answers, which=shutil.which, version=tool_version):
    """The first problem with the answers or the tools, None when there is none."""
    return next((error for error in checks(answers, which, version) if error), None)


def note_existing_folder(folder):
    """Cookiecutter made the folder empty; anything in it means --overwrite-if-exists."""
    if any(folder.iterdir()):
        print(
            f"NOTE: {folder} exists: template files are rewritten, other files and the git "
            "history are kept; review the changes with 'git status' and 'git diff'",
            file=sys.stderr,
        )


def main(answers, folder=None):
    error = first_error(answers)
    if error:
        print(f"ERROR: {error}", file=sys.stderr)
        sys.exit(1)
    note_existing_folder(Path.cwd() if folder is None else folder)


if __name__ == "__main__":
    main(json.loads(r"""{{ cookiecutter | tojson }}"""))
