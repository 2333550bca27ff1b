"""A stand-in for the `cml` CLI: checks each call against CML 0.20.6's options and records it.

CML cannot be installed here (npm has no @dvcorg/cml), so tests put this recorder on PATH as
`cml` (`install(bin_dir, log)`). Like CML's yargs parser in strict mode, it refuses unknown
commands and options, bad choices and values, and a missing markdown file; like CML, it needs a
token (REPO_TOKEN or GITHUB_TOKEN) to talk to GitHub, and a cloud runner needs that cloud's
credentials. Each accepted call is appended to the log as one JSON line. tests/support/cml-cli.json
lists every command and option, read from CML's source (bin/cml/**/*.js).

With a comments file (`install(..., comments=)`), `comment create`/`update` also play GitHub's
side as CML 0.20.6 does it (src/cml.js, src/drivers/github.js, src/watermark.js): the body is the
report plus CML's watermark line; GitHub refuses a body over 65,536 characters; `update` looks for
its watermark in the pull request's comments as CML lists them, one API page of 30 (oldest
first, no paging), edits the newest match there, and otherwise posts a new comment.
"""

import json
import os
import re
import shlex
import stat
import sys
from pathlib import Path

SPEC = json.loads((Path(__file__).with_name("cml-cli.json")).read_text())
CML_VERSION = "0.20.6"  # the version whose CLI cml-cli.json describes (../shared/cml-cli.json)
TOKENS = ("REPO_TOKEN", "repo_token", "GITHUB_TOKEN")
CLOUD_CREDENTIALS = {
    "aws": [("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")],
    "gcp": [("GOOGLE_APPLICATION_CREDENTIALS_DATA",), ("GOOGLE_APPLICATION_CREDENTIALS",)],
    "azure": [
        ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID")
    ],
}
CREDENTIAL_NAMES = {*TOKENS, *(n for sets in CLOUD_CREDENTIALS.values() for s in sets for n in s)}
TELEMETRY_OFF = "ITERATIVE_DO_NOT_TRACK"
COMMENT_LIMIT = 65536  # characters GitHub accepts in an issue or pull request comment
LIST_PAGE = 30  # comments GitHub returns for CML's unpaged listComments call
WATERMARK_IMAGE = "https://cml.dev/watermark.png"


class Refused(Exception):
    pass


def command_options(command: str) -> dict:
    options = SPEC["commands"][command]["options"]
    if isinstance(options, str):  # "comment update": same as comment create
        options = SPEC["commands"]["comment create"]["options"]
    return {**SPEC["global_options"], **options}


def _names(options: dict) -> dict:
    """Every spelling of every option (name and aliases) -> canonical name."""
    names = {}
    for name, option in options.items():
        names[name] = name
        for alias in [option.get("alias")] if isinstance(option.get("alias"), str) else []:
            names[alias] = name
    return names


def _value(name: str, option: dict, raw: str):
    kind = option.get("type")
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise Refused(f"Invalid value for --{name}: {raw!r} is not a boolean")
        return raw == "true"
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise Refused(f"Invalid value for --{name}: {raw!r} is not a number") from None
    if option.get("choices") and raw not in option["choices"]:
        choices = ", ".join(map(repr, option["choices"]))
        raise Refused(f"Invalid values:\n  Argument: {name}, Given: {raw!r}, Choices: {choices}")
    return raw


def parse(argv: list[str]) -> dict:
    """{'command', 'options', 'positionals'} for a cml command line, or Refused."""
    command = " ".join(argv[:2])
    if command not in SPEC["commands"]:
        raise Refused(f"Unknown command: cml {command or '(none)'}")
    options = command_options(command)
    names = _names(options)
    parsed, positionals = {}, []
    args = iter(argv[2:])
    for arg in args:
        if not arg.startswith("-"):
            positionals.append(arg)
            continue
        key, has_value, raw = arg.lstrip("-").partition("=")
        negated = key not in names and key.startswith("no-") and not has_value
        name = names.get(key[3:] if negated else key)
        if name is None or (negated and options[name].get("type") != "boolean"):
            raise Refused(f"Unknown argument: {key}")
        option = options[name]
        if option.get("type") == "boolean":
            value = (not negated) if not has_value else _value(name, option, raw)
        else:
            if not has_value:
                raw = next(args, None)
                if raw is None or raw.startswith("-"):
                    raise Refused(f"Not enough arguments following: {key}")
            value = _value(name, option, raw)
        if option.get("type") == "array":
            parsed.setdefault(name, []).append(value)
        else:
            parsed[name] = value
    return {"command": command, "options": parsed, "positionals": positionals}


def check_environment(call: dict, env) -> None:
    if not (call["options"].get("driver-token") or any(env.get(token) for token in TOKENS)):
        raise Refused("No token found: set REPO_TOKEN (or GITHUB_TOKEN) or pass --token")
    if call["command"] in ("comment create", "comment update"):
        if len(call["positionals"]) != 1:
            raise Refused(f"{call['command']} takes one markdown file, got {call['positionals']}")
        if not Path(call["positionals"][0]).is_file():
            raise Refused(f"ENOENT: no such file or directory, open '{call['positionals'][0]}'")
        if call["options"].get("publish-native") and env.get("GITHUB_ACTIONS") == "true":
            raise Refused("--publish-native is not available on GitHub")
        if call["options"].get("publish", True):
            check_images(Path(call["positionals"][0]))
    if call["command"] == "runner launch" and call["options"].get("cloud"):
        sets = CLOUD_CREDENTIALS.get(call["options"]["cloud"], [()])
        if not any(all(env.get(name) for name in names) for names in sets):
            wanted = " or ".join("+".join(names) for names in sets)
            raise Refused(f"no credentials for {call['options']['cloud']}: set {wanted}")


