"""Files written all or nothing: a temporary file in the same directory,
synced to disk, then renamed over the target (checkpoints, the label
cache)."""
import os
import os.path as osp
import shutil
from typing import Callable


def _temp_path(path: str) -> str:
    head, name = osp.split(path)
    return osp.join(head, f'.{name}.{os.getpid()}.tmp')


def _fsync_file(path: str) -> None:
    """Flush a written file to disk; errors (EIO, a late ENOSPC)
    propagate."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    """Flush a directory's entries (a rename) to disk where the platform
    allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_quietly(path: str) -> None:
    """Remove a file or directory if it exists, never raising."""
    try:
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif osp.lexists(path):
            os.remove(path)
    except OSError:
        pass


def atomic_write(path: str, write: Callable[[str], None]) -> None:
    """Write ``path`` all or nothing.

    ``write`` writes a temporary file in the same directory; it is flushed
    to disk and renamed over ``path`` (``os.replace``: atomic on POSIX and
    Windows). If ``write`` fails, e.g. with ``OSError(ENOSPC)``, or the
    process is interrupted, the temporary file is removed, ``path`` keeps
    its previous content, and the exception propagates.

    Args:
        path: The final path.
        write: Called with the temporary path; writes the file there.
    """
    tmp = _temp_path(path)
    try:
        write(tmp)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    _fsync_dir(osp.dirname(osp.abspath(path)))


def atomic_write_text(path: str, text: str) -> None:
    """Write a small text file all or nothing (see :func:`atomic_write`).

    Args:
        path: The file.
        text: Its new content.
    """

    def write(tmp: str) -> None:
        with open(tmp, 'w') as f:
            f.write(text)
            f.flush()

    atomic_write(path, write)
