"""The SQL files shipped in the wheel (`sql/` in the repository), loaded by name.

A migration pins the SHA-256 prefix of every file it runs. A released file is
never edited: a changed routine gets a new file, so replaying an old revision
installs exactly the code that revision was written with.
"""

from __future__ import annotations

import hashlib
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable

from pyglue.errors import SqlFileChanged

PIN_LENGTH = 12


def _root() -> Traversable:
    return files("pyglue").joinpath("sql")


def read_sql(name: str) -> str:
    """Return the text of `sql/<name>`, e.g. `read_sql("functions/agent_document.sql")`."""
    resource = _root().joinpath(*name.split("/"))
    if not resource.is_file():
        raise FileNotFoundError(f"no SQL file {name!r} in the installed package")
    return resource.read_text(encoding="utf-8")


def digest(text: str) -> str:
    """The pin of a file's text: the first PIN_LENGTH hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:PIN_LENGTH]


def read_pinned(name: str, pin: str) -> str:
    """Return a file's text after checking it is the version its migration was written for."""
    text = read_sql(name)
    actual = digest(text)
    if actual != pin:
        raise SqlFileChanged(
            f"sql/{name} changed after a migration pinned it ({pin} -> {actual}); "
            "released SQL is immutable: put the new version in a new file and a new migration"
        )
    return text


def all_sql_files() -> list[str]:
    """Every shipped SQL file, as names `read_sql` accepts."""
    names: list[str] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".sql"):
                names.append(f"{prefix}{child.name}")

    walk(_root(), "")
    return sorted(names)


def main(argv: list[str]) -> int:
    """`python -m pyglue.sqlfiles NAME...` prints the pins to paste into a migration."""
    for name in argv:
        print(f'    "{name}": "{digest(read_sql(name))}",')
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
