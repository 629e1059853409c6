"""What a send could reach at best with its own concurrency, latency and CPU, waiting included: a closed queueing
network solved by mean value analysis (exact, load-dependent: Reiser and Lavenberg, 1980).

min(C / latency, cores / CPU) is what each resource allows alone. Near the point where the two are equal (C = 16 at
50 ms, about 7 ms of CPU per payslip on 2 cores) a send is held back by both at once: its C payslips are sometimes
all waiting for Kivra while the cores idle, and sometimes all queueing for the cores while Kivra waits. The model
counts that wait: C payslips go round a delay of `latency_ms` (each call on its own) and one station of `cores`
servers that each serve a payslip for `cpu_ms` on average. It is optimistic for a Python worker: it lets any payslip
use any core, where a worker process's threads share one interpreter lock.
"""


def throughput(concurrency: int, latency_ms: float, cpu_ms: float, cores: int) -> float:
    """Payslips per second the model allows."""
    if cpu_ms <= 0:
        return concurrency * 1000 / latency_ms
    rate = [0.0] + [min(jobs, cores) / cpu_ms for jobs in range(1, concurrency + 1)]  # served per ms with j there
    at_cpu = [1.0]  # at_cpu[j]: the chance that j payslips are at the cores, with n - 1 in the network
    per_ms = 0.0
    for n in range(1, concurrency + 1):
        residence = sum(jobs / rate[jobs] * at_cpu[jobs - 1] for jobs in range(1, n + 1))
        per_ms = n / (latency_ms + residence)
        busy = [per_ms / rate[jobs] * at_cpu[jobs - 1] for jobs in range(1, n + 1)]
        at_cpu = [max(0.0, 1.0 - sum(busy))] + busy
    return per_ms * 1000
