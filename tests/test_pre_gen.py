"""The pre-gen hook: its checks as functions, and real bakes it must refuse with one clear line.

The hook file imports as it is in the template (its only Jinja sits under `__main__`).
"""

import pytest

from support import COOKIECUTTER_JSON, DEFAULTS, load_hook
from support.cli import (
    REAL,
    canaries,
    cli_answers,
    cookiecutter,
    first_error,
    tool_dir,
    tree,
)
from support.remote_facts import example

hook = load_hook("pre_gen_project")


def answers(**changes):
    return DEFAULTS | changes


def real_tools(tool):
    return REAL[tool]


def offline_errors(**changes):
    """The first error (as a list of at most one) with the real tools found, so only the answers
    decide."""
    error = hook.first_error(answers(**changes), which=real_tools, version=hook.tool_version)
    return [error] if error else []


# --- functions -------------------------------------------------------------------------------


def test_hook_choices_match_cookiecutter_json():
    choices = {
        key: tuple(value)
        for key, value in COOKIECUTTER_JSON.items()
        if isinstance(value, list) and not key.startswith("_")
    }
    assert choices == hook.CHOICES, "update CHOICES in hooks/pre_gen_project.py"


def test_every_answer_has_a_rule():
    """A new text option must get a rule for where it lands, not just the generic check."""
    text_options = {
        key
        for key, value in COOKIECUTTER_JSON.items()
        if isinstance(value, str) and not key.startswith("_")
    }
    ruled = set(hook.TEXT) | {"project_slug", "author_email", "dvc_remote_url"}
    assert text_options == ruled


def test_defaults_pass():
    assert offline_errors() == []


@pytest.mark.parametrize("slug", ["a", "bot", "support-bot-2", "x" * 64, "a1-b2-c3"])
def test_good_slugs(slug):
    assert hook.check_slug(slug) is None


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Bot",
        "1bot",
        "-bot",
        "bot-",
        "bot--x",
        "bot_x",
        "../evil",
        "/tmp/x",
        "a/b",
        "..",
        ".",
        "bot x",
        "bot;rm",
        "bot\n",
        "x" * 65,
        "café",
    ],
)
def test_bad_slugs(slug):
    error = hook.check_slug(slug)
    assert error.startswith("project_slug '")
    assert "\n" not in error


def test_empty_slug_says_to_set_it():
    assert "set project_slug" in hook.check_slug("")
    assert "set project_slug" in hook.check_slug(hook.NO_SLUG)


def test_a_name_without_letters_gets_the_no_slug_marker():
    """cookiecutter.json falls back to NO_SLUG, which the hook knows (no empty slug reaches it)."""
    assert f"or '{hook.NO_SLUG}'" in COOKIECUTTER_JSON["project_slug"]
    assert hook.SLUG.fullmatch(hook.NO_SLUG) is None


@pytest.mark.parametrize(
    "url",
    [
        "../{slug}",
        "../{slug}/.dvc/cache",
        "../{slug}/storage",
        "{project}",
        "{project}/x",
        "../link",
    ],
)
def test_local_remote_inside_the_project_once_resolved(tmp_path, url):
    project = tmp_path / "bot"
    project.mkdir()
    (tmp_path / "link").symlink_to(project)
    error = hook.check_remote_url(
        "local", url.format(slug="bot", project=project), example("local"), project
    )
    assert error and error.startswith("dvc_remote_url '") and "inside the project" in error


