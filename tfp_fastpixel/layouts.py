"""How each of the generator's programs lays out the pixel loop's state.

The generator runs as one of three programs (`_execution.PROGRAMS`). They
compute the same values in the same order, and so draw the same images;
they differ only in what the loops carry from pixel to pixel, which decides
how many ops or kernels a pixel costs on the device that runs it:

* `graph`: each same-level horizontal convolution carries its recent
  inputs, and a pixel multiplies them by all its taps in one matmul. Graph
  mode dispatches every op from the host, so the fewest ops win.
* `xla_cpu`: those convolutions carry partial sums instead: each input is
  multiplied once, by the taps of the current output (on the pixel's
  dependent chain) and, in a second dot that nothing reads until the next
  pixel, by those of later outputs, which XLA's CPU runtime runs on another
  core. Each level's sums travel as one tensor (`sampler._CarriedSums`), so
  XLA updates them in place.
* `xla_accelerator`: partial sums from one dot by all taps side by side
  (a GPU launches its kernels one after another, so the fewest kernels
  win), and each level's caches travel as one tensor
  (`sampler._CacheLayout`): XLA copies loop and conditional state it cannot
  update in place, and on a GPU every copy is a launch.
"""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Layout:
  """One program's layout of the pixel loop's state.

  Attributes:
    name: the program's name.
    carry: what same-level pixel convolutions carry: None, their inputs;
      "split" or "fused", partial sums (`cached_layers.PixelConv`).
    pack: each level's pixel caches travel as one tensor.
  """

  name: str
  carry: Optional[str]
  pack: bool

  @property
  def carried_sums(self):
    """Each level's partial sums travel as one tensor (`_CarriedSums`)."""
    return self.carry == "split"


LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout("graph", carry=None, pack=False),
        Layout("xla_cpu", carry="split", pack=False),
        Layout("xla_accelerator", carry="fused", pack=True),
    )
}
