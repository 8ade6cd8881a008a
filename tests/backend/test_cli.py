"""The `fieldbook` command, run as a real process: one clear line and a non-zero exit on every error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest


@pytest.fixture(scope="module")
def env(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOOK_")}
    return {**clean, "FIELDBOOK_DATA_DIR": str(tmp_path_factory.mktemp("cli")), "FIELDBOOK_DATABASE_URL": database_url}


def fieldbook(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int = 1, says: str = "") -> None:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith("fieldbook: error:") or first.startswith("usage:"), result.stderr
    assert says.lower() in result.stderr.lower(), result.stderr


def test_help_for_every_command(env):
    for args in (
        [],
        ["serve"],
        ["worker"],
        ["migrate"],
        ["demo"],
        ["org", "create"],
        ["user", "create"],
        ["stores", "import"],
        ["route", "solve"],
    ):
        result = fieldbook(env, *args, "--help")
        assert result.returncode == 0 and "usage: fieldbook" in result.stdout, (args, result)


def test_commands_before_migrate_say_to_migrate(env):
    assert_one_line_error(fieldbook(env, "org", "create", "Early"), says="fieldbook migrate")


def test_setting_up_an_organisation_from_the_command_line(env, tmp_path):
    assert fieldbook(env, "migrate").returncode == 0
    assert fieldbook(env, "migrate").returncode == 0  # idempotent
    created = fieldbook(env, "org", "create", "Acme", "--time-zone", "Asia/Shanghai", "--currency", "CNY")
    assert created.returncode == 0 and "Acme" in created.stdout
    assert_one_line_error(fieldbook(env, "org", "create", "Acme"), says="exists")
    assert_one_line_error(fieldbook(env, "org", "create", "Bad", "--time-zone", "Mars/Base"), says="time zone")

    boss = fieldbook(
        env,
        "user",
        "create",
        "--org",
        "Acme",
        "--email",
        "boss@acme.test",
        "--password",
        "a long password",
        "--role",
        "supervisor",
    )
    assert boss.returncode == 0, boss.stderr
    rep = fieldbook(
        env, "user", "create", "--org", "Acme", "--email", "rep@acme.test", "--password", "a long password",
        "--role", "rep", "--supervisor", "boss@acme.test",
    )  # fmt: skip
    assert rep.returncode == 0, rep.stderr
    assert_one_line_error(
        fieldbook(
            env, "user", "create", "--org", "Acme", "--email", "x@acme.test", "--password", "short", "--role", "rep"
        ),
        says="password",
    )
    assert_one_line_error(
        fieldbook(
            env,
            "user",
            "create",
            "--org",
            "Nope",
            "--email",
            "x@acme.test",
            "--password",
            "a long password",
            "--role",
            "rep",
        ),
        says="organisation",
    )
    assert_one_line_error(
        fieldbook(
            env,
            "user",
            "create",
            "--org",
            "Acme",
            "--email",
            "x@acme.test",
            "--password",
            "a long password",
            "--role",
            "root",
        ),
        code=2,
        says="invalid choice",
    )
    assert_one_line_error(
        fieldbook(
            env,
            "user",
            "create",
            "--org",
            "Acme",
            "--email",
            "rep@acme.test",
            "--password",
            "a long password",
            "--role",
            "rep",
        ),
        says="exists",
    )

    good = tmp_path / "stores.csv"
    good.write_text("code,name,channel,lat,lng\nA0,Corner shop,traditional,31.2,121.4\n")
    assert_one_line_error(fieldbook(env, "stores", "import", str(good), "--org", "Acme"), says="no active admin")
    admin = ["user", "create", "--org", "Acme", "--email", "admin@acme.test", "--password", "a long password"]
    assert fieldbook(env, *admin, "--role", "admin").returncode == 0
    good.write_text("code,name,channel,lat,lng,rep_email\nA1,Corner shop,traditional,31.2,121.4,rep@acme.test\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,channel,lat,lng\nB1,Fine,traditional,31.2,121.4\nB2,Broken,traditional,131.2,121.4\n")
    result = fieldbook(env, "stores", "import", str(bad), "--org", "Acme")
    assert_one_line_error(result, says="nothing was imported")
    result = fieldbook(env, "stores", "import", str(good), "--org", "Acme")
    assert result.returncode == 0 and "1 created" in result.stdout, result
    assert_one_line_error(
        fieldbook(env, "stores", "import", str(tmp_path / "missing.csv"), "--org", "Acme"), says="no file"
    )

    # The demo refuses a database that holds data, and says how to force it.
    assert_one_line_error(fieldbook(env, "demo"), says="--force")
    quiet = fieldbook(env, "demo", "--if-empty")
    assert quiet.returncode == 0, quiet

    once = fieldbook(env, "worker", "--once")
    assert once.returncode == 0 and "prune_login_failures" in once.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_and_stops_cleanly(env):
    assert fieldbook(env, "migrate").returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=5).status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/schema/openapi.json", timeout=5).status_code == 200
        wrong_host = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", headers={"Host": "evil.example"}, timeout=5)
        assert wrong_host.status_code == 400
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    assert "Traceback" not in output


def test_a_bad_setting_is_one_line(env):
    result = fieldbook({**env, "FIELDBOOK_PORT": "eighty"}, "migrate")
    assert_one_line_error(result, says="FIELDBOOK_PORT")


def test_several_processes_need_postgres(env):
    if not env["FIELDBOOK_DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite only")
    assert_one_line_error(fieldbook(env, "serve", "--workers", "2"), says="PostgreSQL")


def test_route_solve_reads_a_problem_and_prints_the_plan(env, tmp_path):
    problem = {
        "locations": [[121.47, 31.23], [121.48, 31.235], [121.46, 31.22], [121.475, 31.24]],
        "jobs": [
            {"id": "lunch-closed", "location": 1, "service_s": 1200, "windows": [[32400, 41400], [48600, 64800]]},
            {"id": "any-time", "location": 2, "service_s": 1800},
            {"id": "closed", "location": 3, "service_s": 600, "windows": []},
        ],
        "vehicles": [{"id": "rep", "start": 0, "end": 0, "shift": [30600, 63000]}],
    }
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem))
    result = fieldbook(env, "route", "solve", str(path))
    assert result.returncode == 0, result.stderr
    solution = json.loads(result.stdout)
    planned = [stop["id"] for stop in solution["routes"][0]["stops"] if stop["kind"] == "job"]
    assert sorted(planned) == ["any-time", "lunch-closed"]
    assert solution["unassigned"] == [
        {"id": "closed", "reason": "closed", "detail": solution["unassigned"][0]["detail"]}
    ]
    path.write_text(json.dumps({**problem, "jobs": [{"id": "x", "location": 9}]}))
    assert_one_line_error(fieldbook(env, "route", "solve", str(path)), code=2, says="jobs[0].location")
