"""A pull request's comments: list, read one, and post (a reply names its `parent`), as the
OpenAPI definition's `/pullrequests/{pull_request_id}/comments` paths describe; a post is by
the token's owner."""

from __future__ import annotations

from standins.bitbucket_comments import comment_document
from standins.bitbucket_state import RepositoryState
from standins.bitbucket_views import bad, body_object, required
from standins.messages import RecordedRequest, Reply, json_reply


class CommentRoutes:
    def __init__(self, emulator: RepositoryState, request: RecordedRequest, pr_id: int) -> None:
        self.bb, self.request, self.pr_id = emulator, request, pr_id
        views = emulator.views
        self.pr_api = f"{views.repo_api}/pullrequests/{pr_id}"
        self.pr_html = f"{views.repo_html}/pull-requests/{pr_id}"

    def dispatch(self, rest: list[str]) -> Reply:
        match rest, self.request.method:
            case [], "GET":
                values = [comment_document(c, self.pr_api, self.pr_html)
                          for c in self.bb.comments.of(self.pr_id)]
                return json_reply(200, {"pagelen": 100, "size": len(values), "page": 1,
                                        "values": values})
            case [], "POST":
                return self.post()
            case [comment_id], "GET" if comment_id.isdigit():
                comment = self.bb.comments.get(self.pr_id, int(comment_id))
                if comment is None:
                    return bad(f"Comment {comment_id} not found", 404)
                return json_reply(200, comment_document(comment, self.pr_api, self.pr_html))
        return bad("Resource not found", 404)

    def post(self) -> Reply:
        data = body_object(self.request)
        if data is None:
            return bad("Malformed JSON body")
        raw = (data.get("content") or {}).get("raw") if isinstance(data.get("content"),
                                                                    dict) else None
        if not isinstance(raw, str) or not raw.strip():
            return required("content")
        parent = data.get("parent")
        parent_id = parent.get("id") if isinstance(parent, dict) else None
        if parent is not None and (not isinstance(parent_id, int)
                                   or self.bb.comments.get(self.pr_id, parent_id) is None):
            return bad(f"parent: no comment {parent_id!r} on this pull request")
        comment = self.bb.comments.add(self.pr_id, raw, self.bb.account, parent=parent_id)
        return json_reply(201, comment_document(comment, self.pr_api, self.pr_html))
