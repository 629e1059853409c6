"""The outcomes-per-month bar chart as geometry for an inline SVG: stacked bars and a scale with round ticks."""
from dataclasses import dataclass
from datetime import date

from kivra.status import PAGE_OUTCOMES, MonthOutcomes

WIDTH, HEIGHT = 720, 270
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 12, 46  # room for the scale on the left and two lines of month labels below
MIN_SEGMENT = 2.0  # a single failed payslip among a thousand must still show


@dataclass(frozen=True)
class Segment:
    outcome: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    month: date
    total: int
    x: float
    width: float
    segments: list[Segment]

    @property
    def center(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    series: list[MonthOutcomes]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM

    @property
    def totals(self) -> dict[str, int]:
        return {outcome: sum(month.counts[outcome] for month in self.series) for outcome in PAGE_OUTCOMES}

    @property
    def empty(self) -> bool:
        return not any(month.total for month in self.series)


def round_step(rough: float) -> int:
    """1, 2 or 5 times a power of ten, at least `rough` (and at least 1)."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= rough:
                return factor * power
        power *= 10


def layout(series: list[MonthOutcomes]) -> Chart:
    highest = max((month.total for month in series), default=0)
    step = round_step(highest / 4)
    top = max(step, -(-highest // step) * step)
    plot_height = HEIGHT - TOP - BOTTOM
    scale = plot_height / top
    slot = (WIDTH - LEFT - RIGHT) / max(len(series), 1)
    bars = []
    for index, month in enumerate(series):
        y = float(HEIGHT - BOTTOM)
        segments = []
        for outcome in PAGE_OUTCOMES:
            count = month.counts[outcome]
            if count:
                height = max(count * scale, MIN_SEGMENT)
                y -= height
                segments.append(Segment(outcome, count, round(y, 1), round(height, 1)))
        bars.append(Bar(month.month, month.total, round(LEFT + index * slot + slot * 0.18, 1), round(slot * 0.64, 1),
                        segments))
    ticks = [Tick(value, round(HEIGHT - BOTTOM - value * scale, 1)) for value in range(0, top + 1, step)]
    return Chart(bars, ticks, series)
