"""Settings: the signing key generated into var/ when EVAL_SECRET_KEY is not set."""

import threading
from pathlib import Path

import pytest

from evalplatform.settings import Settings


def test_a_generated_key_is_written_once_and_shared_by_every_process(tmp_path):
    first = Settings(var_dir=tmp_path, secret_key="").resolved_secret_key()
    second = Settings(var_dir=tmp_path, secret_key="").resolved_secret_key()
    assert first == second
    assert len(first) >= 40
    assert (tmp_path / "secret_key").read_text(encoding="ascii").strip() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_key_is_read_from_disk_once_not_on_every_request(tmp_path, monkeypatch):
    settings = Settings(var_dir=tmp_path, secret_key="")
    key = settings.resolved_secret_key()
    reads = []
    real = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: reads.append(self) or real(self, *a, **k))
    assert [settings.resolved_secret_key() for _ in range(3)] == [key] * 3
    assert reads == []


def test_a_key_file_caught_before_its_writer_wrote_it_is_waited_for(tmp_path):
    (tmp_path / "secret_key").write_text("", encoding="ascii")  # another worker opened it
    writer = threading.Timer(0.1, (tmp_path / "secret_key").write_text, ("k" * 64,))
    writer.start()
    try:
        assert Settings(var_dir=tmp_path, secret_key="").resolved_secret_key() == "k" * 64
    finally:
        writer.join()


def test_a_key_file_left_empty_is_refused_not_used(tmp_path, monkeypatch):
    (tmp_path / "secret_key").write_text("", encoding="ascii")
    monkeypatch.setattr("evalplatform.settings.time.sleep", lambda _s: None)
    with pytest.raises(RuntimeError, match="secret_key is empty"):
        Settings(var_dir=tmp_path, secret_key="").resolved_secret_key()


def test_the_environment_key_wins(tmp_path):
    assert Settings(var_dir=tmp_path, secret_key="from-env").resolved_secret_key() == "from-env"
    assert not (tmp_path / "secret_key").exists()
