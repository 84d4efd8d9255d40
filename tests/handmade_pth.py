"""A torch.save-style .pth archive whose one tensor record holds exactly the numbers given.

torch would refuse to save a shape of 2**70 or a stride of 5000 digits; a hostile file holds them
anyway. This writes such a file without torch: a pickle naming torch's own globals
(torch._utils._rebuild_tensor_v2, torch.FloatStorage), as torch.save writes them, with the record
(storage, offset, shape, stride) and the storage's persistent id ('storage', type, key, 'cpu', numel).

    handmade_pth(path, (3, 4), (4, 1))      ->  read_pth(path)["w"] is 12 zeros, shape (3, 4)
"""

import io
import pickle
import zipfile


class _Storage:          # pickled under the names torch uses, below
    pass


def _rebuild(*args):
    pass


def handmade_pth(path, shape, stride, offset=0, numel=12, key="0"):
    """A torch-style archive whose single record says exactly these numbers (no torch needed)."""
    class Record:
        def __reduce__(self):
            return _rebuild, (_Storage(), offset, shape, stride, False, {})

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", _Storage, key, "cpu", numel) if isinstance(obj, _Storage) else None

    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump({"w": Record()})
    me = __name__.encode()
    data = buf.getvalue().replace(b"c" + me + b"\n_rebuild\n", b"ctorch._utils\n_rebuild_tensor_v2\n")
    data = data.replace(b"c" + me + b"\n_Storage\n", b"ctorch\nFloatStorage\n")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data)
        z.writestr("archive/data/0", b"\0" * 48)
    return path
