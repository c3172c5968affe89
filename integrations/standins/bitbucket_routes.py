"""One Bitbucket request routed to the endpoint that answers it."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from integrations.standins.bitbucket_prs import DuplicatePullRequest, QueryError, parse_query
from integrations.standins.bitbucket_views import error
from integrations.standins.git_store import BranchMoved, parse_author
from integrations.standins.messages import RecordedRequest, Reply, json_reply
from integrations.standins.multipart import MultipartError, parse_form_data

if TYPE_CHECKING:
    from integrations.standins.bitbucket import BitbucketEmulator

MAX_PAGELEN = 50


def bad(message: str, status: int = 400, **extra: object) -> Reply:
    return json_reply(status, error(message, **extra))


def required(field: str) -> Reply:
    return bad(f"{field}: This field is required.", fields={field: ["This field is required."]})


class BitbucketRoutes:
    def __init__(self, emulator: BitbucketEmulator, request: RecordedRequest) -> None:
        self.bb, self.request, self.git, self.views = (
            emulator,
            request,
            emulator.git,
            emulator.views,
        )

    def dispatch(self, rest: list[str]) -> Reply:
        method = self.request.method
        match rest, method:
            case [], "GET":
                return json_reply(200, self.views.repository(self.git.head_branch()))
            case ["refs", "branches"], "POST":
                return self.create_branch()
            case ["refs", "branches", *name], "GET" if name:
                return self.get_branch("/".join(name))
            case ["src"], "POST":
                return self.commit_files()
            case ["src", *ref_and_path], "GET" if len(ref_and_path) >= 2:
                return self.get_file(ref_and_path)
            case ["commit", oid], "GET":
                commit = self.git.resolve(oid)
                if commit is None:
                    return bad(f"Commit not found: {oid}", 404)
                return json_reply(200, self.views.commit(self.git.commit_info(commit)))
            case ["pullrequests"], "GET":
                return self.list_pull_requests()
            case ["pullrequests"], "POST":
                return self.create_pull_request()
            case ["pullrequests", pr_id], "GET" | "PUT" if pr_id.isdigit():
                return self.pull_request(int(pr_id))
        return bad("Resource not found", 404)

    def body_json(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.request.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    # -- branches and files ------------------------------------------------------------------------

    def get_branch(self, name: str) -> Reply:
        tip = self.git.branch_tip(name)
        if tip is None:
            return bad(f"Branch not found: {name}", 404)
        return json_reply(200, self.views.branch(name, self.git.commit_info(tip)))

    def create_branch(self) -> Reply:
        data = self.body_json()
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

    # -- pull requests -----------------------------------------------------------------------------

    def list_pull_requests(self) -> Reply:
        params = parse_qs(self.request.query, keep_blank_values=True)
        try:
            conditions = parse_query(params.get("q", [""])[0])
            pagelen = int(params.get("pagelen", ["10"])[0])
            page = int(params.get("page", ["1"])[0])
        except QueryError as exc:
            return bad(str(exc))
        except ValueError:
            return bad("pagelen and page must be integers")
        if not 1 <= pagelen <= MAX_PAGELEN or page < 1:
            return bad(f"pagelen must be between 1 and {MAX_PAGELEN}, page at least 1")
        found = self.bb.prs.search(conditions, [s.upper() for s in params.get("state", [])])
        chunk = found[(page - 1) * pagelen : page * pagelen]
        body: dict[str, object] = {
            "pagelen": pagelen,
            "size": len(found),
            "page": page,
            "values": [self.views.pull_request(pr, self.git.branch_tip(pr.source)) for pr in chunk],
        }
        if page * pagelen < len(found):
            following = {**params, "page": [str(page + 1)], "pagelen": [str(pagelen)]}
            body["next"] = f"{self.views.repo_api}/pullrequests?{urlencode(following, doseq=True)}"
        return json_reply(200, body)

    def create_pull_request(self) -> Reply:
        data = self.body_json()
        if data is None:
            return bad("Malformed JSON body")
        title = data.get("title")
        source = ((data.get("source") or {}).get("branch") or {}).get("name")
        destination = ((data.get("destination") or {}).get("branch") or {}).get("name")
        destination = destination or self.git.head_branch()
        if not isinstance(title, str) or not title.strip():
            return required("title")
        if not isinstance(source, str) or not source:
            return required("source")
        for field, branch in (("source", source), ("destination", destination)):
            if self.git.branch_tip(branch) is None:
                return bad(f"{field}: Branch not found: {branch}", fields={field: ["not found"]})
        if source == destination:
            return bad("source and destination branches must differ")
        try:
            pr = self.bb.prs.open(
                title,
                str(data.get("description") or ""),
                source,
                destination,
                bool(data.get("close_source_branch", False)),
                self.bb.author,
            )
        except DuplicatePullRequest as exc:
            return bad(str(exc))
        return json_reply(201, self.views.pull_request(pr, self.git.branch_tip(source)))

    def pull_request(self, pr_id: int) -> Reply:
        pr = self.bb.prs.get(pr_id)
        if pr is None:
            return bad(f"Pull request {pr_id} not found", 404)
        if self.request.method == "PUT":
            data = self.body_json()
            if data is None:
                return bad("Malformed JSON body")
            changes = {
                k: data[k] for k in ("title", "description", "close_source_branch") if k in data
            }
            if "title" in changes and not str(changes["title"] or "").strip():
                return required("title")
            self.bb.prs.update(pr_id, **changes)
        return json_reply(200, self.views.pull_request(pr, self.git.branch_tip(pr.source)))


def _safe_path(path: str) -> bool:
    parts = path.split("/")
    return (
        not path.startswith("/")
        and "\0" not in path
        and all(part not in ("", ".", "..") for part in parts)
    )
