"""GitHub's Actions cache, as `actions/cache/restore` and `actions/cache/save` see it.

What it models: entries scoped to the ref that saved them; a run restores from its own ref, then
its pull request's base branch, then main, by exact key first and then by `restore-keys` prefix,
newest first; a key that exists in the run's scope is not saved again; saving a missing path saves
nothing. What it does not: the 10 GB limit and least-recently-used eviction, the 7-day expiry,
compression, cross-OS keys, and `lookup-only` / `fail-on-cache-miss`.
"""

import shutil
from pathlib import Path


class CacheService:
    """GitHub's Actions cache for one repository: entries live in the scope of the ref that saved
    them. A run restores from its own ref, then its pull request's base branch, then main; a
    key that exists in the run's scope is not saved again."""

    def __init__(self, root: Path):
        self.root, self.entries = root, []  # (scope, key, folder), oldest first

    def scopes(self, env) -> list[str]:
        scopes = [env["GITHUB_REF"]]
        if env.get("GITHUB_BASE_REF"):
            scopes.append(f"refs/heads/{env['GITHUB_BASE_REF']}")
        return list(dict.fromkeys([*scopes, "refs/heads/main"]))

    def find(self, scope, key, prefixes):
        in_scope = [e for e in reversed(self.entries) if e[0] == scope]
        exact = [e for e in in_scope if e[1] == key]
        if exact:
            return exact[0]
        for prefix in prefixes:
            partial = [e for e in in_scope if e[1].startswith(prefix)]
            if partial:
                return partial[0]
        return None

    def restore(self, workspace, step, env) -> str:
        inputs = step["with"]
        prefixes = [p for p in inputs.get("restore-keys", "").splitlines() if p.strip()]
        for scope in self.scopes(env):
            entry = self.find(scope, inputs["key"], prefixes)
            if entry:
                target = workspace / inputs["path"]
                shutil.copytree(entry[2], target, dirs_exist_ok=True)
                return f"Cache restored from key: {entry[1]} ({entry[0]})"
        return f"Cache not found for input keys: {inputs['key']}"

    def save(self, workspace, step, env) -> str:
        inputs, scope = step["with"], env["GITHUB_REF"]
        if any(e[:2] == (scope, inputs["key"]) for e in self.entries):
            return f"Cache already exists for key {inputs['key']}: not saved again"
        source = workspace / inputs["path"]
        if not source.is_dir():
            return "Path Validation Error: path does not exist, no cache saved"
        folder = self.root / f"{len(self.entries)}"
        shutil.copytree(source, folder)
        self.entries.append((scope, inputs["key"], folder))
        return f"Cache saved with key: {inputs['key']} ({scope})"
