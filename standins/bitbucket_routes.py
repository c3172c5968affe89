"""One Bitbucket request routed to the endpoint that answers it."""

from __future__ import annotations

from standins.bitbucket_pr_routes import PullRequestRoutes
from standins.bitbucket_source import SourceRoutes
from standins.bitbucket_state import RepositoryState
from standins.bitbucket_views import bad, body_object, required
from standins.git_store import BranchMoved
from standins.messages import RecordedRequest, Reply, json_reply


class BitbucketRoutes:
    def __init__(self, emulator: RepositoryState, request: RecordedRequest) -> None:
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
                return SourceRoutes(self.bb, self.request).commit()
            case ["src", *ref_and_path], "GET" if len(ref_and_path) >= 2:
                return SourceRoutes(self.bb, self.request).get(ref_and_path)
            case ["commit", oid], "GET":
                commit = self.git.resolve(oid)
                if commit is None:
                    return bad(f"Commit not found: {oid}", 404)
                return json_reply(200, self.views.commit(self.git.commit_info(commit)))
            case ["permissions-config", "users", user], "GET":
                permission = self.bb.permissions.get(user)
                if permission is None:
                    return bad(f"No explicit permission for {user}", 404)
                return json_reply(200, {"type": "repository_user_permission",
                                        "permission": permission,
                                        "user": {"type": "user", "uuid": user}})
            case ["pullrequests", *_], _:
                return PullRequestRoutes(self.bb, self.request).dispatch(rest[1:])
        return bad("Resource not found", 404)

    # -- branches ----------------------------------------------------------------------------------

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
        """OpenAPI POST .../refs/branches documents 201, 403 and 404 only (and a 400 for an
        ambiguous short hash). What the real service answers for a name that exists is not
        documented: this 400 is the stand-in's own, and the client must not rely on it."""
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
        exists = bad(f'Branch "{name}" already exists.')
        if self.git.branch_tip(name) is not None:
            return exists
        try:
            self.git.create_branch(name, commit)
        except BranchMoved:
            return exists
        return json_reply(201, self.views.branch(name, self.git.commit_info(commit)))
