"""Datasets: the lakes datasets on disk, their synthetic generator, and the built-in places.

>>> from geonb.datasets import LakeDataset, data_root   # doctest: +SKIP
>>> ds = LakeDataset("lakes-synthetic")                   # doctest: +SKIP

Importing this package creates nothing on disk and reads no file.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that points at the data folder.
DATA_ENV = "GEONB_DATA"


def data_root() -> Path:
    """The data folder: ``$GEONB_DATA`` if set, else ``data/`` of the checkout (beside the ``geonb`` package).

    Nothing is created; the folder may not exist yet (``make data`` writes it).

    Examples
    --------
    >>> data_root().name in ("data", os.path.basename(os.environ.get("GEONB_DATA", "data")))
    True
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent.parent / "data"


from geonb.datasets.lakes import LakeDataset, available_datasets  # noqa: E402

__all__ = ["DATA_ENV", "LakeDataset", "available_datasets", "data_root"]
