"""The emulator's /src speaks the OpenAPI definition: metadata, listings, LFS and file modes."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from standins.bitbucket import BitbucketEmulator
from standins.git_store import EXECUTABLE, REGULAR, SYMLINK
from tests.standins.conftest import TOKEN

LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               b"size 12345\n")
FILES = {
    "bin/run.sh": b"#!/bin/sh\necho run\n",
    "bin/latest": b"run.sh",
    "assets/big.bin": LFS_POINTER,
    "assets/table.bin": b"\x00\x01\x02",
    "src/app.py": b"print('hello')\r\n",
    "README.md": b"# Demo\n",
}
MODES = {"bin/run.sh": EXECUTABLE, "bin/latest": SYMLINK}


@pytest.fixture
def bitbucket(tmp_path: Path) -> Iterator[BitbucketEmulator]:
    repo = BitbucketEmulator.create_repository(tmp_path / "repo.git", FILES, MODES)
    with BitbucketEmulator(repo, "acme", "shop", access_token=TOKEN) as emulator:
        yield emulator


def src(bitbucket: BitbucketEmulator, rest: str) -> str:
    return f"{bitbucket.base_url}/repositories/acme/shop/src/{rest}"


def meta(session: requests.Session, bitbucket: BitbucketEmulator, rest: str) -> requests.Response:
    return session.get(src(bitbucket, rest), params={"format": "meta"})


class TestReadingSource:
    @pytest.mark.parametrize(("path", "attributes"), [
        ("src/app.py", []), ("bin/run.sh", ["executable"]), ("bin/latest", ["link"]),
        ("assets/big.bin", ["lfs"]), ("assets/table.bin", ["binary"])])
    def test_file_metadata_names_its_attributes(
        self, path: str, attributes: list[str], bitbucket: BitbucketEmulator,
        bb_session: requests.Session
    ) -> None:
        answer = meta(bb_session, bitbucket, f"main/{path}").json()
        assert (answer["type"], answer["path"], answer["attributes"]) == (
            "commit_file", path, attributes)
        assert answer["commit"]["hash"] == bitbucket.branch_tip("main")
        assert answer["size"] == len(FILES[path])

    def test_a_directory_answers_a_listing_and_its_metadata_a_directory(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        listing = bb_session.get(src(bitbucket, "main/bin")).json()
        assert [(v["type"], v["path"]) for v in listing["values"]] == [
            ("commit_file", "bin/latest"), ("commit_file", "bin/run.sh")]
        assert meta(bb_session, bitbucket, "main/bin").json()["type"] == "commit_directory"

    def test_the_root_listing_is_paginated(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        first = bb_session.get(src(bitbucket, "main/"), params={"pagelen": 2}).json()
        assert [v["path"] for v in first["values"]] == ["README.md", "assets"]
        second = bb_session.get(first["next"]).json()
        assert [v["path"] for v in second["values"]] == ["bin", "src"]
        assert "next" not in second

    def test_a_git_lfs_file_redirects_to_media_storage(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        answer = bb_session.get(src(bitbucket, "main/assets/big.bin"), allow_redirects=False)
        assert answer.status_code == 301 and answer.headers["Location"].startswith("https://")

    def test_a_file_answers_its_bytes_as_an_attachment_typed_by_its_name(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        answer = bb_session.get(src(bitbucket, "main/src/app.py"))
        assert answer.content == FILES["src/app.py"]
        assert answer.headers["Content-Disposition"] == "attachment"
        assert answer.headers["Content-Type"] == mimetypes.guess_type("app.py")[0]

    @pytest.mark.parametrize("rest", ["main/nope.txt", "0" * 40 + "/README.md", "nope/"])
    def test_a_missing_path_or_commit_is_a_404_error(
        self, rest: str, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        answer = meta(bb_session, bitbucket, rest)
        assert answer.status_code == 404 and answer.json()["type"] == "error"


class TestCommittingModes:
    def upload(self, session: requests.Session, bitbucket: BitbucketEmulator, path: str,
               data: bytes, attribute: str | None) -> requests.Response:
        extra = f'; x-attributes="{attribute}"' if attribute else ""
        body = (f'--B\r\nContent-Disposition: form-data; name="{path}"; '
                f'filename="{path.rsplit("/", 1)[-1]}"{extra}\r\n\r\n').encode() + data + (
            b'\r\n--B\r\nContent-Disposition: form-data; name="branch"\r\n\r\nmain\r\n--B--\r\n')
        return session.post(f"{bitbucket.base_url}/repositories/acme/shop/src", data=body,
                            headers={"Content-Type": "multipart/form-data; boundary=B"})

    @pytest.mark.parametrize(("attribute", "mode"), [
        ("executable", EXECUTABLE), ("link", SYMLINK), (None, REGULAR)])
    def test_the_upload_s_attribute_decides_the_mode(
        self, attribute: str | None, mode: str, bitbucket: BitbucketEmulator,
        bb_session: requests.Session
    ) -> None:
        answer = self.upload(bb_session, bitbucket, "bin/run.sh", b"#!/bin/sh\n", attribute)
        assert answer.status_code == 201
        assert bitbucket.mode_at("main", "bin/run.sh") == mode

    def test_the_documented_example_s_colon_form_is_read_too(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        body = (b'--B\r\nContent-Disposition: form-data; name="bin/stop.sh"; '
                b'filename="stop.sh"; x-attributes:"executable"\r\n\r\n'
                b'#!/bin/sh\nhalt\r\n--B--\r\n')
        answer = bb_session.post(f"{bitbucket.base_url}/repositories/acme/shop/src", data=body,
                                 headers={"Content-Type": "multipart/form-data; boundary=B"})
        assert answer.status_code == 201
        assert bitbucket.mode_at("main", "bin/stop.sh") == EXECUTABLE

    def test_a_submodule_cannot_be_uploaded(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        answer = self.upload(bb_session, bitbucket, "lib", b"0" * 40, "subrepository")
        assert answer.status_code == 400 and "subrepository" in answer.json()["error"]["message"]
