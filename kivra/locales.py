"""The product's languages, and the CLDR locale each one formats dates and numbers in.

Swedish first, English second. English in Sweden is written the British way (`25 November 2026`, not CLDR's plain
`en`, which is American: `November 25, 2026`), so English formats as `en_GB`; its texts are the messages themselves,
so no catalogue is looked up for it either way."""

LOCALES = ("sv", "en")
_FORMATS = {"en": "en_GB"}


def babel_locale(language: str | None) -> str:
    """The locale Babel formats in for one of LOCALES (Swedish for anything else)."""
    language = language if language in LOCALES else "sv"
    return _FORMATS.get(language, language)
