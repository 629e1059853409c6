"""The app's own time in every answer, for benches that serve it: `Server-Timing: app;dur=<ms>, cpu;dur=<ms>`.

Serve `bench.server_timing:timed_app()` instead of `kivra:create_app()`: the app configured from the environment, as
production configures it, wrapped in a WSGI middleware that times each request from its arrival to its rendered
response (queueing in gunicorn's listen backlog and the network are outside it; the client's time has them).
bench/status_pages.py serves its apps through the same middleware."""
import time


def server_timing(app):
    """WSGI middleware: `Server-Timing: app;dur=<ms>, cpu;dur=<ms>`, from the request's arrival to its rendered
    response: the time, and the CPU time of the thread that made it (the app's own work, whatever else the machine
    runs; on PostgreSQL the database's work is in its server, not in this figure)."""
    def timed(environ, start_response):
        started, started_cpu = time.perf_counter(), time.thread_time()

        def start(status, headers, exc_info=None):
            headers.append(("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.3f}, "
                                             f"cpu;dur={(time.thread_time() - started_cpu) * 1000:.3f}"))
            return start_response(status, headers, exc_info)
        return app(environ, start)
    return timed


def timed_app():
    """For gunicorn: the app from the environment, with Server-Timing."""
    from kivra import create_app

    return server_timing(create_app())


def app_duration_ms(header: str | None) -> float | None:
    """The `app;dur=` figure of a Server-Timing header, in ms; None without one."""
    for metric in (header or "").split(","):
        name, _, params = metric.strip().partition(";")
        if name == "app":
            for param in params.split(";"):
                key, _, value = param.strip().partition("=")
                if key == "dur":
                    return float(value)
    return None
