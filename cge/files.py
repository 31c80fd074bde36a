"""Files read and written safely: TOML read with the file named in errors, and folder writes that
never leave a mix (write beside the target, then swap the folder in); a single text file is written
the same way (:func:`write_text`: beside the target, then renamed over it).

Both writers of the package (:meth:`cge.Benchmark.write` and ``cge run``) write every file into a
fresh temporary folder ``.<name>.tmp-*`` beside the target and rename it into place only when all
files are written. If anything fails before that, the temporary folder is removed and the target is
left as it was (old content intact, byte for byte, or still absent). The swap renames the old folder
aside (``.<name>.old-*``), renames the new one into place and then deletes the old one; if the second
rename fails the old folder is renamed back. A process killed mid-write leaves at most a hidden
``.<name>.tmp-*`` folder beside an intact target.
"""

from __future__ import annotations

import os
import shutil
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def read_toml(path, error: type[Exception], missing: str) -> dict:
    """The TOML file ``path`` parsed; a missing, undecodable or invalid file raises ``error`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {missing}")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


@contextmanager
def replace_folder(target, carry: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on normal exit it replaces ``target`` whole.

    ``carry(entry)`` selects entries of the existing target to copy into the new folder before the
    swap (entries the new folder already holds are never overwritten). On an exception the temporary
    folder is removed, the target is untouched and the exception propagates.
    """
    target = Path(os.path.abspath(target))  # "." and "x/.." have a name to put beside
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target}: exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh(target, "tmp")
    tmp.mkdir()  # the usual permissions (umask), unlike tempfile.mkdtemp's 0o700
    try:
        yield tmp
        if carry is not None and target.is_dir():
            for entry in sorted(target.iterdir()):
                if carry(entry) and not (tmp / entry.name).exists():
                    (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, tmp / entry.name)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` to the file ``path`` (UTF-8, ``\\n`` line ends on every system) so that a reader
    sees the old file or the new one, never a part: into a hidden ``.<name>.tmp-*`` beside it, then
    renamed over it. On an exception the temporary file is removed, ``path`` is untouched and the
    exception propagates. Returns ``path``."""
    path = Path(os.path.abspath(path))
    tmp = _fresh(path, "tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _swap(new: Path, target: Path) -> None:
    """Rename ``new`` to ``target``, moving an existing ``target`` aside first and deleting it after."""
    if not target.exists():
        os.rename(new, target)
        return
    old = _fresh(target, "old")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _fresh(target: Path, kind: str) -> Path:
    """An unused hidden name ``.<name>.<kind>-<random>`` beside ``target``."""
    while True:
        candidate = target.parent / f".{target.name}.{kind}-{uuid.uuid4().hex[:12]}"
        if not candidate.exists():
            return candidate
