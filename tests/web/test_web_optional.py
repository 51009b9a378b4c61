"""The extra stays optional: without FastAPI, pyglue imports and pyglue.web names the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK_FASTAPI = textwrap.dedent(
    """
    import sys

    class NoFastAPI:
        def find_spec(self, name, path=None, target=None):
            if name == "fastapi" or name.startswith("fastapi."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoFastAPI())
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_FASTAPI + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_pyglue_imports_without_fastapi() -> None:
    done = _run(
        """
        import pyglue, pyglue.maintenance, pyglue.monitoring, pyglue.stats, pyglue.status
        import pyglue.cli
        print(sorted(m for m in sys.modules if m == "pyglue.web" or m.split(".")[0] == "fastapi"))
        """
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "[]", "")


def test_pyglue_web_without_fastapi_names_the_extra() -> None:
    done = _run(
        """
        try:
            import pyglue.web
        except ImportError as exc:
            print(type(exc).__name__, exc, "|", type(exc.__cause__).__name__)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "ImportError pyglue.web needs FastAPI and prometheus-client, the extra"
        " pyglue[fastapi]: pip install 'agentdb[fastapi]' | ModuleNotFoundError"
    )
