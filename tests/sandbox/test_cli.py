"""`python -m kivra.sandbox`: flags, KIVRA_SANDBOX_* variables, loopback only, and a real start."""
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kivra.sandbox.__main__ import config_from, parse
from kivra.sandbox.server import require_loopback

ROOT = Path(__file__).resolve().parents[2]


def test_flags_and_environment_build_the_config():
    args = parse(["--error-rate", "0.2", "--no-duplicate-control", "--token-ttl", "5"],
                 {"KIVRA_SANDBOX_ERROR_RATE": "0.9", "KIVRA_SANDBOX_LATENCY_MS": "30", "KIVRA_SANDBOX_SEED": "3"})
    config = config_from(args)
    assert config.faults.error_rate == 0.2  # the flag wins
    assert config.faults.latency_ms == 30 and config.seed == 3 and config.token_ttl == 5
    assert config.duplicate_control is False


def test_environment_can_switch_duplicate_control_off():
    assert config_from(parse([], {"KIVRA_SANDBOX_NO_DUPLICATE_CONTROL": "true"})).duplicate_control is False
    assert config_from(parse([], {})).duplicate_control is True


@pytest.mark.parametrize("host", ["0.0.0.0", "8.8.8.8"])
def test_only_loopback_hosts_are_allowed(host):
    with pytest.raises(ValueError):
        require_loopback(host)
    require_loopback("127.0.0.1")
    require_loopback("localhost")


def test_the_module_starts_a_server_that_answers_auth():
    process = subprocess.Popen([sys.executable, "-m", "kivra.sandbox", "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first_line = process.stdout.readline()
        url = first_line.split()[3]
        response = httpx.post(f"{url}/v1/auth", data={"grant_type": "client_credentials"},
                              auth=("sandbox-client", "sandbox-secret"))
        assert response.status_code == 200 and response.json()["token_type"] == "bearer"
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()


def test_a_non_loopback_host_is_refused_at_start():
    result = subprocess.run([sys.executable, "-m", "kivra.sandbox", "--host", "0.0.0.0", "--port", "0"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "loopback" in result.stderr


@pytest.mark.parametrize("keep_alive", [False, True])
def test_keep_alive_answers_on_one_connection_as_kivra_does(keep_alive):
    """Kivra keeps a connection open for the next call; Werkzeug's server closes each one, so every call also opens
    one (a third of the client's CPU per call in bench/dispatch_throughput.py). `--keep-alive` serves like Kivra."""
    process = subprocess.Popen([sys.executable, "-m", "kivra.sandbox", "--port", "0"] + ["--keep-alive"] * keep_alive,
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().split()[3]
        with httpx.Client() as client:
            answers = [client.post(f"{url}/v1/auth", data={"grant_type": "client_credentials"},
                                   auth=("sandbox-client", "sandbox-secret")) for _ in range(2)]
            if keep_alive:  # both answers came on the one connection (a closed one cannot be asked)
                assert len({answer.extensions["network_stream"].get_extra_info("client_addr")
                            for answer in answers}) == 1
        assert [answer.status_code for answer in answers] == [200, 200]
        assert {answer.headers["connection"] for answer in answers} == {"keep-alive" if keep_alive else "close"}
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_keep_alive_listens_on_loopback_only():
    result = subprocess.run([sys.executable, "-m", "kivra.sandbox", "--keep-alive", "--host", "0.0.0.0", "--port", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "loopback" in result.stderr
