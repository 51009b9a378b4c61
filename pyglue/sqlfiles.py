"""The SQL shipped in the wheel, loaded by name: the live tree and each revision's frozen copies.

`sql/<capability>/<name>.sql` is the live definition, what runs at head.
A revision never runs the live tree: it runs frozen copies of what it
installed, kept beside it in `migrations/versions/<revision>/` and pinned by
the SHA-256 prefix in the revision's code, so replaying an old revision
installs exactly its own code. Changing a routine means editing the live
file and freezing the new text in a new revision:

    python -m pyglue.sqlfiles freeze 0010 stats/user_dashboard.sql

copies the live file into `migrations/versions/0010/` and prints the pin to
paste into the revision.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable

from pyglue.errors import SqlFileChanged

PIN_LENGTH = 12
INSTALL_ORDER = "install_order.txt"


def _live_root() -> Traversable:
    return files("pyglue").joinpath("sql")


def _versions_root() -> Traversable:
    return files("pyglue").joinpath("migrations", "versions")


def _read(root: Traversable, name: str, where: str) -> str:
    resource = root.joinpath(*name.split("/"))
    if not resource.is_file():
        raise FileNotFoundError(f"no SQL file {where}{name} in the installed package")
    return resource.read_text(encoding="utf-8")


def _sql_files(root: Traversable) -> list[str]:
    names: list[str] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".sql"):
                names.append(f"{prefix}{child.name}")

    if root.is_dir():
        walk(root, "")
    return sorted(names)


def digest(text: str) -> str:
    """The pin of a file's text: the first PIN_LENGTH hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:PIN_LENGTH]


def read_live(name: str) -> str:
    """The live definition `sql/<name>`, e.g. `read_live("stats/user_dashboard.sql")`."""
    return _read(_live_root(), name, "sql/")


# applied by `pyglue install --citus`, never by a revision (pyglue.install.convert_to_citus)
CITUS = "citus/"


def live_files() -> list[str]:
    """Every file of the live tree, as names `read_live` accepts (the Citus conversion aside)."""
    return [name for name in _sql_files(_live_root()) if not name.startswith(CITUS)]


def citus_files() -> list[str]:
    """The files of the Citus conversion (sql/citus/), as names `read_live` accepts."""
    return [name for name in _sql_files(_live_root()) if name.startswith(CITUS)]


def install_order() -> list[str]:
    """The live tree in dependency order (`sql/install_order.txt`)."""
    text = _live_root().joinpath(INSTALL_ORDER).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def frozen_files(revision: str) -> list[str]:
    """The files frozen with `revision`, as names `read_frozen` accepts."""
    return _sql_files(_versions_root().joinpath(revision))


def read_frozen(revision: str, name: str, pin: str) -> str:
    """A frozen copy's text, after checking it is the version its revision pinned."""
    text = _read(_versions_root().joinpath(revision), name, f"migrations/versions/{revision}/")
    actual = digest(text)
    if actual != pin:
        raise SqlFileChanged(
            f"migrations/versions/{revision}/{name} changed after its revision pinned it "
            f"({pin} -> {actual}); a frozen copy is never edited: change the live file in sql/ "
            "and freeze it in a new revision"
        )
    return text


def freeze(revision: str, names: list[str]) -> list[str]:
    """Copy live files into `migrations/versions/<revision>/`; the pin lines for the revision."""
    lines: list[str] = []
    for name in names:
        text = read_live(name)
        with as_file(_versions_root()) as versions:
            target = versions / revision / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with as_file(_live_root().joinpath(*name.split("/"))) as source:
                shutil.copyfile(source, target)
        lines.append(f'    "{name}": "{digest(text)}",')
    return lines


def main(argv: list[str]) -> int:
    """`python -m pyglue.sqlfiles freeze REVISION NAME...` or `pin REVISION NAME...`."""
    if len(argv) < 3 or argv[0] not in ("freeze", "pin"):
        print(__doc__.split("\n\n")[-1].strip() if __doc__ else "", file=sys.stderr)
        print("usage: python -m pyglue.sqlfiles freeze|pin REVISION NAME...", file=sys.stderr)
        return 2
    verb, revision, names = argv[0], argv[1], argv[2:]
    if verb == "freeze":
        lines = freeze(revision, names)
    else:
        versions = _versions_root().joinpath(revision)
        lines = [f'    "{n}": "{digest(_read(versions, n, revision + "/"))}",' for n in names]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
