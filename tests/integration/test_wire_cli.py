"""`queue-server device` and `staff` commands, key files, and start-up key checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from queue_common import paths
from queue_common.endpoint import ClientKeys, ServerEndpoint
from queue_server import keys
from queue_server.loop.server import HallServer, ServerOptions
from tests.support.live import REPO, _env, _template


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "queue_server.cli", *args], input=stdin,
                          capture_output=True, text=True, env=_env(), cwd=REPO, timeout=120)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "hall"
    shutil.copytree(_template(True), target)
    return target


def test_device_add_writes_a_usable_secret_and_trusts_it(data: Path) -> None:
    done = cli("device", "add", "kiosk-2", "--role", "kiosk", "--data", str(data))
    assert done.returncode == 0, done.stderr
    ck = ClientKeys.from_data_dir(data, "kiosk-2")
    trusted, problems = keys.load_trusted(data)
    assert problems == []
    assert trusted[ck.public].name == "kiosk-2" and trusted[ck.public].role == "kiosk"
    again = cli("device", "add", "kiosk-2", "--role", "board", "--data", str(data))
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = cli("device", "add", "../evil", "--role", "kiosk", "--data", str(data))
    assert bad.returncode != 0


def test_device_revoke_moves_the_key_out_and_list_shows_it(data: Path) -> None:
    assert cli("device", "revoke", "counter-8", "--data", str(data)).returncode == 0
    assert not (paths.trusted_keys_dir(data) / "counter-8.key").exists()
    assert not paths.device_secret_key(data, "counter-8").exists()
    listing = cli("device", "list", "--data", str(data)).stdout
    row = next(line for line in listing.splitlines() if line.startswith("counter-8 "))
    assert " no " in row, "a revoked device is listed as not trusted"
    assert cli("device", "revoke", "counter-8", "--data", str(data)).returncode == 1


def test_staff_password_comes_from_stdin_never_from_arguments(data: Path) -> None:
    done = cli("staff", "add", "clerk9", "--role", "clerk", "--name", "赵六", "--badge",
               "0109", "--data", str(data), stdin="long-enough-1\n")
    assert done.returncode == 0, done.stderr
    assert "long-enough-1" not in done.stdout + done.stderr
    short = cli("staff", "add", "clerk10", "--role", "clerk", "--name", "x", "--data",
                str(data), stdin="short\n")
    assert short.returncode == 1
    dup = cli("staff", "add", "clerk9", "--role", "clerk", "--name", "x", "--data",
              str(data), stdin="long-enough-2\n")
    assert dup.returncode == 1 and "exists" in dup.stderr
    assert cli("staff", "disable", "clerk9", "--data", str(data)).returncode == 0
    listing = cli("staff", "list", "--data", str(data)).stdout
    assert any(line.startswith("clerk9 ") and " no " in line for line in listing.splitlines())
    from queue_server.devices import hall_database
    from queue_server.store.models import Staff

    with hall_database(data) as engine, engine.connect() as conn:
        stored = conn.execute(Staff.__table__.select().where(Staff.user == "clerk9")).first()
    assert stored is not None and stored.password_hash.startswith("scrypt$")
    assert "long-enough-1" not in stored.password_hash


def test_server_refuses_to_start_without_any_trusted_key(tmp_path: Path) -> None:
    keys.create_hall_keys(tmp_path, [])
    never_asked: Any = object()  # the hall is not reached: start-up fails on the keys
    server = HallServer(never_asked, tmp_path, ServerOptions(host="127.0.0.1",
                                                             request_port=0, event_port=0))
    with pytest.raises(keys.KeyFileError, match="no trusted device keys"):
        server.bind()
    server.close()


def test_a_broken_trusted_key_file_is_reported_not_silently_skipped(tmp_path: Path) -> None:
    keys.create_hall_keys(tmp_path, [("kiosk-1", "kiosk")])
    (paths.trusted_keys_dir(tmp_path) / "board-9.key").write_text("garbage\n", "utf-8")
    (paths.trusted_keys_dir(tmp_path) / "odd-1.key").write_text(
        'metadata\n    role = "printer"\ncurve\n    public-key = "' + "a" * 40 + '"\n', "utf-8")
    trusted, problems = keys.load_trusted(tmp_path)
    assert [d.name for d in trusted.values()] == ["kiosk-1"]
    assert any("board-9.key" in p for p in problems)
    assert any("odd-1.key" in p and "printer" in p for p in problems)


def test_server_address_parsing() -> None:
    base = ServerEndpoint("10.0.0.5", 6000, 6001)
    assert ServerEndpoint.parse("192.168.1.10", base) == ServerEndpoint("192.168.1.10", 6000,
                                                                          6001)
    assert ServerEndpoint.parse("hall-pc:7000:7001") == ServerEndpoint("hall-pc", 7000, 7001)
    assert ServerEndpoint.parse("[::1]:7000:7001").request_url == "tcp://[::1]:7000"
    with pytest.raises(ValueError):
        ServerEndpoint.parse("host:70000:1")
    with pytest.raises(ValueError):
        ServerEndpoint.parse("two words")
