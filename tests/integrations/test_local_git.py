"""The local git host: exact bytes, one commit, compare-and-swap, durable PR records."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from base.errors import Conflict, PathRefused
from base.recording import NullRecorder
from db.models import BitbucketApiHistory, IssueProcessingHistory
from db.recorder import HistoryRecorder
from integrations.local_git import LocalGitHost
from tests.integrations.gitrepo import git, make_repo

CP949_CRLF = "// 재료 테이블\r\n\tint 똠 = 1;\r\n".encode("cp949")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"src/Material.cpp": CP949_CRLF, "README": b"hi\n"})


@pytest.fixture
def host(repo: Path) -> LocalGitHost:
    return LocalGitHost(repo, recorder=NullRecorder())


class TestLocalGitHost:
    def test_a_branch_is_created_once_and_reused(self, host: LocalGitHost) -> None:
        main = host.default_branch()
        first = host.create_branch("sdb/MAT-1-add-ti", from_commit=main.commit)
        again = host.create_branch("sdb/MAT-1-add-ti", from_commit=main.commit)
        assert first == again and first.commit == main.commit

    def test_files_are_committed_with_their_exact_bytes_in_one_commit(
        self, host: LocalGitHost, repo: Path
    ) -> None:
        main = host.default_branch()
        host.create_branch("feature", from_commit=main.commit)
        new_cpp = CP949_CRLF + "\t// 햏 추가\r\n".encode("cp949")
        files = {"src/Material.cpp": new_cpp, "docs/specs/MAT-1.md": "# 사양\n".encode()}
        commit = host.commit_files(branch="feature", parent=main.commit, files=files,
                                   message="MAT-1: add", author="sdb-agent <agent@example.com>")
        feature = host.get_branch("feature")
        assert feature is not None and feature.commit == commit
        assert git(repo, "rev-list", "--count", f"{main.commit}..feature").strip() == b"1"
        assert git(repo, "cat-file", "blob", "feature:src/Material.cpp") == new_cpp
        assert host.read_file("feature", "docs/specs/MAT-1.md") == "# 사양\n".encode()
        assert (repo / "src/Material.cpp").read_bytes() == CP949_CRLF

    def test_a_moved_branch_is_a_conflict_and_nothing_is_written(self, host: LocalGitHost) -> None:
        main = host.default_branch()
        host.create_branch("feature", from_commit=main.commit)
        moved = host.commit_files(branch="feature", parent=main.commit, files={"a": b"1"},
                                  message="m", author="a <a@b>")
        with pytest.raises(Conflict):
            host.commit_files(branch="feature", parent=main.commit, files={"a": b"2"},
                              message="m", author="a <a@b>")
        feature = host.get_branch("feature")
        assert feature is not None and feature.commit == moved

    def test_a_missing_file_reads_as_none(self, host: LocalGitHost) -> None:
        assert host.read_file("main", "src/Nope.cpp") is None

    @pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "src/../../x", "", "a\\b",
                                      ".git/config", "a\x00b"])
    def test_a_path_that_could_leave_the_repository_is_refused(
        self, host: LocalGitHost, path: str
    ) -> None:
        main = host.default_branch()
        with pytest.raises(PathRefused):
            host.read_file("main", path)
        with pytest.raises(PathRefused):
            host.commit_files(branch="main", parent=main.commit, files={path: b"x"},
                              message="m", author="a <a@b>")

    def test_a_branch_is_deleted_only_while_nothing_was_committed_on_it(
        self, host: LocalGitHost
    ) -> None:
        main = host.default_branch()
        host.create_branch("empty", from_commit=main.commit)
        host.create_branch("worked", from_commit=main.commit)
        host.commit_files(branch="worked", parent=main.commit, files={"README": b"new\n"},
                          message="m", author="a <a@b>")
        assert host.delete_branch("empty", if_at=main.commit) is True
        assert host.get_branch("empty") is None
        assert host.delete_branch("worked", if_at=main.commit) is False
        assert host.get_branch("worked") is not None

    def test_a_symlink_or_a_directory_is_refused_as_a_file_to_edit(
        self, tmp_path: Path
    ) -> None:
        root = make_repo(tmp_path / "links", {"src/real.cpp": b"int x;\n"})
        (root / "src" / "shadow.cpp").symlink_to("/etc/shadow")
        git(root, "add", "-A")
        git(root, "-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "-m", "link")
        host = LocalGitHost(root, recorder=NullRecorder())
        assert host.read_file("main", "src/real.cpp") == b"int x;\n"
        with pytest.raises(PathRefused, match="symlink"):
            host.read_file("main", "src/shadow.cpp")
        with pytest.raises(PathRefused, match="directory"):
            host.read_file("main", "src")

    def test_the_pull_request_is_a_durable_record_created_once(self, repo: Path) -> None:
        host = LocalGitHost(repo, recorder=NullRecorder())
        pr = host.create_pull_request(branch="feature", destination="main", title="T",
                                      description="D")
        assert pr.url == f"local://{repo.resolve()}#feature"
        reopened = LocalGitHost(repo, recorder=NullRecorder())
        assert reopened.find_open_pull_request("feature", "main") == pr
        assert reopened.create_pull_request(branch="feature", destination="main", title="T2",
                                            description="D2") == pr
        updated = reopened.update_pull_request(pr, title="T3", description="D3")
        assert reopened.find_open_pull_request("feature", "main") == updated
        assert updated.title == "T3"
        assert reopened.find_open_pull_request("feature", "release") is None

    def test_a_directory_that_is_not_a_repository_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(Exception, match="not a git repository"):
            LocalGitHost(tmp_path, recorder=NullRecorder())


class TestLocalGitHistory:
    def test_every_operation_is_recorded_with_a_local_endpoint(
        self, repo: Path, engine: Engine
    ) -> None:
        with engine.begin() as conn:
            history_id = conn.execute(insert(IssueProcessingHistory).values(
                issue_key="MAT-1", status="processing").returning(IssueProcessingHistory.id)
            ).scalar_one()
        host = LocalGitHost(repo, recorder=HistoryRecorder(engine, history_id=history_id))
        main = host.default_branch()
        host.create_branch("feature", from_commit=main.commit)
        host.read_file("feature", "README")
        with engine.connect() as conn:
            rows = conn.execute(select(BitbucketApiHistory.api_method,
                                       BitbucketApiHistory.endpoint)
                                .order_by(BitbucketApiHistory.id)).all()
        assert [tuple(r) for r in rows] == [("GET", "local:default_branch"),
                                            ("POST", "local:refs/branches"), ("GET", "local:src")]
