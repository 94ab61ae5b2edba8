"""Shared fixtures: paths of the project and the converted offline transformer."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

WINER_DIR = ROOT.parent / "shared" / "data" / "winer-fr"


def converted_transformer_path() -> Path:
    """The project's converted e5 folder; converted on first use (about 10 s)."""
    from convert_transformer import default_weights_path, write_model_folder

    path = ROOT / "assets" / "multilingual-e5-small"
    if not (path / "model.safetensors").exists():
        write_model_folder(default_weights_path(), path)
    return path
