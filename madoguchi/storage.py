"""Content-addressed file storage on local disk.

Files are stored under their sha256, written to a temporary name, synced
and renamed into place, so a reader never sees half a file and storing the
same content twice is harmless.  The database rows that point at files are
written in the request's transaction; a failed request can leave a file
nobody points at, never a row pointing at a missing file, and
`sweep_orphans` removes the former.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


class FileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def all_digests(self) -> Iterable[str]:
        for path in self.root.glob("??/??/*"):
            if path.is_file() and not path.name.startswith("."):
                yield path.name

    def sweep_orphans(self, referenced: set[str], *, older_than_seconds: float = 3600) -> list[str]:
        """Delete stored files no row refers to (older than an hour, so in-flight uploads stay)."""
        removed = []
        cutoff = time.time() - older_than_seconds
        for digest in list(self.all_digests()):
            path = self.path(digest)
            if digest not in referenced and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed.append(digest)
        return removed


def file_store() -> FileStore:
    return FileStore(current_app.config["UPLOAD_DIR"])


def referenced_digests() -> set[str]:
    """Every sha256 a row points at: uploads (drafts and applications) and generated PDFs."""
    from sqlalchemy import select

    from madoguchi import db
    from madoguchi.models import GeneratedDocument, StoredFile

    session = db.session()
    found = set(session.scalars(select(StoredFile.sha256)))
    found.update(d for d in session.scalars(select(GeneratedDocument.sha256)) if d)
    return found


@click.command("sweep-files")
@click.option(
    "--older-than", default=3600, show_default=True, help="Keep files younger than this (seconds)."
)
@with_appcontext
def sweep_command(older_than: int) -> None:
    """Delete stored files that no draft, application or document refers to."""
    removed = file_store().sweep_orphans(referenced_digests(), older_than_seconds=older_than)
    click.echo(f"{len(removed)} unreferenced file{'s' if len(removed) != 1 else ''} removed")


def init_app(app: Flask) -> None:
    app.cli.add_command(sweep_command)
