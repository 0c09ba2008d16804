"""The one way ops writes files: all of a command's files together, or none of them.

Every file is first written in full to a temporary file in its own directory. Only when all of them
are written, and every target is known to be replaceable (not a directory, not read-only), are they
renamed over their targets; a rename within a directory is atomic. Should a rename still fail, the
targets already replaced get their old content back. An interrupted or failed command therefore
leaves the old files as they were, and never a half-written one.

Concurrent writers: a command that edits a file it read first (promote, rollback) holds that file's
lock (`locked`, an flock on `.NAME.lock` next to it) from the read to the write, so a second such
command is refused at once, told who holds it; and `write_files(..., unchanged=...)` compares the
file with what was read just before the rename, so an edit by anything else in between is refused
too, never overwritten. A target that is a symbolic link is written through: the file it points to
is replaced, in its own directory, and the link stays. A target with several hard links is refused
(a rename would leave the other names with the old content). Every refusal of the file system (a
full disk, a quota, a read-only mount, a permission) names the file and the fix: WriteError, exit 3.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from ops.errors import WriteError, clip

DEFAULT_MODE = 0o644
LOCK_WAIT_S = 2.0  # how long a writer waits for another to finish before it is refused
_HELD: dict[Path, int] = {}  # lock files this process holds, and how many times (a lock is re-entrant here)


def target_of(path: Path) -> Path:
    """The file a write of `path` replaces: `path` itself, or the file its symbolic link(s) point to (a link to
    nothing stays the link, which the writer then refuses rather than create a file where it points)."""
    if not path.is_symlink():
        return path
    real = Path(os.path.realpath(path))
    return real if real.exists() else path


def _refusal(path: Path) -> str | None:
    """Why `path` cannot be replaced by a new file, or None."""
    for parent in reversed([path.parent, *path.parent.parents]):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a directory"
    if path.is_dir():
        return f"{path} is a directory, not a file"
    if path.exists() and (not path.is_file()):
        return f"{path} is not a regular file"
    if path.is_symlink():
        return f"{path} is a symbolic link to {os.readlink(path)}, which does not exist"
    if path.exists() and not _writable(path):
        return f"{path} is read-only"
    if path.exists() and path.stat().st_nlink > 1:
        return (
            f"{path} has {path.stat().st_nlink} hard links: replacing it would leave the other names with the old content "
            f"(find them: find / -xdev -samefile {path}); make it one file, or a symbolic link"
        )
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
        try:
            view = memoryview(content)
            while view:  # os.write may write less than asked
                view = view[os.write(descriptor, view) :]
            os.fsync(descriptor)
            os.fchmod(descriptor, _mode_for(path))
        finally:
            os.close(descriptor)  # a network file system may report a full disk only here
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


# What each refusal of the file system means for the file, and its fix.
_FIXES = {
    errno.ENOSPC: ("the file system holding it is full", "free space on it (df -h {dir})"),
    errno.EDQUOT: ("your disk quota there is used up", "free space within the quota (quota -s)"),
    errno.EROFS: ("it is on a read-only file system", "write from a writable checkout, or remount {dir} read-write"),
    errno.EACCES: ("permission denied", "make {dir} and the file writable for you (ls -ld {dir})"),
    errno.EPERM: ("the operation is not permitted (an immutable or append-only file?)", "check lsattr {dir}"),
    errno.EFBIG: ("it is larger than this process or file system may write", "raise the file size limit (ulimit -f)"),
}


def write_error(error: OSError, path: Path | None) -> WriteError:
    """One line naming the file the file system refused, why, and the fix (exit 3)."""
    named = path if path is not None else Path(str(error.filename or "?"))
    meaning, fix = _FIXES.get(error.errno or 0, (error.strerror or str(error), "check that path"))
    return WriteError(
        f"cannot write {clip(str(named), 200)}: {meaning} ({error.strerror or error}). Nothing was written. "
        f"Fix: {fix.format(dir=clip(str(named.parent), 200))}, then run the command again"
    )


def _changed(path: Path, expected: bytes) -> bool:
    """Whether `path` no longer holds `expected` (read bounded: one byte more than expected tells a longer file)."""
    try:
        with path.open("rb") as stream:
            return stream.read(len(expected) + 1) != expected
    except OSError:
        return True


def write_files(files: Mapping[Path, str | bytes], unchanged: Mapping[Path, str | bytes] | None = None) -> None:
    """Write every file of `files` (path -> content; text is written as UTF-8, newlines as given),
    all or none. `unchanged` maps files to the content they were read with: each is locked, and the
    write is refused when one holds anything else just before the rename. WriteError, before any
    target changed, when one cannot be written."""
    files = {target_of(path): content for path, content in files.items()}
    expected = {target_of(path): _bytes(content) for path, content in (unchanged or {}).items()}
    refused: dict[str, list[Path]] = {}
    for path in files:
        if reason := _refusal(path):
            refused.setdefault(reason, []).append(path)
    # One reason once (a read-only directory refuses every file in it), so the line stays short.
    problems = [f"{clip(str(paths[0]), 200)}{f' (and {len(paths) - 1} more)' if len(paths) > 1 else ''}: {reason}" for reason, paths in refused.items()]
    if problems:
        raise WriteError(f"cannot write {'; '.join(problems)}. Nothing was written. Fix: make the files writable, or choose another output directory")
    with contextlib.ExitStack() as locks:
        for path in expected:
            locks.enter_context(locked(path))
        _write_all(files, expected)


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _write_all(files: Mapping[Path, str | bytes], expected: Mapping[Path, bytes]) -> None:
    temporaries: dict[Path, Path] = {}
    working_on: list[Path] = []  # the target in hand, so that a refusal names it
    try:
        for path, content in files.items():
            working_on[:] = [path]
            path.parent.mkdir(parents=True, exist_ok=True)
            temporaries[path] = _write_temporary(path, _bytes(content))
        for path, content in expected.items():
            if _changed(path, content):
                raise WriteError(
                    f"{clip(str(path), 200)} changed since this command read it (another writer, or an editor); "
                    "nothing was written, so that change is kept. Fix: run the command again: it starts from the new content"
                )
        _replace_all(temporaries, working_on)
    except OSError as error:
        raise write_error(error, working_on[0] if working_on else None) from None
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)


def _replace_all(temporaries: Mapping[Path, Path], working_on: list[Path]) -> None:
    """Rename every temporary over its target; on a failure, put back the targets already replaced."""
    backups: dict[Path, Path | None] = {}
    try:
        for path, temporary in temporaries.items():
            working_on[:] = [path]
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


def lock_path(path: Path) -> Path:
    target = target_of(path)
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def locked(path: Path, wait: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the writers' lock of `path` (re-entrant within this process), waiting at most `wait` seconds for
    another process to release it, else WriteError naming that process and the lock file. The lock file is
    removed on release; a crashed holder leaves one whose lock the kernel has released, and it is reused."""
    lock = lock_path(path)
    if lock in _HELD:
        _HELD[lock] += 1
        try:
            yield
        finally:
            _HELD[lock] -= 1
        return
    descriptor = _acquire(lock, wait)
    _HELD[lock] = 1
    try:
        yield
    finally:
        del _HELD[lock]
        with contextlib.suppress(OSError):
            lock.unlink()  # before the unlock: a waiter then finds its file gone and opens the new one
        os.close(descriptor)


