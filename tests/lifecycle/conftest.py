"""The year's test reuses tests/reliability's process fixtures: every process it starts is stopped at its end."""
from tests.reliability.conftest import app_on, processes  # noqa: F401  (fixtures)
