"""`pip install .` (not editable) into a fresh environment draws every figure the repository
commits: nothing the package needs lives outside minimistral/."""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from minimistral.figures import REGISTRY


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to copy the checkout")
def test_a_wheel_installed_elsewhere_draws_every_figure(tmp_path):
    # Build from a copy of the tracked files, as a clean clone would (no build/ or egg-info).
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}     # only the venv's own copy
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", MPLBACKEND="Agg")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(src)],
                   check=True, env=env, cwd=tmp_path)
    where = subprocess.run([str(py), "-c", "import minimistral; print(minimistral.__file__)"],
                           capture_output=True, text=True, check=True, env=env, cwd=tmp_path).stdout
    assert str(venv) in where and str(ROOT) not in where                      # the installed copy
    out = tmp_path / "out"
    r = subprocess.run([str(venv / "bin" / "minimistral"), "figures", "--out", str(out)],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(REGISTRY)
    for name in ("fig1_masks", "swa_cost", "reach_measured", "training_loss"):   # data from the package
        assert (out / f"{name}.png").read_bytes() == (ROOT / "figures" / f"{name}.png").read_bytes()
