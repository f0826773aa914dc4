"""Writing results: to standard output, or to a file without ever harming one.

``-o FILE`` writes a temporary file beside the target and renames it over the
target, so a reader never sees half a file and a failure leaves the old file
as it was.  A symbolic link is written through (its target is replaced and
the link stays); device nodes, FIFOs and sockets are refused (``-`` is
standard output); an existing file keeps its mode, a new one gets the umask's;
the spec files this process read are never overwritten; SIGTERM, like Ctrl-C,
removes the temporary file; a full disk, a file too large or a permission
problem is a one-line error.

:func:`printable` makes text safe to show: control characters (terminal
escape sequences among them) in names and messages are shown escaped,
never executed.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from typing import Iterable

from .errors import CostcalcError


class OutputError(CostcalcError):
    pass


# C0 controls except tab and newline, DEL, C1 controls, and the Unicode controls that reorder or
# hide text (bidi overrides and isolates, line/paragraph separators)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match) -> str:
    ch = match.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def needs_escape(text: str) -> bool:
    return _CONTROL.search(text) is not None


def printable(text: str, newlines: bool = True) -> str:
    """`text` with control characters shown as escapes (``\\x1b``); newlines kept if `newlines`."""
    if not newlines:
        text = text.replace("\n", "\\n").replace("\t", " ")
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def write_output(chunks: Iterable, output: str | None, inputs: Iterable[str] = (), binary: bool = False) -> None:
    """Write text `chunks` (bytes with `binary`) to standard output (None or "-") or atomically to
    the file `output`, which must not be one of the files `inputs` (the specs the command reads)."""
    if output is None or output == "-":
        write = sys.stdout.buffer.write if binary else sys.stdout.write
        for chunk in chunks:
            write(chunk)
        return
    target, mode = _target(output, inputs)
    folder = os.path.dirname(target)
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=".costcalc-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"--output {printable(output, False)}: cannot write in {printable(folder, False)}: "
                          f"{exc.strerror or exc}") from None
    restore = _clean_on_sigterm()
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, target)
    except OSError as exc:
        _unlink(tmp)
        raise OutputError(f"--output {printable(output, False)}: cannot write: {exc.strerror or exc} "
                          "(nothing was written; an existing file is unchanged)") from None
    except BaseException:
        _unlink(tmp)
        raise
    finally:
        restore()


def _target(output: str, inputs: Iterable[str]) -> tuple[str, int]:
    """The file to replace (a link's target) and the mode the new file gets."""
    shown = printable(output, False)
    target = os.path.realpath(output)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"--output {shown}: {exc.strerror or exc}") from None
    if st is None:
        if not os.path.isdir(os.path.dirname(target)):
            raise OutputError(f"--output {shown}: no such folder {printable(os.path.dirname(target), False)}")
        umask = os.umask(0)
        os.umask(umask)
        return target, 0o666 & ~umask
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"--output {shown}: is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"--output {shown}: not a regular file (a device, FIFO or socket); "
                          "use '-' or no --output for standard output")
    if any(_same(st, path) for path in inputs):
        raise OutputError(f"--output {shown}: is a spec this command reads; choose another file")
    return target, stat.S_IMODE(st.st_mode)


def _same(st, path: str) -> bool:
    try:
        other = os.stat(path)
    except OSError:
        return False
    return (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class _Terminated(BaseException):
    """SIGTERM while writing: unwinds like Ctrl-C, so the temporary file is removed."""


def _clean_on_sigterm():
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise _Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, previous)
