"""A directory that is a URL: a local path, or an object store (``s3://bucket/prefix``, any fsspec scheme
whose package is installed). What the run history is kept in (:mod:`benchpipe.store.history`).

Writers only ever create new objects under new names (:meth:`Store.put`: local files are written
atomically, an object-store PUT is atomic by itself), so any number of writers append at once without
locks. Listings are never cached (another runner may have written a moment ago). DuckDB reads the objects
in place: local paths as they are, object stores through :meth:`Store.connect`, which registers the
fsspec filesystem with the connection (``duckdb.register_filesystem``; the httpfs extension is not used:
see the README's "History store" for why).

Endpoint and credentials come from the usual AWS environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ...) and config files, never from params.yaml. Errors are one
line naming the URL and the cause (exit 2): an unknown scheme, a missing package, an unreachable store
(after a bounded retry), a missing bucket, denied credentials.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from benchpipe.core.errors import BenchpipeError
from benchpipe.store import atomic, duck

ENV = "BENCHPIPE_HISTORY"
RETRIES = 4  # attempts at an unreachable or overloaded store before giving up (1, 2, then 4 s apart)


@dataclass
class Store:
    """A local directory or an object-store prefix, addressed by ``url``."""

    url: str
    fs: Any = None  # an fsspec filesystem for object stores; None: a local directory
    root: str = ""  # the fsspec path of the prefix ("bucket/prefix") or the local directory

    @property
    def remote(self) -> bool:
        return self.fs is not None

    def __str__(self) -> str:
        return self.url

    def local(self, *parts: str) -> Path:
        return Path(self.root, *parts)

    def duck(self, *parts: str) -> str:
        """The path DuckDB reads: a local path, or ``scheme://root/parts`` through the registered
        filesystem."""
        if not self.remote:
            return str(self.local(*parts))
        return f"{self.url.split('://', 1)[0]}://{'/'.join([self.root, *parts])}"

    def names(self, sub: str, suffix: str = ".parquet") -> list[str]:
        """The names of the objects directly under ``sub`` ending in ``suffix``, sorted; a fresh listing."""
        if not self.remote:
            d = self.local(sub)
            return sorted(p.name for p in d.glob(f"*{suffix}")) if d.is_dir() else []
        path = f"{self.root}/{sub}"
        self.fs.invalidate_cache(path)
        try:
            found = _retry(lambda: self.fs.ls(path, detail=False), self.url)
        except FileNotFoundError:
            return []
        return sorted(n.rsplit("/", 1)[-1] for n in found if n.endswith(suffix))

    def exists(self, sub: str, name: str) -> bool:
        if not self.remote:
            return self.local(sub, name).exists()
        return bool(_retry(lambda: self.fs.exists(f"{self.root}/{sub}/{name}"), self.url))

    def put_file(self, src: Path, sub: str, name: str) -> None:
        """Store ``src`` as ``sub/name``: a new object, whole or not at all, never over an existing one (a
        local store links it into place; S3 puts it with ``If-None-Match: *``, a conditional put, after a look
        that catches stores which ignore the condition). One that exists already is one line, nothing
        changed."""
        taken = BenchpipeError(
            f"history store {self.url}: {sub}/{name} exists already (a run id used twice); "
            "nothing was overwritten: give this run another id"
        )
        if not self.remote:
            try:
                with atomic.replacing(self.local(sub, name), exclusive=True) as tmp:
                    tmp.write_bytes(src.read_bytes())
            except atomic.Exists:
                raise taken from None
            return
        if self.exists(sub, name):
            raise taken
        try:
            _retry(lambda: self.fs.put_file(str(src), f"{self.root}/{sub}/{name}", mode="create"), self.url)
        except FileNotFoundError:
            raise BenchpipeError(
                f"history store {self.url}: bucket {self.root.split('/', 1)[0]!r} does not exist"
            ) from None
        except (
            FileExistsError
        ):  # the conditional put's 412 (s3fs raises it as FileExistsError; _retry passes it)
            raise taken from None

    def get(self, sub: str, name: str) -> bytes:
        """The bytes of the object ``sub/name`` (FileNotFoundError when there is none)."""
        if not self.remote:
            return self.local(sub, name).read_bytes()
        return bytes(_retry(lambda: self.fs.cat_file(f"{self.root}/{sub}/{name}"), self.url))

    def remove(self, sub: str, names: list[str]) -> None:
        for name in names:
            if not self.remote:
                self.local(sub, name).unlink(missing_ok=True)
            else:
                try:
                    _retry(lambda n=name: self.fs.rm_file(f"{self.root}/{sub}/{n}"), self.url)
                except FileNotFoundError:
                    pass

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection that reads this store in place."""
        con = duck.connect()
        if self.remote:
            con.register_filesystem(self.fs)
        return con

    def check(self) -> None:
        """Fail early, in one line, when the store cannot be reached (missing bucket, denied credentials)."""
        if not self.remote:
            return
        bucket = self.root.split("/", 1)[0]
        try:
            _retry(lambda: self.fs.ls(bucket, detail=False), self.url)
        except FileNotFoundError:
            raise BenchpipeError(f"history store {self.url}: bucket {bucket!r} does not exist") from None


