"""The one way ops writes files: all of a command's files together, or none of them.

Every file is first written in full to a temporary file in its own directory. Only when all of them
are written, and every target is known to be replaceable (not a directory, not read-only), are they
renamed over their targets; a rename within a directory is atomic. Should a rename still fail, the
targets already replaced get their old content back. An interrupted or failed command therefore
leaves the old files as they were, and never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ops.errors import WriteError, clip

DEFAULT_MODE = 0o644


def _refusal(path: Path) -> str | None:
    """Why `path` cannot be replaced by a new file, or None."""
    for parent in reversed([path.parent, *path.parent.parents]):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a directory"
    if path.is_dir():
        return f"{path} is a directory, not a file"
    if path.exists() and (not path.is_file()):
        return f"{path} is not a regular file"
    if path.exists() and not _writable(path):
        return f"{path} is read-only"
    directory = next((p for p in [path.parent, *path.parent.parents] if p.exists()), None)
    if directory is not None and not _writable(directory):
        return f"{directory} is read-only"
    return None


def _writable(path: Path) -> bool:
    """Writable by us, and not marked read-only by its mode (root may write anything: the mode says what is meant)."""
    mode = path.stat().st_mode
    return os.access(path, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _mode_for(path: Path) -> int:
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return DEFAULT_MODE & ~umask


def _write_temporary(path: Path, content: bytes) -> Path:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _mode_for(path))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def write_files(files: Mapping[Path, str | bytes]) -> None:
    """Write every file of `files` (path -> content; text is written as UTF-8, newlines as given),
    all or none. WriteError, before any target changed, when one cannot be written."""
    refused: dict[str, list[Path]] = {}
    for path in files:
        if reason := _refusal(path):
            refused.setdefault(reason, []).append(path)
    # One reason once (a read-only directory refuses every file in it), so the line stays short.
    problems = [f"{clip(str(paths[0]), 200)}{f' (and {len(paths) - 1} more)' if len(paths) > 1 else ''}: {reason}"
                for reason, paths in refused.items()]
    if problems:
        raise WriteError(f"cannot write {'; '.join(problems)}. Nothing was written. Fix: make the files writable, or choose another output directory")
    temporaries: dict[Path, Path] = {}
    try:
        for path, content in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporaries[path] = _write_temporary(path, content.encode("utf-8") if isinstance(content, str) else content)
        _replace_all(temporaries)
    except OSError as error:
        raise WriteError(f"cannot write {clip(str(error.filename or ''), 200)}: {error.strerror or error}. Nothing was written. "
                         "Fix: free space or permissions, then run the command again") from None
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)


def _replace_all(temporaries: Mapping[Path, Path]) -> None:
    """Rename every temporary over its target; on a failure, put back the targets already replaced."""
    backups: dict[Path, Path | None] = {}
    try:
        for path, temporary in temporaries.items():
            backups[path] = _backup(path)
            os.replace(temporary, path)
    except BaseException:
        for path, backup in backups.items():
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, path)
                else:
                    path.unlink(missing_ok=True)
        raise
    finally:
        for backup in backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)


def _backup(path: Path) -> Path | None:
    """A hard link to the target's current content (None when it does not exist yet), to restore it from."""
    if not path.exists():
        return None
    backup = path.with_name(f".{path.name}.{os.getpid()}.old")
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)
    except OSError:  # a file system without hard links
        shutil.copy2(path, backup)
    return backup