def local_images(markdown: Path) -> list[str]:
    """The local images a report embeds: what `--publish` (CML's default) uploads."""
    links = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", markdown.read_text())
    return [link for link in links if "://" not in link]


def check_images(markdown: Path) -> None:
    """CML reads every local image to upload it, relative to the report: a missing one fails."""
    for link in local_images(markdown):
        if not (markdown.parent / link).is_file():
            raise Refused(f"ENOENT: no such file or directory, open '{link}'")


def watermark(title: str, sha: str) -> str:
    """CML's watermark line for a title (its escaping of _ * [ < included)."""
    label = f"CML watermark {title}".strip()
    for char in "_*[<":
        label = label.replace(char, "\\" + char)
    return f'![]({WATERMARK_IMAGE}#{sha} "{label}")'


def has_watermark(body: str, title: str) -> bool:
    line = re.escape(watermark(title, "SHA")).replace("SHA", "[0-9a-fA-F]+")
    return re.search(line, body) is not None


def post_comment(call: dict, env, store: Path) -> str:
    """GitHub's side of `cml comment create/update`: what CML sends, and what GitHub keeps."""
    ref = env.get("GITHUB_REF", "")
    number = re.fullmatch(r"refs/pull/(\d+)/merge", ref)
    target = f"pr/{number[1]}" if number else f"commit/{env.get('GITHUB_SHA', '')}"
    title = call["options"].get("watermark-title", "")
    body = call["markdown"]
    if not call["options"].get("rm-watermark"):
        body = f"{body}\n\n{watermark(title, env.get('GITHUB_SHA') or '0')}"
    if len(body) > COMMENT_LIMIT:
        raise Refused(
            f"HttpError: Validation Failed: body is too long (maximum is {COMMENT_LIMIT} "
            f"characters), got {len(body)}"
        )
    if env.get("CML_RECORDER_API_ERROR"):  # GitHub's API failing, for tests of what follows
        raise Refused(f"HttpError: {env['CML_RECORDER_API_ERROR']}")
    threads = json.loads(store.read_text()) if store.exists() else {}
    comments = threads.setdefault(target, [])
    listed = comments[:LIST_PAGE]
    mine = [c for c in listed if has_watermark(c["body"], title)]
    if call["command"] == "comment update" and mine:
        mine[-1]["body"] = body
        action = f"updated comment {mine[-1]['id']}"
    else:
        comments.append({"id": sum(len(c) for c in threads.values()) + 1, "body": body})
        action = f"created comment {comments[-1]['id']}"
    store.write_text(json.dumps(threads))
    return action


def comments(store: Path, target: str) -> list[dict]:
    """The comments of a target ("pr/<number>") in the store, oldest first."""
    return json.loads(store.read_text()).get(target, []) if store.exists() else []


def main(argv=None, env=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ if env is None else env
    try:
        call = parse(argv)
        check_environment(call, env)
    except Refused as error:
        print(f"cml {shlex.join(argv)}\n\n{error}", file=sys.stderr)
        return 1
    call.update(
        argv=argv,
        cwd=os.getcwd(),
        telemetry_off=env.get(TELEMETRY_OFF) == "true",
        credentials=sorted(name for name in CREDENTIAL_NAMES if env.get(name)),
    )
    if call["command"] in ("comment create", "comment update"):
        call["markdown"] = Path(call["positionals"][0]).read_text()
        if call["options"].get("publish", True):
            call["published"] = local_images(Path(call["positionals"][0]))
        if env.get("CML_RECORDER_COMMENTS"):
            try:
                call["github"] = post_comment(call, env, Path(env["CML_RECORDER_COMMENTS"]))
            except Refused as error:
                print(f"cml {shlex.join(argv)}\n\n{error}", file=sys.stderr)
                return 1
    with open(env["CML_RECORDER_LOG"], "a") as log:
        log.write(json.dumps(call) + "\n")
    print(f"recorded: cml {shlex.join(argv)}")
    return 0


def install(bin_dir: Path, log: Path, comments: Path | None = None) -> Path:
    """Put an executable `cml` in bin_dir that runs this recorder, logging to `log`; with
    `comments`, GitHub's comments are kept there (post_comment)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    cml = bin_dir / "cml"
    store = f"CML_RECORDER_COMMENTS={shlex.quote(str(comments))} " if comments else ""
    cml.write_text(
        "#!/bin/sh\n"
        f"{store}CML_RECORDER_LOG={shlex.quote(str(log))} "
        f'exec {shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__).resolve()))} "$@"\n'
    )
    cml.chmod(cml.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return cml


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


if __name__ == "__main__":
    sys.exit(main())
