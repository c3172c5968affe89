"""Bitbucket's pull request endpoints: open, search with BBQL and pages, read and update."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from standins.bitbucket_comment_routes import CommentRoutes
from standins.bitbucket_prs import DuplicatePullRequest, QueryError, parse_query
from standins.bitbucket_state import RepositoryState
from standins.bitbucket_views import bad, body_object, required
from standins.messages import RecordedRequest, Reply, json_reply

MAX_PAGELEN = 50


class PullRequestRoutes:
    def __init__(self, emulator: RepositoryState, request: RecordedRequest) -> None:
        self.bb, self.request = emulator, request
        self.git, self.views = emulator.git, emulator.views

    def dispatch(self, rest: list[str]) -> Reply:
        match rest, self.request.method:
            case [], "GET":
                return self.list_pull_requests()
            case [], "POST":
                return self.create_pull_request()
            case [pr_id], "GET" | "PUT" if pr_id.isdigit():
                return self.pull_request(int(pr_id))
            case [pr_id, "comments", *more], _ if pr_id.isdigit():
                if self.bb.prs.get(int(pr_id)) is None:
                    return bad(f"Pull request {pr_id} not found", 404)
                return CommentRoutes(self.bb, self.request, int(pr_id)).dispatch(more)
        return bad("Resource not found", 404)

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
        data = body_object(self.request)
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
                return bad(f"{field}: Branch not found: {branch}")
        if source == destination:
            return bad("source and destination branches must differ")
        draft, reviewers = data.get("draft", False), data.get("reviewers", [])
        if not isinstance(draft, bool):
            return bad("draft: must be a boolean")
        accounts = _reviewers(reviewers)
        if accounts is None:
            return bad("reviewers: a list of accounts, each with a uuid or an account_id")
        if {self.bb.account.uuid, self.bb.account.account_id} & set(accounts):
            return bad(f"{self.bb.account.display_name} is the author and cannot be included "
                       "as a reviewer.")
        try:
            pr = self.bb.prs.open(
                title,
                str(data.get("description") or ""),
                source,
                destination,
                bool(data.get("close_source_branch", False)),
                self.bb.author,
                draft,
                accounts,
            )
        except DuplicatePullRequest as exc:
            return bad(str(exc))
        return json_reply(201, self.views.pull_request(pr, self.git.branch_tip(source)))

    def pull_request(self, pr_id: int) -> Reply:
        pr = self.bb.prs.get(pr_id)
        if pr is None:
            return bad(f"Pull request {pr_id} not found", 404)
        if self.request.method == "PUT":
            data = body_object(self.request)
            if data is None:
                return bad("Malformed JSON body")
            changes = {
                k: data[k] for k in ("title", "description", "close_source_branch") if k in data
            }
            if "title" in changes and not str(changes["title"] or "").strip():
                return required("title")
            self.bb.prs.update(pr_id, **changes)
        return json_reply(200, self.views.pull_request(pr, self.git.branch_tip(pr.source)))


def _reviewers(value: object) -> tuple[str, ...] | None:
    """OpenAPI pullrequest.reviewers: accounts named by `uuid` or `account_id`."""
    if not isinstance(value, list):
        return None
    found = []
    for item in value:
        name = (item.get("uuid") or item.get("account_id")) if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            return None
        found.append(name)
    return tuple(found)
