"""``/src``: reading files and directories at a commit, and committing uploaded files.

Rules from Bitbucket's OpenAPI definition, GET /repositories/{workspace}/{repo_slug}/src/
{commit}/{path}: a file answers its raw bytes (Content-Type from the file name, no charset,
Content-Disposition "attachment"); a Git LFS file answers a 301 to media storage;
``?format=meta`` answers the file's or directory's JSON; a directory answers a paginated
listing of ``commit_file`` and ``commit_directory`` objects; a missing path *or commit*
answers 404.
"""

from __future__ import annotations

import mimetypes
import subprocess
from urllib.parse import parse_qs, quote

from standins.bitbucket_state import RepositoryState
from standins.bitbucket_views import bad
from standins.git_store import (
    EXECUTABLE,
    REGULAR,
    SUBMODULE,
    SYMLINK,
    BranchMoved,
    TreeEntry,
    parse_author,
)
from standins.messages import RecordedRequest, Reply, json_reply
from standins.multipart import MultipartError, parse_form_data

# git-lfs docs/spec.md: a pointer file's first line is always this version key.
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\n"
MEDIA_ROOT = "https://api.media.atlassian.example/file"
# OpenAPI, paginated_treeentries.pagelen: "The default value is 10 with 100 being the maximum".
DEFAULT_PAGELEN, MAX_PAGELEN = 10, 100
# OpenAPI POST .../src, "Executables and links": the upload's x-attributes set the mode;
# "this API does not support the creation or manipulation of subrepos / submodules".
UPLOAD_MODES = {None: REGULAR, "executable": EXECUTABLE, "link": SYMLINK}


class SourceRoutes:
    def __init__(self, emulator: RepositoryState, request: RecordedRequest) -> None:
        self.bb, self.request, self.git = emulator, request, emulator.git
        self.query = parse_qs(request.query)

    # -- reading ---------------------------------------------------------------------------

    def get(self, ref_and_path: list[str]) -> Reply:
        located = self._locate(ref_and_path)
        if located is None:
            return bad("No such file or directory: " + "/".join(ref_and_path), 404)
        commit, entry = located
        if self.query.get("format") == ["meta"]:
            return json_reply(200, self.bb.views.tree_entry(commit, entry, self._attributes(entry)))
        if entry.kind == "tree":
            return self._listing(commit, entry.path)
        if "lfs" in self._attributes(entry):
            return Reply(301, b"", content_type=None,
                         headers={"Location": f"{MEDIA_ROOT}/{entry.oid}/binary"})
        # OpenAPI: a subrepository's "contents of the file is the SHA1 of the repository
        # pointed to"; a link's are the path it points to (its blob).
        data = (entry.oid.encode() if entry.kind == "commit"
                else self.git.read_file(commit, entry.path) or b"")
        content_type = mimetypes.guess_type(entry.path)[0] or "application/octet-stream"
        return Reply(200, data, content_type=content_type,
                     headers={"Content-Disposition": "attachment"})

    def _locate(self, ref_and_path: list[str]) -> tuple[str, TreeEntry] | None:
        """The first split of the URL whose left part is a ref; a trailing slash names a
        directory (the root's listing needs it, says the OpenAPI definition)."""
        for split in range(1, len(ref_and_path)):
            commit = self.git.resolve("/".join(ref_and_path[:split]))
            if commit is not None:
                path = "/".join(ref_and_path[split:]).rstrip("/")
                entry = self.git.entry(commit, path)
                return (commit, entry) if entry else None
        return None

    def _attributes(self, entry: TreeEntry) -> list[str]:
        """OpenAPI commit_file.attributes: link, executable, subrepository, binary, lfs."""
        if entry.kind == "commit" or entry.mode == SUBMODULE:
            return ["subrepository"]
        if entry.mode == SYMLINK:
            return ["link"]
        data = self._blob(entry)
        attributes = ["executable"] if entry.mode == EXECUTABLE else []
        if data.startswith(LFS_POINTER):
            return [*attributes, "lfs"]
        return [*attributes, "binary"] if b"\0" in data else attributes

    def _blob(self, entry: TreeEntry) -> bytes:
        return self.git.git("cat-file", "blob", entry.oid).stdout if entry.kind == "blob" else b""

    def _listing(self, commit: str, path: str) -> Reply:
        try:
            pagelen = int(self.query.get("pagelen", [DEFAULT_PAGELEN])[0])
            page = int(self.query.get("page", [1])[0])
        except ValueError:
            return bad("pagelen and page must be integers")
        if not 1 <= pagelen <= MAX_PAGELEN or page < 1:
            return bad(f"pagelen must be between 1 and {MAX_PAGELEN}, page at least 1")
        entries = self.git.listing(commit, path) or []
        shown = entries[(page - 1) * pagelen:page * pagelen]
        body: dict[str, object] = {
            "pagelen": pagelen, "page": page, "size": len(entries),
            "values": [self.bb.views.tree_entry(commit, e, self._attributes(e)) for e in shown]}
        if page * pagelen < len(entries):
            where = f"{self.bb.views.repo_api}/src/{commit}/{quote(path)}"
            body["next"] = f"{where.rstrip('/')}/?pagelen={pagelen}&page={page + 1}"
        return json_reply(200, body)

    # -- committing ------------------------------------------------------------------------

    def commit(self) -> Reply:
        try:
            form = parse_form_data(self.request.headers.get("content-type", ""), self.request.body)
        except MultipartError as exc:
            return bad(str(exc))
        bad_paths = [path for path in form.files if not _safe_path(path)]
        if bad_paths:
            return bad(f"Invalid file path: {bad_paths[0]}")
        unknown = {a for a in form.attributes.values() if a not in UPLOAD_MODES}
        if unknown:
            return bad(f"Unsupported x-attributes: {', '.join(sorted(unknown))}")
        # OpenAPI: "Path field names are always interpreted to be absolute from the root of
        # the repository, regardless whether the client uses a leading slash".
        files = {path.removeprefix("/"): data for path, data in form.files.items()}
        modes = {path.removeprefix("/"): UPLOAD_MODES[form.attributes.get(path)]
                 for path in form.files}
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
                # OpenAPI, the `branch` field: a parent that is not the tip is a 409.
                if tip is not None and tip != parent:
                    return bad(f"Branch {branch} has moved: its tip is {tip}, not {given}.", 409)
            try:
                oid = self.git.commit(branch, files, message, author, parent, tip, modes=modes)
            except BranchMoved:
                return bad(f"Branch {branch} has moved since the commit began.", 409)
            except subprocess.CalledProcessError as exc:
                return bad(exc.stderr.decode("utf-8", "replace").strip() or "Cannot commit")
        location = f"{self.bb.views.repo_api}/commit/{oid}"
        return Reply(201, b"", content_type=None, headers={"Location": location})


def _safe_path(path: str) -> bool:
    parts = path.removeprefix("/").split("/")
    return "\0" not in path and all(part not in ("", ".", "..") for part in parts)
