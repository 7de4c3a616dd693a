"""Where the data folder is, from any working directory.

In order: ``--data-dir``, then ``$OPENTOOLLAB_DATA_DIR``, then ``datasets/`` of the OpenToolLab checkout the
working directory is in (the folder with ``datasets/__main__.py`` beside ``src/opentoollab/``, found from any
sub-folder), else the user data folder: ``$XDG_DATA_HOME/opentoollab`` (default ``~/.local/share/opentoollab``)
on Linux, ``~/Library/Application Support/opentoollab`` on macOS, ``%LOCALAPPDATA%\\opentoollab`` on Windows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_DATA_DIR = "OPENTOOLLAB_DATA_DIR"
APP = "opentoollab"


def checkout_root(start: Path | None = None) -> Path | None:
    """The OpenToolLab checkout holding ``start`` (default: the working directory), if any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "datasets" / "__main__.py").is_file() and (folder / "src" / APP).is_dir():
            return folder
    return None


def user_data_dir() -> Path:
    """The per-user data folder of this platform (not created here)."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / APP


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data folder (see the module docstring for the order)."""
    if explicit or os.environ.get(ENV_DATA_DIR):
        return Path(explicit or os.environ[ENV_DATA_DIR])
    root = checkout_root()
    if root is None:
        return user_data_dir()
    here = Path.cwd().resolve()
    # inside the checkout, keep the short relative path users see in messages (./datasets from its root)
    return Path("datasets") if here == root else root / "datasets"

