"""The systemd units of deploy/: what they promise about the machine they share (issue 19).

A big send keeps the workers' CPU busy (PDFs, payloads); the web must stay fast meanwhile (bench/web_during_send.py).
So the web comes first: each unit is a cgroup of its own, and between cgroups the kernel shares the CPU by
CPUWeight (100 when unset); within one, by niceness. The worker unit asks for less of both."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = {"CPUWeight": "100", "Nice": "0"}  # systemd's, for a unit that says nothing


def settings(unit: str) -> dict[str, str]:
    text = (ROOT / "deploy" / unit).read_text()
    service = text.split("[Service]", 1)[1].split("\n[", 1)[0]
    lines = service.replace("\\\n", " ").splitlines()
    return DEFAULTS | dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))


def test_the_web_comes_before_the_workers_when_the_cpu_is_short():
    web, worker = settings("payroll-web.service"), settings("payroll-worker@.service")
    assert int(worker["CPUWeight"]) * 4 <= int(web["CPUWeight"])
    assert int(worker["Nice"]) >= int(web["Nice"]) + 10


def test_the_workers_still_get_the_cpu_no_one_else_wants():
    """A weight and a niceness only share out a CPU that is short: an idle web leaves the workers all of it. Neither
    unit caps its CPU (CPUQuota), which would slow a send on an idle machine."""
    for unit in ("payroll-web.service", "payroll-worker@.service"):
        assert "CPUQuota" not in settings(unit), unit
        assert 1 <= int(settings(unit)["CPUWeight"]) <= 10_000 and -20 <= int(settings(unit)["Nice"]) <= 19
