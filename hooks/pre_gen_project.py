"""Refuse bad answers and missing tools before cookiecutter writes the project.

Every check returns an error line or None; `main` prints the first error and exits 1.
Standard library only: hooks run in whatever Python runs cookiecutter.
"""

import json
import re
import shutil
import sys

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SLUG_MAX = 64
BUCKET = r"[a-z0-9][a-z0-9.\-_]{1,220}[a-z0-9]"
REMOTE_URL = {
    "s3": re.compile(rf"^s3://{BUCKET}(/[\w.\-/]*)?$"),
    "gs": re.compile(rf"^gs://{BUCKET}(/[\w.\-/]*)?$"),
    "azure": re.compile(rf"^azure://{BUCKET}(/[\w.\-/]*)?$"),
    "ssh": re.compile(r"^ssh://([\w.\-]+@)?[A-Za-z0-9][A-Za-z0-9.\-]*(:\d{1,5})?/[\w.\-/~]*$"),
}
REMOTE_EXAMPLE = {
    "local": "a folder outside the project, e.g. ../my-bot-dvc-storage or /srv/dvc/my-bot",
    "s3": "s3://<bucket>/<path>",
    "gs": "gs://<bucket>/<path>",
    "azure": "azure://<container>/<path>",
    "ssh": "ssh://[user@]<host>[:port]/<absolute path>",
    "none": "an empty value",
}
TOOLS = {
    "git": "install git (https://git-scm.com/downloads)",
    "uv": "install uv (https://docs.astral.sh/uv/getting-started/installation/)",
}
CLOUD_RUNNERS = {"aws", "gcp", "azure"}


def check_slug(slug):
    if len(slug) > SLUG_MAX or not SLUG.match(slug):
        return (
            f"project_slug '{slug}': expected lowercase letters, digits and single dashes, "
            f"starting with a letter, at most {SLUG_MAX} characters (e.g. 'support-bot')"
        )
    return None


def check_remote_url(remote, url):
    expected = REMOTE_EXAMPLE.get(remote)
    if expected is None:
        return f"dvc_remote '{remote}': expected one of {', '.join(REMOTE_EXAMPLE)}"
    shown = url.encode("unicode_escape").decode()
    if remote == "none":
        return None if url == "" else f"dvc_remote_url '{shown}': dvc_remote 'none' expects {expected}"
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return f"dvc_remote_url '{shown}': expected {expected}, with no spaces or control characters"
    if remote == "local":
        inside = not (url.startswith("/") or url.startswith("../") or url == "..")
        if "://" in url or inside:
            return f"dvc_remote_url '{shown}': the local remote must be {expected}"
        return None
    if not REMOTE_URL[remote].match(url):
        return f"dvc_remote_url '{shown}': dvc_remote '{remote}' expects {expected}"
    return None


def check_combination(answers):
    if answers["cml_runner"] in CLOUD_RUNNERS and answers["ci_provider"] != "github":
        return (
            f"cml_runner '{answers['cml_runner']}': cloud runners are launched from GitHub Actions; "
            "choose ci_provider 'github' or cml_runner 'github-hosted'"
        )
    return None


def check_tools(which=shutil.which):
    for tool, how in TOOLS.items():
        if which(tool) is None:
            return f"'{tool}' not found on PATH: {how}, then bake again"
    return None


def errors(answers, which=shutil.which):
    checks = (
        lambda: check_slug(answers["project_slug"]),
        lambda: check_remote_url(answers["dvc_remote"], answers["dvc_remote_url"]),
        lambda: check_combination(answers),
        lambda: check_tools(which),
    )
    return [e for e in (check() for check in checks) if e]


def main(answers):
    found = errors(answers)
    if found:
        print(f"ERROR: {found[0]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(json.loads(r"""{{ cookiecutter | tojson }}"""))
