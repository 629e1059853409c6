"""An employee's totals so far in the calendar year, as a payslip version prints them."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select

from kivra.extensions import db
from kivra.payroll.calculation import Totals
from kivra.payroll.models import PayrollRun, Payslip, PayslipVersion


@dataclass(frozen=True)
class YearToDate:
    gross_ore: int = 0
    tax_ore: int = 0
    net_ore: int = 0

    def plus(self, totals: Totals) -> "YearToDate":
        return YearToDate(self.gross_ore + totals.gross_ore, self.tax_ore + totals.tax_ore,
                          self.net_ore + totals.net_ore)


def earlier_in_year(run: PayrollRun, employee_ids) -> dict[int, YearToDate]:
    """Per employee: the sum of their payslips in the company's runs paid out earlier in the run's calendar year
    (by payout date; the same day, an earlier period), each counted by its latest version. Draft runs have none."""
    year = run.payout_date.year
    latest = (select(func.max(PayslipVersion.number)).where(PayslipVersion.payslip_id == Payslip.id)
              .correlate(Payslip).scalar_subquery())
    rows = db.session.execute(
        select(Payslip.employee_id, func.sum(PayslipVersion.gross_ore), func.sum(PayslipVersion.tax_ore),
               func.sum(PayslipVersion.net_ore))
        .join(PayrollRun, Payslip.run_id == PayrollRun.id)
        .join(PayslipVersion, and_(PayslipVersion.payslip_id == Payslip.id, PayslipVersion.number == latest))
        .where(
            PayrollRun.company_id == run.company_id,
            Payslip.employee_id.in_(list(employee_ids)),
            PayrollRun.payout_date >= date(year, 1, 1),
            or_(PayrollRun.payout_date < run.payout_date,
                and_(PayrollRun.payout_date == run.payout_date, PayrollRun.period < run.period)),
        )
        .group_by(Payslip.employee_id)
    )
    return {employee_id: YearToDate(int(gross), int(tax), int(net)) for employee_id, gross, tax, net in rows}
