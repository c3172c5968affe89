"""The client keeps file modes and refuses what is not a file to edit, against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from base.errors import PathRefused
from db.recorder import HistoryRecorder
from integrations.bitbucket import BitbucketClient
from integrations.bitbucket_modes import UNKNOWN, ModeMemory
from standins.bitbucket import BitbucketEmulator
from standins.faults import Status
from standins.git_store import EXECUTABLE, REGULAR, SUBMODULE, SYMLINK
from tests.integrations.bitbucket_support import WAYS, client_by, multipart_parts
from tests.integrations.conftest import BB_TOKEN

AUTHOR = "SDB Agent <sdb-agent@example.com>"
LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               b"size 12345\n")
FILES = {
    "tools/build.sh": b"#!/bin/sh\nmake all\n",
    "tools/current": b"build.sh",
    "assets/model.bin": LFS_POINTER,
    "vendor/lib": b"0123456789abcdef0123456789abcdef01234567",
    "src/MaterialDB.cpp": b"int x;\n",
}
MODES = {"tools/build.sh": EXECUTABLE, "tools/current": SYMLINK, "vendor/lib": SUBMODULE}


@pytest.fixture
def bitbucket(tmp_path: Path) -> Iterator[BitbucketEmulator]:
    repo = BitbucketEmulator.create_repository(tmp_path / "repo.git", FILES, MODES)
    with BitbucketEmulator(repo, "acme", "shop", access_token=BB_TOKEN) as emulator:
        yield emulator


@pytest.fixture(params=WAYS)
def client(request: pytest.FixtureRequest, bitbucket: BitbucketEmulator,
           recorder: HistoryRecorder) -> BitbucketClient:
    return client_by(request.param, bitbucket, recorder)


def commit(bitbucket: BitbucketEmulator, client: BitbucketClient,
           files: dict[str, bytes]) -> str:
    return client.commit_files(branch="main", parent=bitbucket.branch_tip("main") or "",
                               files=files, message="MAT-1", author=AUTHOR)


class TestFileModes:
    def test_an_edited_executable_script_keeps_its_executable_bit(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        script = client.read_file("main", "tools/build.sh")
        assert script == FILES["tools/build.sh"]

        commit(bitbucket, client, {"tools/build.sh": script + b"make install\n"})

        assert bitbucket.mode_at("main", "tools/build.sh") == EXECUTABLE
        assert bitbucket.file_at("main", "tools/build.sh").endswith(b"make install\n")
        [post] = [r for r in bitbucket.requests if r.method == "POST"]
        assert b'name="tools/build.sh"; filename="build.sh"; x-attributes="executable"' in post.body

    def test_regular_and_new_files_stay_regular_and_carry_no_attribute(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        commit(bitbucket, client, {"src/MaterialDB.cpp": b"int y;\n", "docs/new.md": b"# new\n"})

        assert bitbucket.mode_at("main", "src/MaterialDB.cpp") == REGULAR
        assert bitbucket.mode_at("main", "docs/new.md") == REGULAR
        [post] = [r for r in bitbucket.requests if r.method == "POST"]
        assert b"x-attributes" not in post.body
        assert {name for name, filename, _ in multipart_parts(
            post.headers["content-type"], post.body) if filename} == {
            "src/MaterialDB.cpp", "docs/new.md"}


class TestModesRemembered:
    """A commit's tree never changes: modes read with the files at a commit hash are not asked
    for again when the commit's parent is that commit."""

    def test_a_commit_on_the_commit_its_files_were_read_at_asks_for_no_mode(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        parent = bitbucket.branch_tip("main") or ""
        script = client.read_file(parent, "tools/build.sh")
        assert script is not None and client.read_file(parent, "docs/new.md") is None
        before = len(bitbucket.requests)

        client.commit_files(branch="main", parent=parent, message="MAT-1", author=AUTHOR,
                            files={"tools/build.sh": script + b"make install\n",
                                   "docs/new.md": b"# new\n"})

        assert [r.method for r in bitbucket.requests[before:]] == ["POST"]
        assert bitbucket.mode_at("main", "tools/build.sh") == EXECUTABLE
        assert bitbucket.mode_at("main", "docs/new.md") == REGULAR

    def test_files_read_by_a_branch_name_have_their_modes_asked_at_the_commit(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        script = client.read_file("main", "tools/build.sh")
        assert script is not None
        before = len(bitbucket.requests)

        commit(bitbucket, client, {"tools/build.sh": script + b"make install\n"})

        asked = [r for r in bitbucket.requests[before:] if "format=meta" in r.query]
        assert [r.path.rsplit("/", 1)[-1] for r in asked] == ["build.sh"]
        assert bitbucket.mode_at("main", "tools/build.sh") == EXECUTABLE


def test_the_memory_keeps_the_newest_entries_and_never_a_branch_name() -> None:
    memory = ModeMemory(size=2)
    commits = ["a" * 40, "b" * 40, "c" * 40]
    for commit_hash in commits:
        memory.remember("repo", commit_hash, "x.sh", "executable")
    memory.remember("repo", "main", "x.sh", "executable")
    assert memory.recall("repo", commits[0], "x.sh") is UNKNOWN
    assert memory.recall("repo", commits[2], "x.sh") == "executable"
    assert memory.recall("repo", "main", "x.sh") is UNKNOWN
    memory.remember("repo", commits[1], "new.md", None)
    assert memory.recall("repo", commits[1], "new.md") is None


class TestWhatIsNotAFileToEdit:
    @pytest.mark.parametrize(("path", "words"), [
        ("tools", "is a directory"), ("tools/current", "is a symlink"),
        ("vendor/lib", "is a submodule"), ("assets/model.bin", "is a Git LFS file")])
    def test_it_is_refused_when_read_and_when_committed(
        self, path: str, words: str, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        with pytest.raises(PathRefused, match=words):
            client.read_file("main", path)
        with pytest.raises(PathRefused, match=words):
            commit(bitbucket, client, {path: b"edited\n"})
        assert not [r for r in bitbucket.requests if r.method == "POST"]
        assert not [r for r in bitbucket.requests if r.method == "GET" and not r.query]

    def test_an_lfs_file_is_refused_on_its_redirect_even_when_its_metadata_says_nothing(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        plain = {"type": "commit_file", "path": "assets/model.bin", "attributes": []}
        bitbucket.faults.add("GET /src/main/assets/model.bin", Status(200, body=plain))
        with pytest.raises(PathRefused, match="redirects it to media storage"):
            client.read_file("main", "assets/model.bin")
