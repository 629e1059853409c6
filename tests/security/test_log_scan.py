"""The whole-run log scan (tests/security/log_scan.py): what it takes for a personnummer, and that it fails a run."""
from pathlib import Path

import pytest

from tests.security.log_scan import Leak, failing, personnummer_in, scan_files

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("line", ["saved 191212121212", "pnr=19121212-1212 x", "(121212-1212)", "121212+1212",
                                  "Key (company_id, personnummer)=(1, 191212121212) already exists.",
                                  '{"ssn": "198112189876"}', "samordningsnummer 197010632391"])
def test_a_personnummer_is_found(line):
    assert personnummer_in(line)


@pytest.mark.parametrize("line", ["orgnr 5568402266", "at 20261201101342", "epoch 1764583200", "id 1234567890",
                                  "191212121213 (wrong check digit)", "payslip 42, 3 250 000 öre", "201313131313",
                                  # a content hash whose digits happen to read as a samordningsnummer (CI, 1 Dec 2026)
                                  "content 17961297772fd15a2506814785a376dda9360a9b6a for 19541106****: delivered"])
def test_ids_timestamps_and_orgnr_are_not(line):
    assert not personnummer_in(line)


def test_a_leak_fails_a_passing_run_and_keeps_another_failure(tmp_path):
    assert failing([], pytest.ExitCode.OK) == pytest.ExitCode.OK
    assert failing([Leak("t", "191212121212")], pytest.ExitCode.OK) == pytest.ExitCode.TESTS_FAILED
    assert failing([Leak("t", "191212121212")], pytest.ExitCode.INTERRUPTED) == pytest.ExitCode.INTERRUPTED
    planted = tmp_path / "expected-leaks"  # the whole run's scan passes this folder by
    planted.mkdir()
    (planted / "gunicorn.log").write_text("ok\nsaved 19121212-1212\n")
    (planted / "postgres.log").write_text("DETAIL: Key (personnummer)=(191212121212) already exists.\n")
    assert [leak.line for leak in scan_files(planted)] == ["saved 19121212-1212"]
    assert scan_files(tmp_path) == []


def test_a_run_whose_test_logs_a_personnummer_fails(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_leaky="""
        import logging

        def test_logs_one():
            logging.getLogger("kivra.x").warning("employee 19121212-1212 saved")

        def test_clean(tmp_path):
            (tmp_path / "worker.log").write_text("send 191212121212 done")
    """)
    result = pytester.runpytest_subprocess("-p", "tests.security.log_scan")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*personnummer in the logs*", "*test_leaky.py::test_logs_one: WARNING kivra.x: "
                                 "employee 19121212-1212 saved*", "*worker.log: send 191212121212 done*",
                                 "2 log line(s) with a personnummer: the run fails"])
