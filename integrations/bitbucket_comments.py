"""Pull request comments and a user's repository permission, as Bitbucket Cloud REST 2.0
documents them.

A reply is `POST /repositories/{workspace}/{repo_slug}/pullrequests/{id}/comments` with
`content.raw` and `parent.id` (OpenAPI: pullrequest_comment, 201). Write access is read from
`GET .../permissions-config/users/{selected_user_id}`, which answers the user's explicit
permission (`read`, `write`, `admin`) and 404 when there is none; it needs a token with
repository admin (developer.atlassian.com/cloud/bitbucket/new-repo-permission-apis/). Access
that comes only from a group or the workspace is not listed there, so such a user reads as
without write access: name them in REVIEWERS_ALLOWED.
"""

from __future__ import annotations

from integrations.bitbucket_http import BitbucketHttp
from integrations.bitbucket_wire import field, json_object, segment

COMMENTS = "/pullrequests/{pull_request_id}/comments"
USER_PERMISSION = "/permissions-config/users/{selected_user_id}"
WRITERS = frozenset({"write", "admin"})


def reply(http: BitbucketHttp, pr_id: str, parent_id: int, text: str) -> int:
    status, body, _ = http.send("POST", COMMENTS, path=f"/pullrequests/{segment(pr_id)}/comments",
                                json={"content": {"raw": text}, "parent": {"id": parent_id}})
    return int(field(json_object(status, body, f"POST {COMMENTS}", (201,)), "id"))


def can_write(http: BitbucketHttp, account: str) -> bool:
    where = f"/permissions-config/users/{segment(account).replace('/', '%2F')}"
    status, body, _ = http.send("GET", USER_PERMISSION, path=where)
    if status == 404:
        return False
    return field(json_object(status, body, f"GET {USER_PERMISSION}"), "permission") in WRITERS
