"""The sandbox knows the demo company's people as data of its own; the demo must still be those people."""
from kivra import demo
from kivra.sandbox.config import DEMO_COMPANY_ORGNR, DEMO_EMPLOYEES
from kivra.sandbox.validation import ssn_problem


def test_the_sandbox_knows_every_demo_employee_kivra_accepts():
    numbers = demo.employee_numbers()
    assert list(DEMO_EMPLOYEES) == numbers[:24]
    assert ssn_problem(numbers[24]) == "Samordningsnummer (coordination numbers) are not accepted"
    assert DEMO_COMPANY_ORGNR == demo.DEMO_ORGNR


def test_the_sandbox_checks_numbers_as_the_app_does():
    assert all(ssn_problem(number) is None for number in DEMO_EMPLOYEES)
    assert ssn_problem("197001012008") == "The SSN's check digit is wrong"
    assert ssn_problem("197002302009") == "The SSN does not hold a valid date of birth"
    assert ssn_problem("29990101" + "0000") == "The SSN does not hold a valid date of birth"
    assert ssn_problem("19700101200") == "The SSN must be 12 digits, YYYYMMDDNNNN"
