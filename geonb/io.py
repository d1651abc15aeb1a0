"""The small I/O room: atomic output (one file or a whole set), the raster opener, one JSON writer.

Every module that writes files goes through here, so "written atomically, never over a user's file
without ``overwrite=True``, and a set of files (an image and its labels, a class map and its
probabilities) either all written or none changed" is implemented once.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from geonb.errors import InvalidParameterError, OutputExistsError, RasterReadError


def _same_file_key(path: Path) -> str:
    # Resolve without requiring the file to exist, so two spellings of one output path compare equal.
    return os.path.normcase(os.path.realpath(os.path.abspath(path)))


def check_output_path(path: str | os.PathLike, overwrite: bool, *, name: str = "path") -> Path:
    """Return ``path`` as a Path after refusing to replace an existing file unless ``overwrite``.

    Raises
    ------
    OutputExistsError
        The file exists and ``overwrite`` is False.
    InvalidParameterError
        ``path`` is empty or a folder.
    """
    if path is None or str(path) == "":
        raise InvalidParameterError(f"`{name}` must be a file path, got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise InvalidParameterError(f"`{name}` {str(path)!r} is a folder; give a file name")
    # lexists: a dangling symbolic link is an existing entry too, and is not replaced without overwrite.
    if os.path.lexists(path) and not overwrite:
        raise OutputExistsError(
            f"`{name}` {str(path)!r} already exists; pass overwrite=True to replace it, or choose another path"
        )
    return path


def check_output_paths(paths: dict[str, str | os.PathLike | None], overwrite: bool) -> dict[str, Path]:
    """Check a set of output paths (by argument name) before anything is written.

    ``None`` entries are skipped. Two arguments naming the same file are an error, as is any existing
    file without ``overwrite``.

    Examples
    --------
    >>> check_output_paths({"image_path": "a.tif", "labels_path": "./a.tif"}, overwrite=True)
    Traceback (most recent call last):
    ...
    geonb.errors.InvalidParameterError: `image_path` 'a.tif' and `labels_path` './a.tif' name the same file; ...
    """
    seen: dict[str, tuple[str, object]] = {}
    seen_inode: dict[tuple[int, int], str] = {}
    out: dict[str, Path] = {}
    for arg, p in paths.items():
        if p is None:
            continue
        key = _same_file_key(Path(p))
        if key in seen:
            first, first_p = seen[key]
            raise InvalidParameterError(
                f"`{first}` {str(first_p)!r} and `{arg}` {str(p)!r} name the same file; give each output its own "
                "path (nothing was written)"
            )
        seen[key] = (arg, p)
        # Two hard links to one existing file have different paths but one inode: writing both would leave
        # one of the two outputs silently lost.
        try:
            st = os.stat(p)
        except OSError:
            continue
        inode = (st.st_dev, st.st_ino)
        if inode in seen_inode:
            raise InvalidParameterError(
                f"`{seen_inode[inode]}` and `{arg}` ({str(p)!r}) are two links to one existing file; give each "
                "output its own file (nothing was written)"
            )
        seen_inode[inode] = arg
    for arg, p in paths.items():
        if p is not None:
            out[arg] = check_output_path(p, overwrite, name=arg)
    return out


def _make_parents(path: Path, created: list[Path]) -> None:
    """Create ``path``'s missing parent folders, appending each one made (outermost first) to ``created``."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        if parent.parent == parent:
            break
        parent = parent.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:  # made meanwhile by someone else: not ours to remove
            continue
        created.append(folder)


