"""The generator's two nested loops: rows, then the pixels of each row.

Each row runs the row pass (`rows`), then a pixel loop whose body runs the
pixel pass (`pixels`), the head and the pixel's exact draw. Everything the
loops carry is a plain tensor, or a TensorArray written outside the conds,
so the same program runs in graph mode and under XLA; what a level's pixel
state is, the layout decides (`layouts`).
"""

import tensorflow as tf

from tfp_fastpixel import cached_layers
from tfp_fastpixel import mixture
from tfp_fastpixel import network
from tfp_fastpixel.generator import jacobi as jacobi_lib
from tfp_fastpixel.generator import pixels as pixels_lib
from tfp_fastpixel.generator import rows as rows_lib
from tfp_fastpixel.generator import weights as weights_lib

Dense = cached_layers.Dense


def generate(
    plan,
    layout,
    weights,
    gumbel,
    logistic,
    return_params=False,
    progress=None,
    observed=None,
    return_passes=False,
):
  """Draws `B` images, given all their noise.

  Args:
    plan: the distribution's `plan.Plan`.
    layout: the program's `layouts.Layout`.
    weights: `weights.read_weights(plan, cond, layout)`. Read by the
      caller, so that under XLA they can be read before the compiled
      program: the weight-norm and matrix preparation is 40% of the traced
      ops but runs once per call, and compiling it cost XLA about 2.5 s for
      nothing.
    gumbel: [H, W, B, M] standard Gumbel noise (picks the components).
    logistic: [H, W, B, C] standard logistic noise (the pixel draws).
    return_params: also return the mixture parameters used at each pixel.
    progress: None, or a Python function called with each finished row
      index (through `tf.py_function`; not for XLA).
    observed: None, or `(values [H, W, B, C], num_observed)`: the first
      `num_observed` pixels in raster order take `values` instead of being
      drawn, and feed the caches as drawn pixels would (the rest is then
      drawn from p(rest | observed prefix)).
    return_passes: also return the dependent steps each row took: its
      Jacobi passes where the layout is `row_parallel`, else W.

  Returns:
    samples: [B, H, W, C] integer pixel values (as `dtype`).
    raw_params: [B, H, W, M * num_params] head outputs, if requested.
    passes: [H] int32, if requested.
  """
  dtype = plan.dtype
  batch = tf.shape(gumbel)[2]
  low, high = tf.cast(plan.low, dtype), tf.cast(plan.high, dtype)
  h, w = plan.height, plan.width
  raw_size = network.kernel_shape(plan.head.layer)[-1]

  blank = {}  # one zero cache per shape: fewer ops to trace
  vcache = {}
  for c in plan.all_row_convs():
    key = (c.window, c.in_width, c.in_channels)
    if key not in blank:
      blank[key] = c.empty_cache(batch, dtype)
    vcache[c.name] = blank[key]
  stores = {
      k: tf.zeros([batch, plan.widths[k], size], dtype)
      for k, size in enumerate(plan.record_sizes)
  }
  row_terms = {
      k: tf.zeros(
          [plan.widths[k], batch, sum(c.out_channels for c in convs)], dtype
      )
      for k, convs in plan.terms.items()
  }
  images = tf.TensorArray(dtype, size=h, element_shape=[w, None, plan.channels])
  params = tf.TensorArray(
      dtype, size=h if return_params else 0, element_shape=[w, None, raw_size]
  )
  passes = tf.TensorArray(tf.int32, size=h)
  row_depths = tf.constant(plan.row_depths, tf.int32)

  def row_body(i, vcache, stores, row_terms, images, params, passes):
    depth = tf.gather(row_depths, i)
    row = rows_lib.RowState(
        plan, weights, dict(vcache), stores, dict(row_terms), depth
    )
    up_current = weights_lib.up_current(plan, weights, depth)
    v = plan.v_init(weights[plan.v_init.name], row.vcache[plan.v_init.name], 0)
    rows_lib.row_level(
        plan, 0, v, row, {c.name: row.row_term(c) for c in plan.h_init}
    )
    # Pixels j < free_from of this row are observed.
    known = None if observed is None else (observed[0][i], observed[1] - i * w)
    noise = (gumbel[i], logistic[i], low, high)
    if layout.row_parallel:
      pixels, row_params, records, row_passes = jacobi_lib.row(
          plan, layout, weights, row.row_terms, up_current, depth, noise, known
      )
    else:
      pixels, row_params, records = _pixel_loop(
          plan,
          layout,
          weights,
          row,
          up_current,
          noise,
          batch,
          return_params,
          known,
      )
      row_passes = tf.constant(w)
    passes = passes.write(i, row_passes)
    images = images.write(i, pixels)
    if return_params:
      params = params.write(i, row_params)
    if progress is not None:
      with tf.control_dependencies([pixels]):
        tf.py_function(progress, [i], [])
    new_stores = {}
    for k, recorded in records.items():
      latest = tf.transpose(recorded, [1, 0, 2])
      new_stores[k] = (
          latest if k == 0 else tf.where(row.depth >= k, latest, stores[k])
      )
      # A static batch of 1 broadcasts with the records' unknown batch to
      # an unknown one; the loop needs the store's shape back.
      new_stores[k].set_shape(stores[k].shape)
    scaled = tf.transpose(
        mixture.to_network_scale(pixels, low, high), [1, 0, 2]
    )
    name = plan.v_init.name
    row.vcache[name] = plan.v_init.push(row.vcache[name], scaled)
    return i + 1, row.vcache, new_stores, row.row_terms, images, params, passes

  _, _, _, _, images, params, passes = tf.while_loop(
      lambda i, *_: i < h,
      row_body,
      (tf.constant(0), vcache, stores, row_terms, images, params, passes),
      name="rows",
  )
  out = [tf.transpose(images.stack(), [2, 0, 1, 3])]
  if return_params:
    out.append(tf.transpose(params.stack(), [2, 0, 1, 3]))
  if return_passes:
    out.append(passes.stack())
  return out[0] if len(out) == 1 else tuple(out)


