"""Is a lock (requirements/NAME.txt) still what pyproject.toml asks for? scripts/install runs this before it installs,
tests/test_lock.py runs it on the locks and on stale copies. See docs/dependencies.md.

    python scripts/check_lock.py app test bench   # exit 1 and a list of what is stale, or exit 0 and no output
    python scripts/check_lock.py --extras test   # the extras a lock holds, for scripts/lock

Every requirement of pyproject.toml that a lock covers (the build backend, the dependencies, the lock's extras) must
be pinned there with `==` and hashes, and the pin must be in pyproject's range; the lock names no index and no host.
pip itself then refuses any package that is not pinned with hashes (--require-hashes), so what the locked packages
need in turn is checked at install. Runs before anything is installed: `packaging` is then only pip's own copy."""
import sys
import tomllib
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version
except ImportError:  # a new virtualenv, before the lock is installed
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version

# Each lock: the extras of pyproject.toml it holds besides the dependencies and the build backend.
LOCKS = {
    "app": ["production"],  # scripts/start, and production
    "test": ["test", "postgres", "redis", "production"],  # scripts/test and so CI; constrained to the app lock
    "bench": ["test", "postgres", "redis", "production", "bench"],  # bench/ (Locust); constrained to the test lock
}
UPDATE = "Update the locks: bash scripts/lock   (docs/dependencies.md)"


def entries(lock: Path) -> list[tuple[str, list[str]]]:
    """The lock's lines, continuations joined and comments dropped: (requirement or option, hashes)."""
    joined, logical = [], ""
    for line in lock.read_text().splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        logical += line.removesuffix("\\").strip() + " "
        if not line.endswith("\\"):
            if logical.strip():
                joined.append(logical.strip())
            logical = ""
    result = []
    for text in joined:
        requirement, *hashes = text.split(" --hash=")
        result.append((requirement.strip(), [h.strip() for h in hashes]))
    return result


def pins(lock: Path) -> dict[str, Version]:
    """Name -> version, of the pins whose markers hold on this Python."""
    found = {}
    for text, _ in entries(lock):
        if text.startswith("-"):
            continue
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate():
            found[canonicalize_name(requirement.name)] = _pinned_version(requirement)
    return found


def problems(root: Path, lock_name: str) -> list[str]:
    """What makes requirements/<lock_name>.txt stale or unsafe against root/pyproject.toml; empty when all is well."""
    lock = root / "requirements" / f"{lock_name}.txt"
    if not lock.exists():
        return [f"{lock.relative_to(root)} is missing"]
    found = []
    for text, hashes in entries(lock):
        if text.startswith("-"):
            found.append(f"{text.split()[0]}: a lock names no index, link or option")
        elif "://" in text:
            found.append(f"{text}: a lock names no URL")
        elif _pinned_version(Requirement(text)) is None:
            found.append(f"{text}: not pinned with ==")
        elif not hashes:
            found.append(f"{text}: no --hash")
    locked = pins(lock)
    for source, text, requirement in _wanted(root, lock_name):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            found.append(f"{text} ({source}): not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            found.append(f"{text} ({source}): the lock has {version}")
    return found


def _wanted(root: Path, lock_name: str) -> list[tuple[str, str, Requirement]]:
    """(where in pyproject.toml, the requirement as written there, the requirement)"""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    groups = [("build-system", pyproject["build-system"]["requires"]),
              ("dependencies", pyproject["project"]["dependencies"])]
    groups += [(extra, pyproject["project"]["optional-dependencies"][extra]) for extra in LOCKS[lock_name]]
    return [(source, text, Requirement(text)) for source, texts in groups for text in texts]


def _pinned_version(requirement: Requirement) -> Version | None:
    specifiers = list(requirement.specifier)
    if len(specifiers) == 1 and specifiers[0].operator == "==" and "*" not in specifiers[0].version:
        return Version(specifiers[0].version)
    return None


def main(args: list[str]) -> int:
    root = Path(__file__).resolve().parents[1]
    if args[:1] == ["--extras"]:
        print(" ".join(extra for name in args[1:] for extra in LOCKS[name]))
        return 0
    stale = False
    for name in args:
        found = problems(root, name)
        if found:
            stale = True
            print(f"requirements/{name}.txt does not match pyproject.toml:", file=sys.stderr)
            print("".join(f"  - {problem}\n" for problem in found), end="", file=sys.stderr)
    if stale:
        print(UPDATE, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
