"""File writes and reads that lose nothing and explain every failure in one line.

Writes are atomic (a temporary file in the same folder, fsync, rename), take the permissions the
umask gives a new file (0666 & ~umask, like `open`), and turn a full disk or a folder that cannot
be written into a `ShiftnasError` naming the file. Reads of JSON and JSON-lines files name the
file and line of anything damaged; a torn last line of an append-only log (a kill mid-append) is
dropped with a warning.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from shiftnas.errors import ShiftnasError

log = logging.getLogger("shiftnas.files")

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
OS_ERRORS_FOR_USER = frozenset(_NO_SPACE | _NOT_WRITABLE | {errno.ENOTDIR})


def os_error(err: OSError, path: Path) -> ShiftnasError:
    """One line for an OS error writing `path` that a user can fix: full disk, no permission."""
    where = path
    if err.errno in _NO_SPACE:
        return ShiftnasError(
            f"no space left on the device writing {where}: free some space, then run the same "
            "command again to resume"
        )
    if err.errno in _NOT_WRITABLE:
        return ShiftnasError(
            f"cannot write {where} ({err.strerror}): make its folder writable, or use another "
            "folder (for a run: --run-dir)"
        )
    if err.errno == errno.ENOTDIR:
        return ShiftnasError(f"{where}: a file stands where a folder is needed: pass another path")
    return ShiftnasError(f"cannot write {where}: {err.strerror or err}")


def _atomic(path: Path, write: Callable[[int], None]) -> None:
    """Write through `write(fd)` to a temporary file beside `path`, fsync, rename over `path`."""
    path = Path(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # mode 0o666 is filtered by the umask, as for any new file (mkstemp would force 0600)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            write(fd)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as err:
        raise os_error(err, path) from None
    finally:
        tmp.unlink(missing_ok=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_bytes_atomic(path: Path, data: bytes) -> None:
    _atomic(path, lambda fd: _write_all(fd, data))


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def torch_save_atomic(path: Path, obj: Any) -> None:
    """`torch.save` into memory first, so a full disk is an `OSError` of our own write."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes_atomic(path, buffer.getvalue())


def load_weights(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """The `model` weights (a `state_dict`) of the checkpoint dictionary in `path`.

    Raises `ShiftnasError` naming the file when it is missing or damaged (truncated, overwritten,
    not a checkpoint): never a `PytorchStreamReader` traceback.
    """
    path = Path(path)
    if not path.exists():
        raise ShiftnasError(f"checkpoint {path} does not exist: train it first")
    return torch_load(path, device)["model"]


def torch_load(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """The checkpoint dictionary in an existing `path` (it must hold `model` weights)."""
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as err:  # a torn file cannot happen with atomic writes, but damage can
        raise damaged(path, f"not a readable checkpoint ({type(err).__name__})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise damaged(path, "a checkpoint without model weights")
    return state


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line and flush it to disk, so a kill loses at most the line being written.
    A torn last line left by an earlier kill is cut off first, so no record is glued onto it."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab+") as handle:
            if handle.seek(0, os.SEEK_END) > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.seek(0)
                    data = handle.read()
                    handle.truncate(data.rfind(b"\n") + 1)
                    log.info("%s: cut off a torn last line before appending", path)
            handle.write((json.dumps(record) + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        raise os_error(err, path) from None


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSON-lines file, one JSON object a line; nothing when it is absent.

    A torn last line (no newline: a kill mid-append) is dropped with a warning. Any other line
    that is not a JSON object raises `ShiftnasError` naming the file and the line number.
    """
    for _, record in numbered_jsonl(path):
        yield record


def numbered_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """`read_jsonl` with each record's line number (from 1), for checks that name the line."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n") and raw.startswith(b"{") and raw.isascii():
                # what a kill mid-append leaves: the start of a record (json.dumps writes ASCII)
                log.warning("%s: dropped the torn last line %d (a kill mid-append)", path, number)
                return
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise damaged(path, f"line {number} is not JSON ({_reason(err)})") from None
            if not isinstance(record, dict):
                raise damaged(path, f"line {number} is not a JSON object")
            yield number, record


def read_json(path: Path) -> Any:
    """The JSON value in `path`; a file that is not JSON raises `ShiftnasError` naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise damaged(path, f"is not JSON ({_reason(err)})") from None


def read_state(path: Path) -> dict[str, Any]:
    """A run's `state.json`: `{"stages": {name: {"status": ..., ...}}}`; one line when damaged."""
    fix = (
        "delete it and run the same command again: each stage then resumes from the files it "
        "wrote (finished training and search are not repeated)"
    )
    try:
        state = json.loads(Path(path).read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShiftnasError(f"{path} is damaged ({_reason(err)}): {fix}") from None
    if not isinstance(state, dict) or not isinstance(state.get("stages"), dict):
        raise ShiftnasError(f"{path} is damaged (no 'stages' object): {fix}")
    return state


def damaged(path: Path, problem: str) -> ShiftnasError:
    return ShiftnasError(
        f"{path} is damaged: {problem}: restore it, or delete it to compute it again"
    )


def _reason(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"{err.msg} at column {err.colno}"
    return "not UTF-8 text"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
