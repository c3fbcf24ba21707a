"""tfp_fastpixel: a drop-in `tfd.PixelCNN` with an exact, cached fast sampler.

The names below load TensorFlow on first use, so that the CLI can parse its
arguments (and answer `--help`) without it.
"""

import importlib
import importlib.metadata

__all__ = ["FastPixelCNN", "from_pixelcnn", "export_saved_model"]
__version__ = importlib.metadata.version("tfp_fastpixel")  # pyproject.toml

_HOMES = {
    "FastPixelCNN": "distribution",
    "from_pixelcnn": "distribution",
    "export_saved_model": "export",
}


def __getattr__(name):
  if name in _HOMES:
    module = importlib.import_module(f"tfp_fastpixel.{_HOMES[name]}")
    return getattr(module, name)
  raise AttributeError(f"module 'tfp_fastpixel' has no attribute {name!r}")


def __dir__():
  return sorted(list(globals()) + __all__)
