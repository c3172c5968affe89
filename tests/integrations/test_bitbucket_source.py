"""The client keeps file modes and refuses what is not a file to edit, against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from base.errors import PathRefused
from db.recorder import HistoryRecorder
from integrations.bitbucket import BitbucketClient
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
