"""The app's own time in every answer, for benches that serve it with gunicorn: `Server-Timing: app;dur=<ms>`.

Serve `bench.server_timing:timed_app()` instead of `kivra:create_app()`: the app configured from the environment, as
production configures it, wrapped in a WSGI middleware that times each request from its arrival to its rendered
response (queueing in gunicorn's listen backlog and the network are outside it; the client's time has them).
bench/status_pages.py has the same middleware inside it, with settings of its own at import."""
import time


def server_timing(app):
    """WSGI middleware: `Server-Timing: app;dur=<ms>` from the request's arrival to its rendered response."""
    def timed(environ, start_response):
        started = time.perf_counter()

        def start(status, headers, exc_info=None):
            headers.append(("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.3f}"))
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
