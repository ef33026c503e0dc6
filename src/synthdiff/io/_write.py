"""Writing outputs atomically, without ever replacing an input."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from synthdiff.errors import InvalidArgumentError, OutputError

__all__ = [
    "ProtectedInputs",
    "atomic_write_bytes",
    "atomic_write_text",
    "encode_png",
    "json_text",
    "output_folder",
    "save_exr",
    "save_png",
]


class ProtectedInputs:
    """Input files that an output must never replace, resolved once.

    Pass one to ``protected=`` when a command writes many outputs for many inputs (a heatmap per
    image): a plain list is resolved again at every write, which for N outputs over N inputs is
    N * N path lookups.

    Args:
        paths: the input files (they need not exist).

    Example:
        >>> inputs = ProtectedInputs(["a.png", "b.png"])
        >>> Path("a.png") in inputs
        True
    """

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self._resolved = frozenset(Path(item).resolve() for item in paths)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, (str, os.PathLike)) and Path(path).resolve() in self._resolved

    def __len__(self) -> int:
        return len(self._resolved)


Protected = ProtectedInputs | Iterable[str | os.PathLike[str]]


def _check_not_input(path: Path, protected: Protected) -> None:
    inputs = protected if isinstance(protected, ProtectedInputs) else ProtectedInputs(protected)
    if path in inputs:
        raise OutputError(
            f"Refusing to write '{path}': it is one of the inputs. Fix: choose another output folder."
        )


#: In the head of every page synthdiff writes, so that a later run knows the folder's page is its own.
PAGE_MARKER = '<meta name="generator" content="synthdiff">'
# Pages written before the marker existed: every one's title starts so.
_OLD_PAGE_START = b"<title>synthdiff "


def _is_synthdiff_page(path: str | os.PathLike[str]) -> bool:
    """Whether the file ``path`` is an HTML page that synthdiff wrote (a report from an earlier run)."""
    try:
        with open(path, "rb") as file:
            head = file.read(4096)
    except OSError:
        return False
    return PAGE_MARKER.encode() in head or _OLD_PAGE_START in head


def output_folder(
    path: str | os.PathLike[str], *, create: bool = True, option: str = "-o", page: str | None = None
) -> Path:
    """Create the folder ``path`` (and its parents) for outputs, or check that it is one.

    Args:
        path: the folder.
        create: False only checks that no file stands in the way, so that a command can refuse a bad
            place before its work and create nothing when that work then fails.
        option: the command-line option that names the folder, for the message.
        page: the name of the HTML page the command writes there (``index.html``): a file of that
            name that synthdiff did not write (a website's own page) is refused, never replaced. A
            page from an earlier run is replaced, as a rerun must.

    Returns:
        The folder.

    Raises:
        OutputError: ``path``, or a folder above it, is a file, ``page`` there is not synthdiff's, or
            the folder cannot be created.

    Example:
        >>> output_folder("out/report")  # doctest: +SKIP
        PosixPath('out/report')
    """
    folder = Path(path)
    for place in (folder, *folder.parents):
        if place.exists() and not place.is_dir():
            raise OutputError(
                f"Expected a folder for the outputs at '{folder}', but '{place}' is a file. Fix: name a "
                f"folder that does not exist yet or already is one ({option} DIR)."
            )
    if page is not None and (folder / page).exists() and not _is_synthdiff_page(folder / page):
        raise OutputError(
            f"Expected '{folder}' to hold no {page} or one synthdiff wrote, but '{folder / page}' is "
            f"another page, which the report would replace. Fix: name another folder ({option} DIR), "
            "or move that page away."
        )
    if not create:
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(
            f"Cannot create the folder '{folder}': {error}. Fix: choose a writable place."
        ) from None
    return folder


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, protected: Protected = ()) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename.

    A reader never sees a half-written file, and an interrupted write leaves the old file (if any)
    in place.

    Args:
        path: destination file; its folder is created if needed.
        data: the bytes to write.
        protected: input files that must never be overwritten (a list, or a
            :class:`ProtectedInputs` built once for many writes).

    Returns:
        The destination path.

    Raises:
        OutputError: the destination is a protected input or cannot be written.
    """
    target = Path(path)
    _check_not_input(target, protected)
    if target.is_dir():
        raise OutputError(
            f"Expected a file name to write, but '{target}' is a folder. Fix: name a file, for example "
            f"'{target / 'out'}' with its extension."
        )
    output_folder(target.parent)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise OutputError(
            f"Cannot write to '{target.parent}': {error}. Fix: choose a writable folder."
        ) from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, *, protected: Protected = ()) -> Path:
    """Write UTF-8 text atomically; see :func:`atomic_write_bytes`.

    A file name that is not valid UTF-8 (one from an old archive, in Latin-1) reaches Python with its
    odd bytes as lone surrogates, which UTF-8 cannot encode: they are written as ``\udcff`` escapes, so
    the file stays valid UTF-8 (JSON, written in ASCII, keeps the exact name as the same escape).
    """
    return atomic_write_bytes(path, text.encode("utf-8", errors="backslashreplace"), protected=protected)