@pytest.mark.parametrize("url", ["..", "../bot-dvc-storage", "../bot-x", "{out}/storage"])
def test_local_remote_beside_the_project(tmp_path, url):
    project = tmp_path / "bot"
    project.mkdir()
    assert (
        hook.check_remote_url("local", url.format(out=tmp_path), example("local"), project) is None
    )


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("local", "../bot-dvc-storage"),
        ("local", "/srv/dvc/bot"),
        ("local", ".."),
        ("s3", "s3://my-bucket/dvc/storage"),
        ("s3", "s3://my.bucket_1"),
        ("gs", "gs://bucket-1/x"),
        ("azure", "azure://container/path/to"),
        ("ssh", "ssh://user@dvc.example.com:2222/srv/dvc"),
        ("ssh", "ssh://host/~/dvc"),
        ("ssh", "ssh://[2001:db8::1]/srv/dvc"),
        ("ssh", "ssh://deploy@[::1]:2222/srv/dvc"),
        ("s3", "s3://a.b-c.9/x"),
        ("gs", "gs://my_bucket.example/x"),
        ("none", ""),
    ],
)
def test_good_remote_urls(remote, url):
    assert hook.check_remote_url(remote, url, example(remote)) is None


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("local", ""),
        ("local", "storage"),  # inside the project
        ("local", "./storage"),
        ("local", "~/dvc"),
        ("local", "../x y"),
        ("local", "../$(id)"),
        ("local", "../x;rm"),
        ("local", "../`id`"),
        ("local", "s3://bucket/x"),
        ("local", "../" + "x" * 1100),
        ("s3", ""),
        ("s3", "gs://bucket/x"),
        ("s3", "s3://B/x"),
        ("s3", "s3://bucket/x y"),
        ("s3", "s3://bucket/x`id`"),
        ("s3", "s3://bucket/x\n"),
        ("gs", "s3://bucket/x"),
        ("gs", "gs://"),
        ("azure", "az://container/x"),
        ("azure", "azure://container/$(id)"),
        ("ssh", "ssh://host"),
        ("ssh", "ssh://host/x;rm -rf ~"),
        ("ssh", "user@host:/srv/dvc"),
        ("none", "s3://bucket/x"),
        # AWS's bucket naming rules
        ("s3", "s3://192.168.5.4/x"),
        ("s3", "s3://my..bucket/x"),
        ("s3", "s3://ab/x"),
        ("s3", "s3://" + "b" * 64 + "/x"),
        ("s3", "s3://xn--bucket/x"),
        ("s3", "s3://sthree-bucket/x"),
        ("s3", "s3://bucket-s3alias/x"),
        ("s3", "s3://bucket--ol-s3/x"),
        ("s3", "s3://bucket.mrap/x"),
        ("s3", "s3://-bucket/x"),
        ("gs", "gs://10.0.0.1/x"),
        ("gs", "gs://google..x/x"),
        ("azure", "azure://my--container/x"),
        ("azure", "azure://my.container/x"),
        ("ssh", "ssh://[2001:db8::zz]/srv"),
        ("ssh", "ssh://[::1/srv"),
    ],
)
def test_bad_remote_urls(remote, url):
    error = hook.check_remote_url(remote, url, example(remote))
    assert error and error.startswith("dvc_remote_url '")
    assert "\n" not in error


@pytest.mark.parametrize(
    "name",
    ["Café Bøt", "O'Brien's \"Quote\": #1 bot", "Bot; rm -rf ~ && echo pwned", "ボット", "R&D bot"],
)
def test_free_text_that_lands_as_data(name):
    assert offline_errors(project_name=name, author_name=name, description=name) == []


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("project_name", "Bot\nname: evil", "line breaks"),
        ("project_name", "Bot\r", "line breaks"),
        ("description", "one\u2028two", "line breaks"),
        ("author_name", "Tab\there", "control characters"),
        ("description", "abc\u202edcba", "control characters"),
        ("project_name", "Bot\u200bname", "invisible formatting characters"),  # zero-width space
        ("project_name", "Bot\u2060", "invisible formatting characters"),  # word joiner
        ("description", "hi\U000e0041\U000e0042", "invisible formatting characters"),  # tags
        ("author_name", "\u2067Team", "invisible formatting characters"),  # right-to-left isolate
        ("author_name", "Team\u200e", "invisible formatting characters"),  # left-to-right mark
        ("project_name", "soft\u00adhyphen", "invisible formatting characters"),
        ("description", "\ufeffBOM", "invisible formatting characters"),
        ("project_name", "Bot\ue000", "control characters"),  # private use
        ("project_name", "Bot\u0378", "control characters"),  # unassigned
        ("author_name", ".", "at least one letter or digit"),
        ("author_name", "-- ..", "at least one letter or digit"),
        ("project_name", "Bot\x1b[31m", "control characters"),
        ("project_name", "Bot {{ x }}", "template markers"),
        ("description", "{% raw %}", "template markers"),
        ("author_name", "{# c #}", "template markers"),
        ("project_name", "Bot $(id)", "without $"),
        ("project_name", "Bot `id`", "without `"),
        ("project_name", "C:\\bots\\new", "without \\"),
        ("project_name", 'x""" + __import__("os").system("id") + """', 'without """'),
        ("description", "<!-- hides the rest", "without <"),
        ("author_name", "Team <team@example.com>", "without < >"),
        ("project_name", "", "non-empty"),
        ("author_name", "   ", "non-empty"),
        ("project_name", " Bot", "leading or trailing spaces"),
        ("project_name", "x" * 81, "at most 80 characters"),
        ("description", "x" * 301, "at most 300 characters"),
    ],
)
def test_refused_free_text(field, value, says):
    (error,) = offline_errors(**{field: value})
    assert error.startswith(f"{field} '")
    assert says in error
    assert "\n" not in error and len(error) < 400