def open_store(where: str | Path | Store) -> Store:
    """The store at ``where``: a :class:`Store`, a local path, or a URL (``s3://bucket/prefix``,
    ``file:///dir``, another fsspec scheme whose package is installed)."""
    if isinstance(where, Store):
        return where
    url = str(where)
    if "://" not in url:
        return Store(url=url, root=url)
    scheme, rest = url.split("://", 1)
    if scheme == "file":
        return Store(url=url, root="/" + rest.lstrip("/"))
    rest = rest.strip("/")
    if not rest:
        raise BenchpipeError(f"history store {url}: no bucket or path after {scheme}://")
    if scheme in ("s3", "s3a"):
        try:
            import s3fs
        except ImportError:
            raise BenchpipeError(
                f"history store {url}: the s3 support is not installed (pip install 'benchpipe[s3]')"
            ) from None
        # endpoint from AWS_ENDPOINT_URL (botocore reads it too; passed explicitly for older botocore)
        kwargs: dict[str, Any] = {
            "skip_instance_cache": True,
            "use_listings_cache": False,
            "config_kwargs": {"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 2}},
        }
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            kwargs["client_kwargs"] = {"endpoint_url": endpoint}
        return Store(url=f"s3://{rest}", fs=s3fs.S3FileSystem(**kwargs), root=rest)
    try:
        import fsspec

        fs = fsspec.filesystem(scheme)
    except (ImportError, ValueError) as e:
        raise BenchpipeError(
            f"history store {url}: unknown or unsupported scheme {scheme!r} "
            f"({str(e).splitlines()[0] if str(e) else type(e).__name__})"
        ) from None
    return Store(url=url, fs=fs, root=rest)


def configured(default: str | Path) -> Store:
    """The history store of this run: ``BENCHPIPE_HISTORY`` when set, else ``default`` (params.yaml's
    ``history.store``, or a command's ``--dir``)."""
    return open_store(os.environ.get(ENV) or default)


def _retry(fn: Any, url: str) -> Any:
    """``fn()`` with a bounded retry on a store that cannot be reached; a missing object is not retried.
    Denied credentials and other refusals are one line naming the store and the cause."""
    delay = 1.0
    for attempt in range(RETRIES):
        try:
            return fn()
        except (FileNotFoundError, FileExistsError):
            raise
        except PermissionError as e:
            raise BenchpipeError(f"history store {url}: access denied ({_cause(e)})") from None
        except Exception as e:  # OSError, and botocore's own errors (endpoint unreachable, bad credentials)
            if attempt == RETRIES - 1 or not _transient(e):
                raise BenchpipeError(f"history store {url}: {_cause(e)}") from None
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


def _transient(e: BaseException) -> bool:
    name = type(e).__name__
    text = str(e)
    return any(
        k in name or k in text
        for k in (
            "EndpointConnectionError",
            "ConnectTimeout",
            "ReadTimeout",
            "Connection refused",
            "ConnectionError",
            "timed out",
            "ServerDisconnected",
            "SlowDown",
            "ServiceUnavailable",
            "InternalError",
            "RequestTimeout",
            "Throttl",
        )
    )


def _cause(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:200]
