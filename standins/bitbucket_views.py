"""The JSON documents Bitbucket Cloud REST 2.0 answers with, in its field names and nesting."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from standins.bitbucket_prs import PullRequest
from standins.git_store import Commit, TreeEntry
from standins.messages import RecordedRequest, Reply, json_reply

HTML_ROOT = "https://bitbucket.example"


def error(message: str, detail: str | None = None) -> dict[str, object]:
    """Bitbucket OpenAPI components/schemas/error: `error` holds `message` (required),
    `detail` and `data`, and nothing else (additionalProperties: false)."""
    body: dict[str, object] = {"message": message}
    if detail:
        body["detail"] = detail
    return {"type": "error", "error": body}


def reviewer(account: str) -> dict[str, object]:
    key = "uuid" if account.startswith("{") else "account_id"
    return {"type": "user", key: account}


def bad(message: str, status: int = 400, detail: str | None = None) -> Reply:
    return json_reply(status, error(message, detail))


def required(field: str) -> Reply:
    return bad(f"{field}: This field is required.")


def body_object(request: RecordedRequest) -> dict[str, Any] | None:
    """The JSON object sent, or None if the body is not one."""
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Views:
    api_root: str
    workspace: str
    slug: str
    author: dict[str, object] = field(default_factory=dict)  # the token owner's account

    @property
    def repo_api(self) -> str:
        return f"{self.api_root}/repositories/{self.workspace}/{self.slug}"

    @property
    def repo_html(self) -> str:
        return f"{HTML_ROOT}/{self.workspace}/{self.slug}"

    def repository(self, main_branch: str) -> dict[str, object]:
        full_name = f"{self.workspace}/{self.slug}"
        return {
            "type": "repository",
            "full_name": full_name,
            "name": self.slug,
            "slug": self.slug,
            "is_private": True,
            "scm": "git",
            "workspace": {"type": "workspace", "slug": self.workspace},
            "mainbranch": {"type": "branch", "name": main_branch},
            "links": {
                "self": {"href": self.repo_api},
                "html": {"href": self.repo_html},
                "pullrequests": {"href": f"{self.repo_api}/pullrequests"},
                "branches": {"href": f"{self.repo_api}/refs/branches"},
                "clone": [{"name": "https", "href": f"{HTML_ROOT}/{full_name}.git"}],
            },
        }

    def commit(self, commit: Commit) -> dict[str, object]:
        return {
            "type": "commit",
            "hash": commit.hash,
            "date": commit.date,
            "message": commit.message,
            "author": {"type": "author", "raw": commit.author},
            "parents": [{"type": "commit", "hash": parent} for parent in commit.parents],
            "links": {
                "self": {"href": f"{self.repo_api}/commit/{commit.hash}"},
                "html": {"href": f"{self.repo_html}/commits/{commit.hash}"},
            },
        }

    def branch(self, name: str, tip: Commit) -> dict[str, object]:
        return {
            "type": "branch",
            "name": name,
            "target": self.commit(tip),
            "merge_strategies": ["merge_commit", "squash", "fast_forward"],
            "default_merge_strategy": "merge_commit",
            "links": {
                "self": {"href": f"{self.repo_api}/refs/branches/{quote(name, safe='')}"},
                "html": {"href": f"{self.repo_html}/branch/{quote(name, safe='/')}"},
            },
        }

    def tree_entry(self, commit: str, entry: TreeEntry, attributes: list[str]) -> dict[str, object]:
        """A `commit_directory`, or a `commit_file` with its `attributes`: a list, as in the
        OpenAPI definition's GET .../src/{commit}/{path} examples (its schema says a string)."""
        directory = entry.kind == "tree"
        href = f"{self.repo_api}/src/{commit}/{quote(entry.path)}" + ("/" if directory else "")
        data: dict[str, object] = {
            "type": "commit_directory" if directory else "commit_file",
            "path": entry.path,
            "commit": {
                "type": "commit",
                "hash": commit,
                "links": {"self": {"href": f"{self.repo_api}/commit/{commit}"}},
            },
            "links": {"self": {"href": href}, "meta": {"href": f"{href}?format=meta"}},
        }
        if not directory:
            data |= {"attributes": attributes, "escaped_path": entry.path, "size": entry.size or 0}
        return data

    def pull_request(self, pr: PullRequest, source_tip: str | None) -> dict[str, object]:
        return {
            "type": "pullrequest",
            "id": pr.id,
            "title": pr.title,
            "description": pr.description,
            "state": pr.state,
            "draft": pr.draft,
            "author": self.author or {"type": "user", "display_name": pr.author},
            "reviewers": [reviewer(r) for r in pr.reviewers],
            "source": {
                "branch": {"name": pr.source},
                "commit": {"type": "commit", "hash": source_tip},
                "repository": {"type": "repository", "full_name": f"{self.workspace}/{self.slug}"},
            },
            "destination": {
                "branch": {"name": pr.destination},
                "repository": {"type": "repository", "full_name": f"{self.workspace}/{self.slug}"},
            },
            "close_source_branch": pr.close_source_branch,
            "merge_commit": None,
            "comment_count": 0,
            "task_count": 0,
            "created_on": pr.created_on,
            "updated_on": pr.updated_on,
            "links": {
                "self": {"href": f"{self.repo_api}/pullrequests/{pr.id}"},
                "html": {"href": f"{self.repo_html}/pull-requests/{pr.id}"},
            },
        }