def test_long_values_are_cut_in_the_message():
    (error,) = offline_errors(project_name="x" * 100_000)
    assert "..." in error and len(error) < 300


@pytest.mark.parametrize("email", ["a@b.co", "first.last+bot@mail.example.org", "x@y-z.invalid"])
def test_good_emails(email):
    assert hook.check_email(email) is None


@pytest.mark.parametrize(
    "email", ["", "x", "a@b", "a b@c.de", "a@b.c; rm -rf /", "$(id)@x.io", "a@b.c\n", "<a@b.c>"]
)
def test_bad_emails(email):
    assert hook.check_email(email).startswith("author_email '")


@pytest.mark.parametrize(("option", "choices"), list(hook.CHOICES.items()))
def test_choice_outside_the_list(option, choices):
    (error,) = offline_errors(**{option: "s3; rm -rf ~"})
    assert error.startswith(f"{option} 's3; rm -rf ~': expected one of {', '.join(choices)}")


@pytest.mark.parametrize("runner", ["aws", "gcp", "azure"])
def test_cloud_runner_needs_github(runner):
    (error,) = offline_errors(ci_provider="none", cml_runner=runner)
    assert error.startswith(f"cml_runner '{runner}'") and "ci_provider 'github'" in error


def test_any_new_string_answer_gets_the_generic_check():
    (error,) = offline_errors(new_option="a\nb")
    assert error.startswith("new_option 'a\\nb'")


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("project_name", 5, "project_name 5: expected text, got int"),
        ("author_email", None, "author_email null: expected text, got nothing"),
        ("license", ["MIT"], 'license ["MIT"]: expected text, got list'),
        ("project_slug", {"a": 1}, 'project_slug {"a": 1}: expected text, got dict'),
        ("description", True, "description true: expected text, got bool"),
    ],
)
def test_answer_that_is_not_text(key, value, says):
    (error,) = offline_errors(**{key: value})
    assert error.startswith(says) and "replay file" in error


def test_template_private_keys_match_cookiecutter_json():
    tables = ("__prompts__", "_remotes", "_runners", "_dvc_version")  # check_tables: the last 3
    private = {k: v for k, v in COOKIECUTTER_JSON.items() if k.startswith("_") and k not in tables}
    assert private == hook.PRIVATE, "update PRIVATE in hooks/pre_gen_project.py"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"_copy_without_render": ["*"]},
            '_copy_without_render ["*"]: expected the template\'s own',
        ),
        ({"_copy_without_render": None}, "_copy_without_render null: expected the template's own"),
        ({"_extensions": ["evil.Ext"]}, "_extensions: not set by this template"),
        ({"_new_lines": "\r\n"}, "_new_lines: not set by this template"),
        ({"_remotes": None}, "_remotes: expected the template's table of DVC remote types"),
        ({"_remotes": {"s3": {}}}, "_remotes: expected the template's table of DVC remote types"),
        ({"_runners": None}, "_runners: expected the template's table of CML runners"),
        (
            {"_runners": {"aws": {"cloud_name": "AWS", "secrets": "REPO_TOKEN"}}},
            "_runners: expected the template's table of CML runners",
        ),
        (
            {"_dvc_version": "3; rm -rf ~"},
            '_dvc_version "3; rm -rf ~": expected the template\'s DVC',
        ),
    ],
)
def test_private_keys_cannot_be_overridden(changes, says):
    (error,) = offline_errors(**changes)
    assert error.startswith(says)


def test_private_answers_are_not_checked():
    assert offline_errors(_output_dir="/tmp/{{weird}}\n") == []


