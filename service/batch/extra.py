"""The optional packages of ``rolelens[scale]``: pyarrow (Parquet) and Dask (``--engine dask``).

They are imported only when a run asks for them, and a missing one is a :class:`MissingExtra`
that says how to install it, not an ``ImportError`` traceback.
"""

from __future__ import annotations

import importlib.util

from service.batch.errors import MissingExtra

INSTALL = ".venv/bin/pip install -e '.[scale]'"
MODULES = {"parquet": ("pyarrow",), "dask": ("dask", "distributed", "pyarrow")}


def require(feature: str) -> None:
    """Check that the packages ``feature`` (``parquet`` or ``dask``) needs can be imported.

    Raises:
        MissingExtra: one is missing; the message names it and the install command.
    """
    missing = [name for name in MODULES[feature] if importlib.util.find_spec(name) is None]
    if missing:
        what = "Parquet files" if feature == "parquet" else "--engine dask"
        raise MissingExtra(
            f"{what} needs {', '.join(missing)}, from the optional extra rolelens[scale]; "
            f"install it in this project with: {INSTALL}"
        )
