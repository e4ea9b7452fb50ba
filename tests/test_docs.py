"""The README's examples run as written: its Python blocks execute in order (a `print(...)  # text`
comment is what that line prints, "..." standing for anything), and every `python -m sqlgym.*` command
in its shell blocks parses with the CLI it names."""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```(python|bash)\n(.*?)```", README, re.S)
PRINT_COMMENT = re.compile(r"^print\(.*\)\s+#\s*(.+)$")


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_readme_python_blocks_run_and_print_what_they_say():
    namespace: dict = {}
    for lang, code in BLOCKS:
        if lang != "python":
            continue
        lines = code.splitlines()
        for stmt in ast.parse(code).body:
            last = lines[stmt.end_lineno - 1].strip()
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(ast.Module([stmt], []), "README.md", "exec"), namespace)  # noqa: S102 - the README is ours
            obs = namespace.get("obs")
            assert not (isinstance(obs, str) and obs.startswith("Error")), f"README line {last!r} is an invalid action: {obs}"
            expected = PRINT_COMMENT.match(last)
            if expected:
                for piece in (_words(p) for p in expected.group(1).split("...")):
                    assert piece in _words(out.getvalue()), f"README says {last!r} prints {piece!r}; it printed {out.getvalue()!r}"


def _commands():
    for lang, code in BLOCKS:
        if lang != "bash":
            continue
        for line in code.replace("\\\n", " ").splitlines():
            cmd = line.split("#")[0].strip()
            if "python -m sqlgym." in cmd:
                for part in cmd.split("&&"):
                    part = part.strip()
                    if part.startswith("python -m sqlgym."):
                        yield part


@pytest.mark.parametrize("command", sorted(set(_commands())))
def test_every_readme_command_parses(command):
    argv = shlex.split(command)
    module = argv[2]
    if module == "sqlgym.eval":
        from sqlgym.eval.__main__ import parser
    elif module == "sqlgym.train":
        pytest.importorskip("trl")
        from sqlgym.train.__main__ import parser
    elif module == "sqlgym.advise":
        from sqlgym.advise.__main__ import parser
    elif module == "sqlgym.serve":
        from sqlgym.serve.__main__ import parser  # argparse only: parses without the serve extra
    else:
        pytest.fail(f"README names a module with no test: {module}")
    try:
        parser().parse_args(argv[3:])
    except SystemExit as e:  # --help exits 0
        assert e.code == 0, f"{command!r} does not parse"