def _acquire(lock: Path, wait: float) -> int:
    ends = time.monotonic() + wait
    while True:
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as error:
            raise write_error(error, lock) from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            if time.monotonic() >= ends:
                raise WriteError(
                    f"{lock.name[1:-5]} is being written by another command ({_holder(lock)}; lock file {clip(str(lock), 160)}). "
                    "Nothing was written. Fix: let it finish, then run the command again"
                ) from None
            time.sleep(0.05)
            continue
        # The holder before us may have removed the file after we opened it: then ours is no longer the lock.
        try:
            same = os.fstat(descriptor).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(descriptor)
            continue
        with contextlib.suppress(OSError):  # who holds it is told to a waiter as a courtesy; a full disk must not stop the lock
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"pid {os.getpid()}: {_command_line()}, since {time.strftime('%H:%M:%S UTC', time.gmtime())}".encode("utf-8", "replace"))
        return descriptor


def _command_line() -> str:
    """This process's command as its user typed it, short: `python -m ops promote staging prod`."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    shown = "python -m ops" if program.name == "__main__.py" and program.parent.name == "ops" else program.name
    return clip(" ".join([shown, *sys.argv[1:]]), 80)


def _holder(lock: Path) -> str:
    """Who holds the lock, as its holder wrote it (bounded, printable)."""
    try:
        with lock.open("rb") as stream:
            text = stream.read(200).decode("utf-8", "replace")
    except OSError:
        text = ""
    return "".join(char if char.isprintable() else "?" for char in text) or "a process that has not said who it is yet"
