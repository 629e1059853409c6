"""The queueing model bench/dispatch_throughput.py reports beside its bound (bench/queueing.py)."""
import pytest

from bench.queueing import throughput


def single_server(concurrency: int, latency_ms: float, cpu_ms: float) -> float:
    """The textbook recursion for one server (Lazowska et al., Quantitative System Performance, ch. 6)."""
    queue, per_ms = 0.0, 0.0
    for n in range(1, concurrency + 1):
        residence = cpu_ms * (1 + queue)
        per_ms = n / (latency_ms + residence)
        queue = per_ms * residence
    return per_ms * 1000


def test_one_payslip_at_a_time_goes_round_once_per_call_and_cpu():
    assert throughput(1, 50, 7, cores=2) == pytest.approx(1000 / 57)


@pytest.mark.parametrize("concurrency", [1, 2, 5, 16, 64])
def test_one_core_agrees_with_the_textbook_recursion(concurrency):
    assert throughput(concurrency, 50, 7, cores=1) == pytest.approx(single_server(concurrency, 50, 7))


@pytest.mark.parametrize("concurrency, cpu_ms", [(4, 7), (16, 5), (16, 7), (16, 12), (64, 7)])
def test_never_above_what_the_latency_or_the_cores_allow_alone(concurrency, cpu_ms):
    assert throughput(concurrency, 50, cpu_ms, cores=2) <= min(concurrency * 1000 / 50, 2000 / cpu_ms) * (1 + 1e-9)


def test_where_the_two_limits_meet_the_wait_costs_most_and_far_from_it_little():
    at_the_knee = throughput(16, 50, 7, cores=2) / min(320, 2000 / 7)
    cpu_bound = throughput(64, 50, 7, cores=2) / (2000 / 7)
    assert at_the_knee < 0.9 and cpu_bound > 0.99


def test_no_cpu_leaves_the_latency_alone():
    assert throughput(16, 50, 0, cores=2) == 320
