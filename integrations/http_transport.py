"""The transport under the Bitbucket request layer: one HTTP request out, one answer back.

It only sends: retries, pacing, recording and the size cap are `BitbucketHttp`'s, so the
transport can be swapped (a test hands requests to a stand-in in process) without changing
what the client does. The real one is a `requests.Session` with urllib3's retries and
redirects off, since `RetryPolicy` is the one retry layer and a redirect is an answer to judge
(an LFS file's 301), not to follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Protocol

import requests
from requests.adapters import HTTPAdapter

from base.errors import InvalidResponse

Headers = requests.structures.CaseInsensitiveDict[str]
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """An answer as it arrives: the body is `chunks`, for the reader to cap as it reads."""

    status: int
    headers: Headers
    chunks: Iterable[bytes]


class Transport(Protocol):
    def send(self, request: requests.Request,
             timeout: tuple[float, float]) -> AbstractContextManager[Answer]:
        """Send `request` once; the answer's connection is released when the context ends.
        A failure to connect or read is a `requests.RequestException`."""
        ...


class SessionTransport:
    """`requests.Session.request`, step by step, but never retrying or redirecting."""

    def __init__(self, pool_size: int = 10) -> None:
        """`pool_size` connections are kept per host (requests' default is 10); threads may
        share the transport. No cookie is kept: every request carries its own credentials,
        and a shared transport must not hand one caller's session cookie to another."""
        self.session = requests.Session()
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, HTTPAdapter(max_retries=0, pool_connections=pool_size,
                                                   pool_maxsize=pool_size))

    @contextmanager
    def send(self, request: requests.Request,
             timeout: tuple[float, float]) -> Iterator[Answer]:
        prepared = self.session.prepare_request(request)
        settings = self.session.merge_environment_settings(prepared.url, {}, True, None, None)
        with self.session.send(prepared, timeout=timeout, allow_redirects=False,
                               **settings) as response:
            yield Answer(response.status_code, response.headers,
                         response.iter_content(CHUNK_BYTES))


def read_capped(chunks: Iterable[bytes], limit: int, service: str) -> bytes:
    """The body, refused as soon as it grows past `limit` rather than after it is all read."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise InvalidResponse(f"{service} response over {limit} bytes; refused")
        parts.append(chunk)
    return b"".join(parts)