def json_text(payload: Any, *, indent: int | None = 2) -> str:
    """Strict JSON for a report: NaN and infinities become ``null``, numpy scalars plain numbers.

    Python's ``json.dumps`` writes NaN and Infinity by default, which JSON does not allow: browsers,
    ``jq`` and most other readers then refuse the whole file. A report states an undefined value
    (precision with no positive prediction, the mean of nothing) as ``null`` instead.

    Args:
        payload: dicts, lists, tuples, strings, numbers, booleans and None, nested.
        indent: as for ``json.dumps``; the text ends with a newline when it is not None.

    Returns:
        The JSON text.

    Example:
        >>> json_text({"f1": float("nan"), "n": np.int64(3)}, indent=None)
        '{"f1": null, "n": 3}'
    """
    text = json.dumps(_finite_only(payload), indent=indent, allow_nan=False)
    return text + "\n" if indent is not None else text


def _finite_only(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _finite_only(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_only(item) for item in value]
    if isinstance(value, np.ndarray):
        return _finite_only(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def encode_png(image: np.ndarray, *, bit_depth: int = 8) -> bytes:
    """Encode an image as PNG bytes.

    Args:
        image: HxW, HxWx3 or HxWx4 array. Floats are taken as sRGB-encoded values in [0, 1] and
            clipped; uint8/uint16 arrays are written as they are.
        bit_depth: 8 or 16, used for float input.

    Returns:
        The PNG file content.

    Raises:
        InvalidArgumentError: a float image holds NaN (a PNG cannot say "undefined", and writing 0 in
            its place would hide the fault), or the array is of another type or shape.
    """
    import cv2

    if bit_depth not in (8, 16):
        raise InvalidArgumentError(f"Expected a PNG bit depth of 8 or 16, got {bit_depth}.")
    array = np.asarray(image)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    if array.dtype.kind not in "f" and array.dtype not in (np.uint8, np.uint16):
        raise InvalidArgumentError(
            f"Expected a float, uint8, uint16 or bool array for a PNG, got {array.dtype}. "
            "Fix: scale it to [0, 1] floats first."
        )
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise InvalidArgumentError(
            f"Expected an HxW, HxWx3 or HxWx4 array for a PNG, got shape {array.shape}."
        )
    if array.dtype.kind == "f":
        bad = int(np.count_nonzero(np.isnan(array)))
        if bad:
            raise InvalidArgumentError(
                f"Expected finite values for a PNG, got {bad} NaN value(s) in an array of shape "
                f"{array.shape}. Fix: replace them (numpy.nan_to_num) or mask them before saving."
            )
        scale = 255.0 if bit_depth == 8 else 65535.0
        dtype = np.uint8 if bit_depth == 8 else np.uint16
        array = np.round(np.clip(array, 0.0, 1.0) * scale).astype(dtype)
    if array.ndim == 3 and array.shape[2] >= 3:
        array = array[..., [2, 1, 0, *range(3, array.shape[2])]]  # RGB(A) -> BGR(A) for OpenCV
    ok, buffer = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise OutputError(f"PNG encoding failed for an array of shape {array.shape} and type {array.dtype}.")
    return buffer.tobytes()


def save_png(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    bit_depth: int = 8,
    protected: Protected = (),
) -> Path:
    """Save an image as PNG atomically (see :func:`encode_png` for the accepted arrays)."""
    return atomic_write_bytes(path, encode_png(image, bit_depth=bit_depth), protected=protected)


def save_exr(path: str | os.PathLike[str], image: np.ndarray, *, protected: Protected = ()) -> Path:
    """Save an HxWx3 (or HxWx4) linear float image as a float OpenEXR file, atomically.

    Args:
        path: destination ``.exr`` file.
        image: HxWx3 or HxWx4 float array, linear light.
        protected: input files that must never be overwritten (a list, or a
            :class:`ProtectedInputs` built once for many writes).
    """
    import OpenEXR

    array = np.asarray(image, dtype=np.float32)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise InvalidArgumentError(f"Expected an HxWx3 or HxWx4 array for EXR, got shape {array.shape}.")
    names = "RGBA"[: array.shape[2]]
    channels = {name: np.ascontiguousarray(array[..., i]) for i, name in enumerate(names)}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    target = Path(path)
    _check_not_input(target, protected)
    output_folder(target.parent)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".exr", dir=target.parent)
    os.close(fd)
    try:
        with OpenEXR.File(header, channels) as exr:
            exr.write(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
