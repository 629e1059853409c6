"""The year's invariants, checked after every month. Each finding names the month, the company, the invariant, the
payslip ids, and what was expected against what was found; the test carries on and reports them all at the end."""
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from kivra.sandbox.state import mask
from tests.lifecycle.records import FINAL, PAGE_OUTCOMES, PENDING, SENT, Row, SendRecord

SHOWN = 8  # ids listed per finding


def ids(items) -> str:
    items = sorted(items)
    return ", ".join(map(str, items[:SHOWN])) + (f" … ({len(items)} in all)" if len(items) > SHOWN else "")


@dataclass
class Findings:
    items: list[tuple[int, str, str, str]] = field(default_factory=list)  # month, company, invariant, message
    reported: set = field(default_factory=set)

    def first_time(self, *key) -> bool:
        """A payslip or content already named in an earlier month's finding is not named again."""
        if key in self.reported:
            return False
        self.reported.add(key)
        return True

    def add(self, month: int, company: str, invariant: str, message: str) -> None:
        if any(item[1:] == (company, invariant, message) for item in self.items):
            return  # the same finding again next month: once is enough
        self.items.append((month, company, invariant, message))
        print(f"  ✗ month {month} · {company} · {invariant}: {message}")

    def report(self) -> str:
        by_invariant = defaultdict(list)
        for month, company, invariant, message in self.items:
            by_invariant[invariant].append(f"    month {month:>2} · {company}: {message}")
        return "\n".join(f"{invariant} ({len(lines)} findings):\n" + "\n".join(lines[:25])
                         for invariant, lines in by_invariant.items())


def exactly_once(month: int, rows: list[Row], ledger: dict, name_of, tenants: dict[int, str], found: Findings):
    """Every payslip version delivered to Kivra exactly once or published in Min lön: never both, never neither;
    and every content Kivra holds is one a row accounts for."""
    by_version: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        if row.state != "cancelled":
            by_version[row.version_id].append(row)
    twice, neither = defaultdict(list), defaultdict(list)
    for version_rows in by_version.values():
        sent = [row for row in version_rows if row.state in SENT]
        company = name_of(version_rows[0].company_id)
        if len(sent) > 1 and found.first_time("twice", sent[0].version_id):
            twice[company].append(f"payslip {sent[0].payslip_id} v{sent[0].number}: "
                                  f"{'+'.join(f'{r.channel}:{r.state}' for r in sent)}")
        elif not sent and all(row.state in FINAL for row in version_rows) and \
                found.first_time("neither", version_rows[0].version_id):
            row = version_rows[0]
            neither[company, row.state, row.error_code, row.reason].append(row.payslip_id)
    for company, what in twice.items():
        found.add(month, company, "exactly once", f"{len(what)} payslip versions went more than once: {what[:SHOWN]}")
    for (company, state, code, reason), payslips in neither.items():
        found.add(month, company, "exactly once",
                  f"{len(payslips)} payslip versions neither in Kivra nor in Min lön: ended {state} "
                  f"(Kivra's code {code}, reason {reason}); payslips {ids(set(payslips))}")

    contents = {content["key"]: content for content in ledger["contents"]}
    claimed = Counter(row.content_key for row in rows if row.content_key)
    missing, wrong_person, not_once = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in rows:
        if row.channel != "kivra" or row.state not in ("delivered", "retained"):
            continue
        content = contents.get(row.content_key)
        company = name_of(row.company_id)
        if content is None:
            problem = missing[company], row.payslip_id
        elif content["recipient"] != row.personnummer:
            problem = wrong_person[company], row.payslip_id
        elif (content["delivered_count"] != 1) if row.state == "delivered" else (content["delivered_count"] > 1):
            problem = not_once[company], f"payslip {row.payslip_id}: {content['delivered_count']} deliveries"
        else:
            continue
        if found.first_time("row", row.id):
            problem[0].append(problem[1])
    for company, payslips in missing.items():
        found.add(month, company, "exactly once", f"{len(payslips)} rows say Kivra has them, but Kivra's ledger has "
                                                  f"no such content: payslips {ids(payslips)}")
    for company, payslips in wrong_person.items():
        found.add(month, company, "exactly once", f"content delivered to someone else: payslips {ids(payslips)}")
    for company, what in not_once.items():
        found.add(month, company, "exactly once", f"delivered other than once: {what[:SHOWN]}")
    company_of_tenant = {key: company_id for company_id, key in tenants.items()}
    strays = defaultdict(list)
    for key, content in contents.items():
        if (claimed[key] != 1 or content["delivered_count"] > 1) and found.first_time("content", key):
            company = name_of(company_of_tenant.get(content["tenant_key"]))
            strays[company].append(f"{mask(content['recipient'])} '{content['subject']}' claimed by {claimed[key]} "
                                   f"rows, delivered {content['delivered_count']}×")
    for company, what in strays.items():
        found.add(month, company, "exactly once", f"{len(what)} contents in Kivra's ledger that no single row "
                                                  f"accounts for (expected 1 row each): {what[:4]}")


