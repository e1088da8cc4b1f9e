"""How a claim file's bytes are read from a path (``rma.adapters.readers.source``): never through a
symbolic link, never blocked by a named pipe (nor opening one at all), never a file that
changes while it is read, and with a drop folder's listed state only that very file. Each
layer is tested on its own, the layer before it switched off where it would hide it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from rma.adapters.db.engine import make_engine
from rma.adapters.readers import read_batch
from rma.adapters.readers import source as src
from rma.config import Limits, Settings
from rma.errors import BatchError, NotReadable
from rma.service.batch import ingest_file
from rma.service.origin import Origin
from tests.factories import valid_claim, write_csv
from tests.hostile.conftest import POSTING_TABLES, posted_rows

#: a thread still blocked after this long is a read that blocks
BLOCKED_SECONDS = 3.0


def _victim(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_csv(folder / "victim.csv", [valid_claim(), valid_claim()])


def _in_thread(action, seconds: float = BLOCKED_SECONDS) -> tuple[bool, object]:
    """Run ``action`` in a thread: (finished in time, its result or exception)."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = action()
        except BaseException as exc:  # noqa: BLE001 - what it raised is the result
            out["value"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), out.get("value")


def _unblock(fifo: Path) -> None:
    """Let a reader blocked in open() of ``fifo`` go: a writer opens it and closes it."""
    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def test_a_symbolic_link_is_not_read_but_refused_in_one_line(tmp_path):
    link = tmp_path / "D-000" / "stolen.csv"
    link.parent.mkdir()
    link.symlink_to(_victim(tmp_path / "D-001"))
    with pytest.raises(BatchError) as caught:
        read_batch(link)
    assert caught.value.code == "UNREADABLE_FILE"
    assert caught.value.message == ("stolen.csv: not a regular file: it is a symbolic link, "
                                    "which is never read")


def test_a_link_put_there_after_the_name_was_checked_is_not_followed(tmp_path, monkeypatch):
    # the race: lstat saw a regular file, then the name became a link; O_NOFOLLOW refuses it
    monkeypatch.setattr(src, "refuse_named", lambda path: None)
    victim = _victim(tmp_path / "D-001")
    link = tmp_path / "stolen.csv"
    link.symlink_to(victim)
    with pytest.raises(OSError) as caught:
        src.read_regular(link, 1 << 20)
    assert not isinstance(caught.value, NotReadable)  # the kernel said no (ELOOP)
    with pytest.raises(BatchError, match=r"^stolen\.csv: the file cannot be opened"):
        read_batch(link)


def test_a_named_pipe_is_refused_at_once_and_never_opened(tmp_path):
    fifo = tmp_path / "claims.csv"
    os.mkfifo(fifo)
    # a writer waiting in open() goes on the moment anyone opens the pipe to read it
    writer = threading.Thread(target=lambda: os.close(os.open(fifo, os.O_WRONLY)), daemon=True)
    writer.start()
    started = time.monotonic()
    finished, outcome = _in_thread(lambda: read_batch(fifo))
    try:
        assert finished, "reading a named pipe blocked"
        assert time.monotonic() - started < 1.0
        assert isinstance(outcome, BatchError) and outcome.code == "UNREADABLE_FILE"
        assert outcome.message == ("claims.csv: not a regular file: it is a named pipe (FIFO), "
                                   "which is never read")
        writer.join(0.3)
        assert writer.is_alive(), "the pipe was opened for reading"
    finally:  # let the writer go
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(5)


def test_a_pipe_swapped_in_after_the_name_was_checked_does_not_block_the_read(
        tmp_path, monkeypatch):
    monkeypatch.setattr(src, "refuse_named", lambda path: None)
    fifo = tmp_path / "claims.csv"
    os.mkfifo(fifo)
    finished, outcome = _in_thread(lambda: read_batch(fifo))
    if not finished:
        _unblock(fifo)
    assert finished, "open() of a named pipe blocked (O_NONBLOCK missing)"
    assert isinstance(outcome, BatchError), outcome
    assert "not a regular file: it is a named pipe" in outcome.message


