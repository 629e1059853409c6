"""How easy a chosen password is to guess, by zxcvbn (Dropbox's estimator, ported to Python): it counts the guesses
an attacker who knows common passwords, words, names, dates, keyboard patterns and sequences would need, and scores
them 0-4. We take 3 or more ("safely unguessable": at least 10^8 guesses, beyond an online attack and costly offline
against our scrypt hashes); 2 lets through e.g. a telephone number. The person's own name, e-mail address,
personnummer and company are words it knows too, so a password made of them is weak. Plain Python."""
import re
import threading

from zxcvbn import zxcvbn

MIN_SCORE = 3
CHECKED_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters are plenty to judge
_one_at_a_time = threading.Lock()  # zxcvbn keeps the user's words in a module-wide dictionary while it scores


def words_about(name: str | None = None, email: str | None = None, company: str | None = None,
                personnummer: str | None = None, orgnr: str | None = None) -> list[str]:
    """The words a guessable password of this person is made of: each name and its parts, run together too; the
    e-mail address, its local part and its parts; the personnummer's 12 and 10 digits and date of birth."""
    words: list[str] = []
    for text in (name, company):
        parts = re.findall(r"\w+", (text or "").lower())
        words += parts + ["".join(parts)]
    if email:
        local = email.lower().partition("@")[0]
        words += [email.lower(), local, *re.findall(r"[^\W_]+", local)]
    for digits in (personnummer, orgnr):
        digits = re.sub(r"\D", "", digits or "")
        if digits:
            words += [digits, digits[-10:], digits[:8], digits[-10:-4]]
    return [word for word in dict.fromkeys(words) if word]


def too_easy(password: str, user_inputs: list[str]) -> bool:
    """True if zxcvbn scores the password below MIN_SCORE, knowing the person's words."""
    with _one_at_a_time:
        return zxcvbn(password[:CHECKED_LENGTH], user_inputs=user_inputs)["score"] < MIN_SCORE
