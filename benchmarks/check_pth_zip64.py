"""Check that pth.read_pth reads a torch.save archive larger than 4 GiB (zip64), like the 14.5 GB
consolidated.00.pth of the v0.1 tarball, without loading it into memory.

    flock /tmp/minimistral-heavy.lock python benchmarks/check_pth_zip64.py

Writes benchmarks/work/zip64-check.pth (4.4 GB: one bf16 tensor of 2.2e9 zeros ending in
1.5, -2, 3.25, then a small tensor stored after the 4 GiB mark), reads it back with minimistral
(torch is only used to write the file), checks the values and deletes the file.
"""

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from minimistral.checkpoints.pth import read_pth  # noqa: E402


def main() -> int:
    import torch

    path = ROOT / "benchmarks" / "work" / "zip64-check.pth"
    path.parent.mkdir(parents=True, exist_ok=True)
    big = torch.zeros(2_200_000_000, dtype=torch.bfloat16)
    big[-3:] = torch.tensor([1.5, -2.0, 3.25], dtype=torch.bfloat16)
    small = torch.arange(6, dtype=torch.float32).to(torch.bfloat16).view(2, 3)
    start = time.perf_counter()
    torch.save({"big": big, "small": small}, path)
    del big
    print(f"wrote {path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - start:.0f} s")
    try:
        start = time.perf_counter()
        got = read_pth(path)
        tail = got["big"].raw[-3:]                                   # raw bf16 bits, mapped
        widened = (tail.astype(np.uint32) << 16).view(np.float32)
        assert got["big"].shape == (2_200_000_000,) and got["big"].dtype == "BF16"
        assert widened.tolist() == [1.5, -2.0, 3.25], widened
        assert got["small"].float32().tolist() == [[0, 1, 2], [3, 4, 5]]
        print(f"read back in {time.perf_counter() - start:.2f} s: tail {widened.tolist()}, "
              f"small {got['small'].float32().tolist()}: OK")
    finally:
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
