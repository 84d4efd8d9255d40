"""Notebook 07's exercises: the worked solutions pass the notebook's own checkers, broken ones do not.

The exercise section of notebooks/07_training.ipynb is self-contained: its first code cell
(tagged ``exercises-setup``) imports what the section needs and defines ``check``. The test runs
that section's code cells in order in one namespace, exactly as committed, except that each
``exercise-N`` cell is replaced by an answer: from notebooks/solutions/07_training.py (a function
``exercise_N`` whose parameters name the notebook's variables), from a deliberately broken
version, or left as the committed placeholder. What each ``checker`` cell prints is the verdict.
"""

import contextlib
import importlib.util
import inspect
import io
import json
import re

import numpy as np
import pytest
from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "07_training.ipynb"
SOLUTIONS = ROOT / "notebooks" / "solutions" / "07_training.py"
EXERCISES = [1, 2, 3, 4, 5]


def solutions():
    spec = importlib.util.spec_from_file_location("solutions_07_training", SOLUTIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tags(cell) -> set:
    return set(cell.get("metadata", {}).get("tags", []))


def exercise_section() -> list:
    """The code cells from the one tagged exercises-setup to the end of the notebook."""
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    start = [i for i, c in enumerate(cells) if "exercises-setup" in tags(c)]
    assert len(start) == 1, "one cell must be tagged exercises-setup"
    return cells[start[0]:]


def call(fn, ns):
    """fn applied to the notebook's variables named like its parameters."""
    return fn(*[ns[name] for name in inspect.signature(fn).parameters])


def run(answers: dict) -> dict:
    """Run the exercise section; answers[n](namespace) replaces cell exercise-n (absent: run the
    committed cell). Returns {n: what checker n printed}."""
    ns = {"__name__": "notebook07_exercises"}
    verdicts = {}
    for cell in exercise_section():
        source = "".join(cell["source"])
        numbers = [int(t.split("-")[1]) for t in tags(cell) if re.fullmatch(r"exercise-\d+", t)]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            if numbers and numbers[0] in answers:
                ns[f"answer_{numbers[0]}"] = answers[numbers[0]](ns)
            else:
                exec(compile(source, "<notebook 07 cell>", "exec"), ns)
        if "checker" in tags(cell):
            verdicts[int(re.search(r"check\((\d+)", source).group(1))] = out.getvalue()
    return verdicts


def right(text: str) -> bool:
    return bool(re.search(r"exercise \d+: right", text))


def test_the_notebook_has_five_exercises_each_with_a_checker():
    cells = exercise_section()
    found = sorted(int(t.split("-")[1]) for c in cells for t in tags(c) if re.fullmatch(r"exercise-\d+", t))
    assert found == EXERCISES
    assert sum("checker" in tags(c) for c in cells) == len(EXERCISES)


def test_committed_placeholders_say_not_yet_without_raising():
    verdicts = run({})
    assert sorted(verdicts) == EXERCISES
    assert all("not yet" in v for v in verdicts.values()), verdicts


def test_worked_solutions_pass_the_checkers():
    sol = solutions()
    verdicts = run({n: (lambda ns, f=getattr(sol, f"exercise_{n}"): call(f, ns)) for n in EXERCISES})
    assert sorted(verdicts) == EXERCISES
    assert all(right(v) for v in verdicts.values()), verdicts


def test_solution_blocks_can_replace_the_exercise_cells():
    """Each '# %% exercise-N' block of the solutions file, run in the notebook's namespace as the
    notebook itself runs code (__name__ == '__main__'), fills in answer_N and passes."""
    blocks, name = {}, None
    for line in SOLUTIONS.read_text().splitlines():
        marker = re.match(r"#\s*%%\s*exercise-(\d+)\s*$", line)
        if marker:
            name = int(marker.group(1))
            blocks[name] = ""
        elif name is not None:
            blocks[name] += line + "\n"
    assert sorted(blocks) == EXERCISES

    def as_cell(n):
        def answer(ns):
            ns["__name__"] = "__main__"
            exec(compile(blocks[n], f"<solution block {n}>", "exec"), ns)
            ns["__name__"] = "notebook07_exercises"
            return ns[f"answer_{n}"]
        return answer

    verdicts = run({n: as_cell(n) for n in EXERCISES})
    assert all(right(v) for v in verdicts.values()), verdicts


def _no_bias_correction(ns):
    """AdamW without dividing m and v by (1 - beta^t): a classic slip."""
    c = ns["cfg4"]
    w = ns["w4"].astype(np.float64)
    m = v = 0.0
    for g, lr in ((ns["g1"], ns["lr1"]), (ns["g2"], ns["lr2"])):
        w = w * (1 - lr * c.weight_decay)
        m = c.beta1 * m + (1 - c.beta1) * g
        v = c.beta2 * v + (1 - c.beta2) * g * g
        w = w - lr * m / (np.sqrt(v) + c.adam_eps)
    return w


BROKEN = {
    "1: the loss off by 0.01 nats": (1, lambda ns: call(solutions().exercise_1, ns) + 0.01),
    "1: log base 2 (bits, not nats)": (1, lambda ns: call(solutions().exercise_1, ns) / np.log(2)),
    "2: the softmax backward without its sum term": (2, lambda ns: ns["p"] * ns["dp"]),
    "2: masked entries not zero": (2, lambda ns: call(solutions().exercise_2, ns) + ~ns["allowed2"]),
    "2: a malformed answer (a string)": (2, lambda ns: "dS"),
    "3: the prose's W + 1 keys per layer": (3, lambda ns: list(range(20 - 3 * 4, 21))),
    "3: one layer only": (3, lambda ns: list(range(20 - 3, 21))),
    "4: AdamW without bias correction": (4, _no_bias_correction),
    "4: the first step only": (4, lambda ns: call(solutions().exercise_4, {**ns, "g2": 0 * ns["g2"], "lr2": 0.0})),
    "5: one step late": (5, lambda ns: call(solutions().exercise_5, ns) + 1),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_answers_do_not_pass(case):
    n, answer = BROKEN[case]
    verdicts = run({n: answer})
    assert "wrong" in verdicts[n] and not right(verdicts[n]), verdicts[n]
