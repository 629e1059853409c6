"""What the sandbox starts with: clients, recipients, foreign tenants, limits and injected faults."""
from dataclasses import dataclass, field, fields

RECIPIENT_STATUSES = ("user", "not_user", "opted_out", "dormant")
ACCESS_OUTCOMES = ("accepted", "rejected")
KIVRA_TEST_USERS = ("191212121212", "197701032380", "198112172385")
# The demo company (Demo AB, kivra/demo.py) and its employees as this Kivra knows them: 18 users, two who are not,
# one who opted out of the company's payslips, one dormant, two users. Data, not code shared with the app: the sandbox
# is Kivra, and Kivra knows people, not our payroll (tests/sandbox/test_registry.py checks the demo still matches).
# The 25th demo employee has a samordningsnummer, which Kivra refuses whatever its registry says: not listed.
DEMO_COMPANY_ORGNR = "5568402266"
DEMO_EMPLOYEES = dict(zip(
    ("197001012009", "197102042079", "197203072140", "197304102218", "197405132288", "197506162358", "197607192429",
     "197708222497", "197809252567", "197910282636", "198011032706", "198112062776", "198201092841", "198302122919",
     "198403152989", "198504183057", "198605213126", "198706243196", "198807273266", "198908023339", "199009053407",
     "199110083475", "199211113544", "199312143614"),
    ["user"] * 18 + ["not_user", "not_user", "opted_out", "dormant", "user", "user"],
))


def demo_recipient_registry() -> dict[str, str]:
    """Kivra's test numbers and the demo employees, each with the status the demo relies on."""
    return dict.fromkeys(KIVRA_TEST_USERS, "user") | DEMO_EMPLOYEES


@dataclass
class FaultConfig:
    """Trouble to inject into API answers (never into `/_sandbox`). Rates are shares between 0 and 1."""

    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_before_rate: float = 0.0
    timeout_after_rate: float = 0.0
    hang_seconds: float = 5.0
    burst_429_every: int = 0
    burst_429_length: int = 0
    early_token_expiry_rate: float = 0.0

    def __post_init__(self):
        for name in ("error_rate", "timeout_before_rate", "timeout_after_rate", "early_token_expiry_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("latency_ms", "hang_seconds", "burst_429_every", "burst_429_length"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    @classmethod
    def from_dict(cls, data: dict) -> "FaultConfig":
        """Build from JSON; unknown names and wrong types are refused rather than ignored."""
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        types = {f.name: f.type for f in fields(cls)}
        unknown = set(data) - set(types)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        values = {}
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number")
            if types[name] in ("int", int) and value != int(value):
                raise ValueError(f"{name} must be a whole number")
            values[name] = int(value) if types[name] in ("int", int) else float(value)
        return cls(**values)


@dataclass
class SandboxConfig:
    """The sandbox's starting point; `POST /_sandbox/reset` returns to it."""

    clients: dict[str, str] = field(default_factory=lambda: {"sandbox-client": "sandbox-secret"})
    client_names: dict[str, str] = field(default_factory=lambda: {"sandbox-client": "Sandbox Payroll"})
    token_ttl: float = 28800
    duplicate_control: bool = True
    request_access_pending_seconds: float = 5.0
    foreign_tenants: dict[str, tuple[str, str]] = field(default_factory=lambda: {
        "SE556036079301": ("Annat AB", "accepted"),
        "SE556703748501": ("Avvisat AB", "rejected"),
    })
    recipients: dict[str, str] = field(default_factory=demo_recipient_registry)
    company_recipients: frozenset[str] = frozenset({f"SE{DEMO_COMPANY_ORGNR}01"})
    faults: FaultConfig = field(default_factory=FaultConfig)
    rate_limit_per_recipient_per_minute: int = 50
    max_content_bytes: int = 1_000_000
    max_request_bytes: int = 10_000_000
    # Kivra advises 30–35 characters; the sandbox enforces it so our own overlong subjects show up in tests.
    max_subject_length: int | None = 35
    seed: int | None = None

    def __post_init__(self):
        bad = {ssn: s for ssn, s in self.recipients.items() if s not in RECIPIENT_STATUSES}
        if bad:
            raise ValueError(f"recipient statuses must be one of {RECIPIENT_STATUSES}")
        if any(outcome not in ACCESS_OUTCOMES for _, outcome in self.foreign_tenants.values()):
            raise ValueError(f"access request outcomes must be one of {ACCESS_OUTCOMES}")
        self.company_recipients = frozenset(self.company_recipients)

    def client_name(self, client_id: str) -> str:
        return self.client_names.get(client_id, client_id)