def _remove_folders(created: list[Path]) -> None:
    """Remove folders this module created (innermost first), if they are still empty."""
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _temp_beside(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def _plain_permissions(tmp: Path) -> None:
    # mkstemp creates 0600 files; give the output the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path`` atomically.

    Nothing is left behind if the body raises. The existing file is kept unless ``overwrite``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "out.txt").read_text()
    'hello'
    """
    with atomic_paths([path], overwrite) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike], overwrite: bool = False,
                 names: Sequence[str] | None = None) -> Iterator[tuple[Path, ...]]:
    """Yield temporary paths for a *set* of outputs; on success all replace their targets, else none.

    The set is checked first (distinct paths and distinct files -- two hard links to one file count as
    one --, none existing unless ``overwrite``; a dangling symbolic link counts as existing). Missing
    parent folders are created. The body writes each temporary file; when it returns, existing targets
    are moved aside, the new files moved in, and the old ones deleted. If any step fails, every target is
    restored to what it was, and no temporary file, backup file or newly created folder is left behind.
    (On a POSIX file system each rename is atomic; the set is as atomic as renames allow. Should putting
    an original back itself fail, its backup ``.<name>.*.part`` file is kept rather than deleted.)

    Parameters
    ----------
    paths : sequence of path-like
        Output files, distinct.
    overwrite : bool
        Replace existing files.
    names : sequence of str, optional
        Argument names used in error messages (default ``path[0]``, ``path[1]``...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_paths([d / "a.txt", d / "b.txt"]) as (ta, tb):
    ...     _ = ta.write_text("a"); _ = tb.write_text("b")
    >>> sorted(p.name for p in d.iterdir())
    ['a.txt', 'b.txt']
    """
    paths = [Path(p) for p in paths]
    names = list(names) if names is not None else [f"path[{i}]" for i in range(len(paths))]
    checked = check_output_paths(dict(zip(names, paths, strict=True)), overwrite)
    targets = [checked[n] for n in names]
    temps: list[Path] = []
    placeholders: list[Path] = []  # backup names made by mkstemp, whether or not a target was moved there
    backups: list[tuple[Path, Path]] = []
    moved: list[Path] = []
    created: list[Path] = []  # parent folders made here; removed again unless the set was written
    done = False
    try:
        for t in targets:
            _make_parents(t, created)
            temps.append(_temp_beside(t))
        yield tuple(temps)
        for t in targets:
            if os.path.lexists(t) and not overwrite:  # appeared while we were writing
                raise OutputExistsError(f"{str(t)!r} appeared while writing; pass overwrite=True to replace it")
        for tmp in temps:
            _plain_permissions(tmp)
        try:
            for t in targets:
                if os.path.lexists(t):
                    bak = _temp_beside(t)
                    placeholders.append(bak)  # recorded before the rename, so a failed rename leaves no stray
                    os.replace(t, bak)
                    backups.append((t, bak))
            for tmp, t in zip(temps, targets, strict=True):
                os.replace(tmp, t)
                moved.append(t)
        except BaseException:
            # roll back: remove what was moved in, put the originals back
            for t in moved:
                with contextlib.suppress(OSError):
                    t.unlink()
            restored = set()
            for t, bak in backups:
                with contextlib.suppress(OSError):
                    os.replace(bak, t)
                    restored.add(bak)
            # an original that could not be put back keeps its backup file rather than being deleted
            placeholders = [p for p in placeholders if p in restored or p not in {b for _, b in backups}]
            raise
        done = True
    finally:
        for tmp in temps:
            if os.path.lexists(tmp):
                with contextlib.suppress(OSError):
                    tmp.unlink()
        for bak in placeholders:
            if os.path.lexists(bak):
                with contextlib.suppress(OSError):
                    bak.unlink()
        if not done:
            _remove_folders(created)


def write_json_atomic(path: str | os.PathLike, obj, *, overwrite: bool = True, default=None) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically (key order kept)."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, default=default))
    return Path(path)


def open_raster(path: str | os.PathLike, what: str = "raster"):
    """Open a raster for reading with rasterio; missing or unreadable files are clear geonb errors.

    ``what`` names the argument in messages (``"image"``, ``"labels"``).
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    if path is None or str(path) == "":
        raise InvalidParameterError(f"`{what}` path must be a file path, got {path!r}")
    p = Path(path) if not str(path).startswith(("/vsi", "http://", "https://")) else None
    if p is not None and p.is_dir():
        raise RasterReadError(f"{what} {str(path)!r} is a folder, not a raster file; give the GeoTIFF's path")
    if p is not None and not p.exists():
        raise RasterReadError(
            f"{what} {str(path)!r} does not exist; check the path (make data generates the sample datasets)"
        ) from FileNotFoundError(str(path))
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise RasterReadError(
            f"{what} {str(path)!r} cannot be opened as a raster ({exc}); is it a GeoTIFF, and complete?"
        ) from exc


__all__ = [
    "atomic_path",
    "atomic_paths",
    "check_output_path",
    "check_output_paths",
    "open_raster",
    "write_json_atomic",
]
