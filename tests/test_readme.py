"""Every ```python block of README.md runs as pasted, on the shipped story model.

Each block runs in a fresh namespace (its own imports, its own `model = ...`), in the order the
README gives them, with the working directory a temporary one (a block may write files, e.g.
`train(..., "runs/mine")`). A fresh namespace is the promise the README makes: a reader can paste
any one block into a new Python and it runs, without the blocks above it.

A block whose first line is `# needs the 7B checkpoint ...` is compiled (no syntax error) and
skipped: it reads a real Mistral 7B download this test does not have.

Python must not hide in the README's indented (4-space) blocks, which are left for shell
commands and output: an indented `import` or `from minimistral` line fails the test, so every
Python example is one this test runs.
"""

import re

import pytest
from conftest import ROOT

README = ROOT / "README.md"
NEEDS_7B = "# needs the 7B checkpoint"


def python_blocks() -> list[tuple[int, str]]:
    """(line number of the first code line, code) for every ```python ... ``` block, in order."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for m in re.finditer(r"^```python\n(.*?)^```$", text, flags=re.M | re.S):
        blocks.append((text.count("\n", 0, m.start(1)) + 1, m.group(1)))
    return blocks


BLOCKS = python_blocks()


def test_the_readme_has_its_python_blocks_fenced():
    runnable = [code for _, code in BLOCKS if not code.startswith(NEEDS_7B)]
    assert len(runnable) >= 4 and len(BLOCKS) > len(runnable), "README's ```python blocks not found"
    indented = [line for line in README.read_text(encoding="utf-8").splitlines()
                if re.match(r"    (import |from minimistral|model = minimistral)", line)]
    assert indented == [], f"Python in an indented README block, which this test does not run: {indented}"


@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"README.md:{n}" for n, _ in BLOCKS])
def test_readme_python_block_runs_as_pasted(line, code, tmp_path, monkeypatch):
    compiled = compile(code, f"README.md:{line}", "exec")        # a syntax error fails every block
    if code.startswith(NEEDS_7B):
        pytest.skip("needs the 7B checkpoint")
    monkeypatch.chdir(tmp_path)
    exec(compiled, {"__name__": "__readme__"})                   # a fresh namespace per block
