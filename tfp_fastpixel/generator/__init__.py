"""The cached generator of Ramachandran et al. (2017) for TFP's PixelCNN.

Level k of the U-net runs at resolution H/2^k x W/2^k. Walking the
full-resolution pixels in raster order:

* at the start of full-resolution row i, every level k with 2^k | i
  computes its vertical-stack row (`rows`);
* at pixel (i, j), every level k with 2^k | i and 2^k | j computes its
  horizontal stack at one position: down from level 0, back up, then the
  head and the pixel's exact draw (`pixels`).

So each activation is computed once and a pixel's work does not grow with the
image. The program is two nested `tf.while_loop`s (`loops`) whose bodies
enter deeper levels through nested `tf.cond`s. The parts:

* `plan`: which cached layer runs where, from the network's structure;
* `weights`: the tensors the loops compute with, read once per call;
* `rows`, `pixels`: the row pass and the pixel pass;
* `jacobi`: the Jacobi row pass, which draws a whole row at once;
* `loops`: the two loops and the draws.

What the pixel loop carries from pixel to pixel is the program's layout
(`layouts`), passed in with each call; one layout (`xla_jacobi`) replaces
the pixel loop by Jacobi passes over the row.
"""

from tfp_fastpixel.generator import loops
from tfp_fastpixel.generator import plan as plan_lib
from tfp_fastpixel.generator import weights as weights_lib

# The entry points: `Plan(dist)` once per distribution (no tensors); each
# call reads `read_weights(plan, cond, layout)` and runs
# `generate(plan, layout, weights, ...)`, so one trace serves a model in
# training.
Plan = plan_lib.Plan
read_weights = weights_lib.read_weights
generate = loops.generate