def history_unchanged(month: int, rows: list[Row], sends: dict[int, SendRecord], before: dict, name_of,
                      found: Findings) -> dict:
    """Nothing that finished changes later: rows and finished sends compared with last month's snapshot. Returns
    this month's snapshot."""
    now_rows = {row.id: row for row in rows}
    changed = defaultdict(list)
    for row_id, was in before.get("rows", {}).items():
        row = now_rows.get(row_id)
        is_now = row.history() if row else "deleted"
        if is_now != was[1]:
            changed[was[0]].append(f"row {row_id}: {was[1][:3]} → {is_now[:3] if row else is_now}")
    for send_id, was in before.get("sends", {}).items():
        send = sends.get(send_id)
        is_now = (send.channel, send.state, send.note) if send else "deleted"
        if is_now != was[1]:
            changed[was[0]].append(f"finished send {send_id}: {was[1]} → {is_now}")
    for company_id, what in changed.items():
        found.add(month, name_of(company_id), "nothing finished changes",
                  f"{len(what)} changes (was → now, as state/channel/reason): {what[:4]}")
    done_sends = defaultdict(lambda: True)
    for row in rows:
        done_sends[row.send_id] &= row.state in FINAL
    return {
        "rows": {row.id: (row.company_id, row.history()) for row in rows if row.state in FINAL},
        "sends": {send.id: (send.company_id, (send.channel, send.state, send.note))
                  for send in sends.values() if done_sends.get(send.id)},
    }


def db_totals(rows: list[Row]) -> Counter:
    return Counter(row.outcome for row in rows if row.state != "cancelled")


def totals_agree(month: int, company: str, shown: dict[str, Counter], expected: Counter, found: Findings) -> None:
    """The status page, Min lön and Kivra per employee, and the CSV each show what the database holds."""
    want = {o: expected[o] for o in PAGE_OUTCOMES}
    for where, counts in shown.items():
        got = {o: counts[o] for o in PAGE_OUTCOMES}
        unknown = {k: v for k, v in counts.items() if k not in PAGE_OUTCOMES}
        if got != want or unknown:
            diff = {o: f"{want[o]}≠{got[o]}" for o in PAGE_OUTCOMES if got[o] != want[o]}
            found.add(month, company, "status page, CSV and ledger agree",
                      f"{where} shows other totals than the database (database≠shown): {diff}"
                      + (f"; unrecognised: {unknown}" if unknown else ""))


def ledger_agrees(month: int, company: str, rows: list[Row], ledger: dict, tenant_key: str | None,
                  found: Findings) -> None:
    in_kivra = sum(1 for row in rows if row.state in ("delivered", "retained"))
    held = sum(1 for content in ledger["contents"] if content["tenant_key"] == tenant_key) if tenant_key else 0
    if in_kivra != held:
        found.add(month, company, "status page, CSV and ledger agree",
                  f"the database has {in_kivra} payslips delivered to or held by Kivra; Kivra's ledger holds "
                  f"{held} contents for the company's tenant")


def nothing_left_waiting(month: int, rows: list[Row], sends: dict[int, SendRecord], notice_shown, name_of,
                         found: Findings) -> None:
    """No row queued or sending once the month is over; a held row only where the step page says why."""
    stuck = defaultdict(list)
    for row in rows:
        if row.state in PENDING:
            stuck[row.company_id, row.run_id, row.send_id, row.state].append(row.payslip_id)
    for (company_id, run_id, send_id, state), payslips in stuck.items():
        if state == "held" and notice_shown(company_id, run_id):
            continue
        send = sends.get(send_id)
        how = f"{send.channel}/{send.state}/{send.note}" if send else "gone"
        found.add(month, name_of(company_id), "nothing left waiting without a reason",
                  f"{len(payslips)} rows still {state} after the month (run {run_id}, send {send_id}: {how})"
                  + (", and the step page says nothing of why" if state == "held" else "")
                  + f": payslips {ids(payslips)}")


def correction_titles(month: int, rows: list[Row], ledger: dict, name_of, found: Findings) -> None:
    """A correction is titled one only for someone who received the original."""
    subjects = {content["key"]: content["subject"] for content in ledger["contents"]}
    received = {(row.payslip_id, row.number) for row in rows if row.state in SENT}
    wrong = defaultdict(list)
    for row in rows:
        subject = subjects.get(row.content_key or "")
        if subject is None:
            continue
        had_original = any((row.payslip_id, n) in received for n in range(1, row.number))
        if subject.startswith("Rättat") != had_original:
            wrong[row.company_id].append(f"payslip {row.payslip_id} v{row.number} '{subject}' "
                                         f"({'an earlier version was received' if had_original else 'no earlier version was received'})")
    for company_id, what in wrong.items():
        found.add(month, name_of(company_id), "corrections titled as such only after an original",
                  f"{len(what)}: {what[:3]}")