@pytest.mark.parametrize(
    ("line", "version"),
    [
        ("git version 2.39.5", (2, 39, 5)),
        ("git version 2.41.0.windows.1", (2, 41, 0)),
        ("git version 2.39.3 (Apple Git-145)", (2, 39, 3)),
        ("uv 0.13.8 (x86_64-unknown-linux-gnu)", (0, 13, 8)),
        ("uv 0.4", (0, 4, 0)),
        ("no digits", None),
        ("", None),
    ],
)
def test_parse_version(line, version):
    assert hook.parse_version(line) == version


def test_real_tools_are_new_enough():
    for tool in ("git", "uv"):
        found = hook.tool_version(REAL[tool])
        assert found and found[:2] >= hook.TOOLS[tool][0], tool


@pytest.mark.parametrize(
    ("versions", "says"),
    [
        ({"git": (2, 27, 9), "uv": (0, 13, 8)}, "'git' 2.27.9 (/bin/git): expected 2.28 or newer"),
        ({"git": (2, 28, 0), "uv": (0, 3, 5)}, "'uv' 0.3.5 (/bin/uv): expected 0.4 or newer"),
        ({"git": None, "uv": (0, 13, 8)}, "'git' (/bin/git): could not read its version"),
    ],
)
def test_tool_versions(versions, says):
    error = hook.check_tools(which=lambda t: f"/bin/{t}", version=lambda p: versions[p[5:]])
    assert error.startswith(says)


def test_missing_tool():
    error = hook.check_tools(which=lambda t: None if t == "uv" else f"/bin/{t}")
    assert error.startswith("'uv' not found on PATH: install uv")


def test_main_exits_1_with_one_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        hook.main(answers(project_slug="../evil"), folder=tmp_path)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: project_slug '../evil': ") and err.count("\n") == 1


