"""Every notebook runs top to bottom without an error (executed on a temporary copy with nbclient).

The committed notebooks keep their outputs for readers on the web; this test re-executes a copy
so the repository is not modified. Kernel "python3" is what `pip install ipykernel` provides.
"""

import shutil
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def test_the_six_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == ["01_masks", "02_receptive_field", "03_gqa",
                                           "04_rolling_buffer", "05_prefill_chunking",
                                           "06_forward_pass", "07_training"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.delenv("MINIMISTRAL_MODEL", raising=False)      # the tiny model: no download
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()      # raises CellExecutionError, naming the cell, on any error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    # every code cell ends in something to look at
    assert all(c.outputs for c in nb.cells if c.cell_type == "code")
