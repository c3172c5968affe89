"""One Bitbucket request routed to the endpoint that answers it."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from integrations.standins.bitbucket_pr_routes import PullRequestRoutes
from integrations.standins.bitbucket_views import bad, body_object, required
from integrations.standins.git_store import BranchMoved, parse_author
from integrations.standins.messages import RecordedRequest, Reply, json_reply
from integrations.standins.multipart import MultipartError, parse_form_data

if TYPE_CHECKING:
    from integrations.standins.bitbucket import BitbucketEmulator


class BitbucketRoutes:
    def __init__(self, emulator: BitbucketEmulator, request: RecordedRequest) -> None:
        self.bb, self.request = emulator, request
        self.git, self.views = emulator.git, emulator.views

    def dispatch(self, rest: list[str]) -> Reply:
        method = self.request.method
        match rest, method:
            case [], "GET":
                return json_reply(200, self.views.repository(self.git.head_branch()))
            case ["refs", "branches"], "POST":
                return self.create_branch()
            case ["refs", "branches", *name], "GET" if name:
                return self.get_branch("/".join(name))
            case ["refs", "branches", *name], "DELETE" if name:
                return self.delete_branch("/".join(name))
            case ["src"], "POST":
                return self.commit_files()
            case ["src", *ref_and_path], "GET" if len(ref_and_path) >= 2:
                return self.get_file(ref_and_path)
            case ["commit", oid], "GET":
                commit = self.git.resolve(oid)
                if commit is None:
                    return bad(f"Commit not found: {oid}", 404)
                return json_reply(200, self.views.commit(self.git.commit_info(commit)))
            case ["pullrequests", *_], _:
                return PullRequestRoutes(self.bb, self.request).dispatch(rest[1:])
        return bad("Resource not found", 404)

    # -- branches and files ------------------------------------------------------------------------

    def get_branch(self, name: str) -> Reply:
        tip = self.git.branch_tip(name)
        if tip is None:
            return bad(f"Branch not found: {name}", 404)
        return json_reply(200, self.views.branch(name, self.git.commit_info(tip)))

    def delete_branch(self, name: str) -> Reply:
        """Bitbucket OpenAPI, DELETE .../refs/branches/{name}: 204 with no body, 404 when there
        is no such branch; the main branch cannot be deleted (403 in the real service)."""
        if name == self.git.head_branch():
            return bad("You cannot delete the main branch.", 403)
        if self.git.branch_tip(name) is None:
            return bad(f"Branch not found: {name}", 404)
        self.git.delete_branch(name)
        return Reply(204, b"", content_type=None)

    def create_branch(self) -> Reply:
        data = body_object(self.request)
        if data is None:
            return bad("Malformed JSON body")
        name, target = data.get("name"), (data.get("target") or {}).get("hash")
        if not isinstance(name, str) or not name:
            return required("name")
        if not self.git.is_valid_branch_name(name):
            return bad(f'"{name}" is not a valid branch name.')
        if not isinstance(target, str) or not target:
            return required("target")
        commit = self.git.resolve(target)
        if commit is None:
            return bad(f"Commit not found: {target}")
        exists = bad(f'Branch "{name}" already exists.', code="BRANCH_ALREADY_EXISTS")
        if self.git.branch_tip(name) is not None:
            return exists
        try:
            self.git.create_branch(name, commit)
        except BranchMoved:
            return exists
        return json_reply(201, self.views.branch(name, self.git.commit_info(commit)))

    def get_file(self, ref_and_path: list[str]) -> Reply:
        for split in range(1, len(ref_and_path)):
            commit = self.git.resolve("/".join(ref_and_path[:split]))
            if commit is not None:
                data = self.git.read_file(commit, "/".join(ref_and_path[split:]))
                if data is None:
                    break
                return Reply(200, data, content_type="application/octet-stream")
        return bad("No such file or directory: " + "/".join(ref_and_path), 404)

    def commit_files(self) -> Reply:
        try:
            form = parse_form_data(self.request.headers.get("content-type", ""), self.request.body)
        except MultipartError as exc:
            return bad(str(exc))
        bad_paths = [path for path in form.files if not _safe_path(path)]
        if bad_paths:
            return bad(f"Invalid file path: {bad_paths[0]}")
        author = form.fields.get("author") or self.bb.author
        if parse_author(author) is None:
            return bad(f"Invalid author: {author!r}; expected 'Name <email>'")
        branch = form.fields.get("branch") or self.git.head_branch()
        if not self.git.is_valid_branch_name(branch):
            return bad(f'"{branch}" is not a valid branch name.')
        message = form.fields.get("message") or "Edited online with Bitbucket"
        with self.bb.commit_lock:
            tip = self.git.branch_tip(branch)
            parent = tip or self.git.branch_tip(self.git.head_branch())
            if given := form.fields.get("parents"):
                parent = self.git.resolve(given)
                if parent is None:
                    return bad(f"Commit not found: {given}")
                if tip is not None and tip != parent:
                    return bad(f"Branch {branch} has moved: its tip is {tip}, not {given}.", 409)
            try:
                oid = self.git.commit(branch, form.files, message, author, parent, tip)
            except BranchMoved:
                return bad(f"Branch {branch} has moved since the commit began.", 409)
            except subprocess.CalledProcessError as exc:
                return bad(exc.stderr.decode("utf-8", "replace").strip() or "Cannot commit")
        location = f"{self.views.repo_api}/commit/{oid}"
        return Reply(201, b"", content_type=None, headers={"Location": location})


def _safe_path(path: str) -> bool:
    parts = path.split("/")
    return (
        not path.startswith("/")
        and "\0" not in path
        and all(part not in ("", ".", "..") for part in parts)
    )