def test_a_device_is_refused_without_reading_it():
    with pytest.raises(NotReadable, match=r"not a regular file: it is a device"):
        src.read_regular(Path("/dev/zero"), 1 << 20)


def test_a_file_that_grows_while_it_is_read_posts_nothing(tmp_path, reference_db, monkeypatch):
    import shutil

    db = tmp_path / "claims.db"
    shutil.copyfile(reference_db, db)
    path = _victim(tmp_path / "D-001")
    real_open = open
    appended = []

    def open_and_append(fd, *args, **kwargs):  # a writer appends once while it is read
        handle = real_open(fd, *args, **kwargs)
        read = handle.read

        def read_then_append(*a):
            data = read(*a)
            if not appended:
                with real_open(path, "ab") as more:
                    more.write(b"SN999999,half a row")
                appended.append(True)
            return data

        handle.read = read_then_append
        return handle

    monkeypatch.setattr(src, "open", open_and_append, raising=False)
    engine = make_engine(f"sqlite:///{db}")
    try:
        result = ingest_file(path, Origin("D-001", str(path)), engine, Settings(),
                             tmp_path / "reports")
    finally:
        engine.dispose()
    assert result.status == "failed" and result.error["code"] == "UNREADABLE_FILE"
    assert "victim.csv: it changed while it was read" in result.error["message"]
    assert posted_rows(f"sqlite:///{db}") == dict.fromkeys(POSTING_TABLES, 0)


def test_a_listed_drop_folder_file_is_read_only_while_it_is_that_very_file(tmp_path):
    path = _victim(tmp_path / "D-001")
    listed = src.FileState.of(os.lstat(path))
    assert read_batch(path, Limits(), listed).sent.shape[0] == 2

    with path.open("ab") as more:  # changed since it was listed: not read
        more.write(b"\r\n")
    with pytest.raises(BatchError, match=r"victim\.csv: it changed after the drop folder was "
                                         r"listed"):
        read_batch(path, Limits(), listed)

    other = tmp_path / "other.csv"  # replaced by another file under the same name
    write_csv(other, [valid_claim()])
    os.replace(other, path)
    with pytest.raises(BatchError, match=r"replaced by another file"):
        read_batch(path, Limits(), listed)

    listed = src.FileState.of(os.lstat(path))  # a second name added since it was listed
    os.link(path, tmp_path / "second-name.csv")
    with pytest.raises(BatchError, match=r"it has 2 names \(a hard link"):
        read_batch(path, Limits(), listed)


def test_a_file_larger_than_the_limit_is_not_hashed(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 11)
    sha, state = src.sha256_regular(path, max_bytes=10)
    assert sha is None and state.size == 11
    assert src.sha256_regular(path, max_bytes=11)[0] is not None


def test_estimating_the_rows_of_a_named_pipe_does_not_block(tmp_path):
    from rma.adapters.readers.large_files import is_large

    fifo = tmp_path / "claims.csv"
    os.mkfifo(fifo)
    finished, outcome = _in_thread(lambda: is_large(fifo, 1))
    if not finished:
        _unblock(fifo)
    assert finished, "the chunked path's row estimate blocked on a named pipe"
    assert outcome is False


def test_an_e_mail_that_is_a_named_pipe_is_refused_without_blocking(tmp_path):
    from flows.tasks import ingest_mail
    from rma.config import load_settings

    fifo = tmp_path / "message.eml"
    os.mkfifo(fifo)
    finished, outcome = _in_thread(lambda: ingest_mail.fn(
        str(fifo), f"sqlite:///{tmp_path / 'claims.db'}", str(tmp_path), str(tmp_path),
        load_settings({})))
    if not finished:
        _unblock(fifo)
    assert finished, "reading an e-mail that is a named pipe blocked"
    assert isinstance(outcome, NotReadable), outcome