def _pixel_loop(
    plan, layout, weights, row, up_current, noise, batch, return_params, known
):
  """The pixel loop of one full-resolution row.

  `noise`: `(gumbel [W, B, M], logistic [W, B, C], low, high)` of the row.
  `known`: None, or `(values [W, B, C], free_from)`: columns before
  `free_from` keep `values` rather than their draws.

  Returns:
    pixels: [W, B, C] sampled values.
    row_params: [W, B, P] raw head outputs (or None).
    records: {level: [W_k, B, sum of C_in]}, each level's recorded inputs
      at its columns (zeros where it did not run).
  """
  dtype = plan.dtype
  gumbel_row, logistic_row, low, high = noise
  levels = {
      k: layout.empty_level(plan, k, batch, dtype) for k in range(plan.levels)
  }
  records = tf.TensorArray(dtype, size=plan.width)
  pixels = tf.TensorArray(dtype, size=plan.width)
  row_params = tf.TensorArray(dtype, size=plan.width if return_params else 0)
  col_depths = tf.constant(plan.col_depths, tf.int32)

  def body(j, levels, records, pixels, row_params):
    px = pixels_lib.Pixel(
        plan,
        layout,
        weights,
        row.row_terms,
        up_current,
        j,
        tf.minimum(row.depth, tf.gather(col_depths, j)),
        batch,
    )
    s = pixels_lib.Scope(dict(levels))
    u = pixels_lib.pixel_level(
        px,
        s,
        0,
        lambda t: (
            pixels_lib.output(px, t, plan.h_init[0])
            + pixels_lib.output(px, t, plan.h_init[1])
        ),
    )
    raw = Dense.apply(weights[plan.head.name], tf.nn.elu(u))
    x, scaled = mixture.sample_pixel(
        mixture.split_params(raw, plan.channels, plan.num_mix),
        gumbel_row[j],
        logistic_row[j],
        low,
        high,
    )
    if known is not None:
      x = tf.where(j < known[1], known[0][j], x)
      scaled = mixture.to_network_scale(x, low, high)
    for conv in plan.h_init:
      pixels_lib.push(s, conv, scaled)
    pixels_lib.record(px, s, 0)
    pixels_lib.close_level(px, s, 0)
    # All levels' records in one write (zeros for levels not running).
    records = records.write(
        j, tf.concat([s.recorded[k] for k in range(plan.levels)], axis=-1)
    )
    pixels = pixels.write(j, x)
    if return_params:
      row_params = row_params.write(j, raw)
    return j + 1, s.levels, records, pixels, row_params

  _, _, records, pixels, row_params = tf.while_loop(
      lambda j, *_: j < plan.width,
      body,
      (tf.constant(0), levels, records, pixels, row_params),
      name="pixels",
  )
  records = tf.split(records.stack(), plan.record_sizes, axis=-1)
  return (
      pixels.stack(),
      row_params.stack() if return_params else None,
      {k: recorded[:: 2**k] for k, recorded in enumerate(records)},
  )