def test_main_notes_an_existing_folder(capsys, tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    hook.main(answers(), folder=tmp_path)
    assert capsys.readouterr().err.startswith(f"NOTE: {tmp_path} exists")


# --- bakes it must refuse --------------------------------------------------------------------

REFUSED = [
    (["project_slug=Bad Slug"], "project_slug 'Bad Slug'"),
    (["project_slug=../evil"], "project_slug '../evil'"),
    (["dvc_remote=local", "dvc_remote_url=storage"], "dvc_remote_url 'storage'"),
    (["dvc_remote_url=../rasa-assistant"], "dvc_remote_url '../rasa-assistant'"),
    (
        ["dvc_remote_url=../rasa-assistant/.dvc/cache"],
        "dvc_remote_url '../rasa-assistant/.dvc/cache'",
    ),
    (["dvc_remote=s3", "dvc_remote_url=s3://10.0.0.1/x"], "dvc_remote_url 's3://10.0.0.1/x'"),
    (["dvc_remote=s3", "dvc_remote_url=gs://bucket/x"], "dvc_remote_url 'gs://bucket/x'"),
    (["dvc_remote=gs", "dvc_remote_url=gs:/bucket"], "dvc_remote_url 'gs:/bucket'"),
    (["dvc_remote=azure", "dvc_remote_url=azure://x"], "dvc_remote_url 'azure://x'"),
    (["dvc_remote=ssh", "dvc_remote_url=host:/srv"], "dvc_remote_url 'host:/srv'"),
    (["dvc_remote=none", "dvc_remote_url=../x"], "dvc_remote_url '../x'"),
    (["ci_provider=none", "cml_runner=aws"], "cml_runner 'aws'"),
    (["author_email=nobody"], "author_email 'nobody'"),
]


# Hostile answers: (id, answers, first words of the error line, or (who, text) when cookiecutter
# stops the bake itself). A slug of ../evil is refused above.
TMP = "<tmp_path>"  # replaced by the test's tmp_path
HOSTILE = [
    ("newline-in-name", {"project_name": "Bot\nname: evil"}, "project_name 'Bot\\nname: evil'"),
    # Jinja turns a carriage return into a newline while cookiecutter renders the answer
    ("cr-in-description", {"description": "ok\r# evil"}, "description 'ok\\n# evil'"),
    ("command-substitution", {"project_name": "Bot $(touch pwned)"}, "project_name 'Bot $(touch"),
    ("backticks", {"author_name": "`touch pwned`"}, "author_name '`touch pwned`'"),
    (
        "python-breakout",
        {"project_name": 'x""" + __import__("os").system("id") + """'},
        'project_name \'x"""',
    ),
    ("backslash", {"project_name": "Bot \\N{x}"}, "project_name 'Bot \\N{x}'"),
    ("html-comment", {"description": "<!-- the rest of the README"}, "description '<!--"),
    (
        "jinja-that-survived",
        {"project_name": "{{ '{{' }} cookiecutter.x }}"},
        "project_name '{{ cookiecutter.x }}'",
    ),
    ("bidi-override", {"description": "safe\u202e txt.exe"}, "description 'safe\\u202e"),
    ("zero-width-space", {"project_name": "Pay\u200bPal bot"}, "project_name 'Pay\\u200bPal"),
    ("word-joiner", {"author_name": "Team\u2060"}, "author_name 'Team\\u2060'"),
    ("tag-characters", {"description": "hi\U000e0069"}, "description 'hi\\U000e0069'"),
    ("name-without-letters", {"project_name": "***"}, "project_slug '(none)'"),
    ("author-without-letters", {"author_name": "."}, "author_name '.'"),
    ("too-long", {"project_name": "x" * 100_000, "project_slug": "bot"}, "project_name 'xxx"),
    ("slug-too-long", {"project_slug": "b" * 200}, "project_slug 'bbb"),
    # cookiecutter stops these itself, before the hook: a slug longer than a file name may be ...
    (
        "slug-longer-than-a-file-name",
        {"project_slug": "b" * 300},
        ("cookiecutter", "File name too long"),
    ),
    # ... a slug naming a folder that exists ...
    ("slug-dotdot", {"project_slug": ".."}, ("cookiecutter", "directory already exists")),
    # ... and a value outside a choice list given on the command line.
    (
        "choice-injection-via-cli",
        {"license": "MIT; rm -rf ~"},
        ("cookiecutter", "provided for choice variable"),
    ),
    # In the test's own folder: cookiecutter creates the project folder before the hook refuses
    # it (then deletes it), so a shared path would show up in a parallel test's canaries.
    ("slug-absolute", {"project_slug": f"{TMP}/evil"}, "project_slug '/"),
    ("slug-shell", {"project_slug": "bot;rm"}, "project_slug 'bot;rm'"),
    ("email-injection", {"author_email": "a@b.co\nevil"}, "author_email 'a@b.co\\nevil'"),
    ("url-command", {"dvc_remote_url": "../$(touch pwned)"}, "dvc_remote_url '../$(touch"),
    (
        "url-spaces",
        {"dvc_remote": "s3", "dvc_remote_url": "s3://b/x --force"},
        "dvc_remote_url 's3://b/x --force'",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"),
    [pytest.param(args, f"{message}: ", id=message) for args, message in REFUSED]
    + [pytest.param(cli_answers(answers), message, id=name) for name, answers, message in HOSTILE],
)
def test_refused_bake_leaves_nothing(tmp_path, args, message):
    """Refused with one short line (or cookiecutter's own error), nothing written, nothing run."""
    args = [arg.replace(TMP, str(tmp_path)) for arg in args]
    assert canaries(tmp_path) == []
    out = tmp_path / "out"
    out.mkdir()
    result = cookiecutter(out, *args)
    assert result.returncode != 0
    if isinstance(message, tuple):
        assert message[1] in result.stdout + result.stderr
    else:
        line = first_error(result)
        assert line.startswith(f"ERROR: {message}")
        assert len(line) < 400
    assert tree(tmp_path) == ["out"]
    assert canaries(tmp_path) == []


@pytest.mark.parametrize(
    ("available", "message"),
    [
        ({"uv": "uv"}, "ERROR: 'git' not found on PATH: install git"),
        ({"git": "git"}, "ERROR: 'uv' not found on PATH: install uv"),
    ],
)
def test_missing_tool_refuses_the_bake(tmp_path, available, message):
    path = tool_dir(tmp_path / "bin", **{name: REAL[tool] for name, tool in available.items()})
    out = tmp_path / "out"
    result = cookiecutter(out, path=[path])
    assert result.returncode != 0
    assert first_error(result).startswith(message)
    assert tree(out) == []
