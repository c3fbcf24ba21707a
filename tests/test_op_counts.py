"""The benchmark's ops-per-pixel counters weigh each loop body correctly."""

import pytest
import tensorflow as tf

from tfp_fastpixel import op_counts

H, W = 3, 4


def _generator_shaped(extra_row=0, extra_pixel=0, extra_branch=0):
  """A row loop around a pixel loop around a cond, with extra ops in each."""

  def chain(x, n):
    for _ in range(n):
      x = tf.math.sin(x)
    return x

  def fn(x):
    def row(i, x):
      x = chain(x, extra_row)

      def pixel(j, x):
        x = chain(x, extra_pixel)
        x = tf.cond(tf.equal(j, 0), lambda: chain(x, extra_branch), lambda: x)
        return j + 1, x

      _, x = tf.while_loop(lambda j, x: j < W, pixel, (0, x))
      return i + 1, x

    return tf.while_loop(lambda i, x: i < H, row, (0, x))[1]

  return tf.function(fn, autograph=False).get_concrete_function(
      tf.TensorSpec([2])
  )


def test_graph_counter_weighs_rows_pixels_and_branches():
  base = op_counts.graph_ops_per_pixel(_generator_shaped(), H, W)
  assert base > 0

  def count(**kw):
    return op_counts.graph_ops_per_pixel(_generator_shaped(**kw), H, W) - base

  assert count(extra_pixel=5) == pytest.approx(5)
  assert count(extra_row=4) == pytest.approx(4 / W)
  # A cond in the pixel body enters a deeper level a quarter of the time.
  assert count(extra_branch=8) == pytest.approx(8 / 4)


HLO = """
HloModule m

%fused (p: f32[2]) -> f32[2] {
  %p = f32[2]{0} parameter(0)
  ROOT %e = f32[2]{0} exponential(%p)
}

%deeper (t: (f32[2])) -> (f32[2]) {
  %t = (f32[2]{0}) parameter(0)
  %a = f32[2]{0} get-tuple-element(%t), index=0
  %d = f32[2]{0} dot(%a, %a), lhs_contracting_dims={0}
  %f = f32[2]{0} fusion(%d), kind=kLoop, calls=%fused
  ROOT %r = (f32[2]{0}) tuple(%f)
}

%skip (t: (f32[2])) -> (f32[2]) {
  ROOT %t = (f32[2]{0}) parameter(0)
}

%pixel_body (s: (s32[], f32[2])) -> (s32[], f32[2]) {
  %s = (s32[], f32[2]{0}) parameter(0)
  %x = f32[2]{0} get-tuple-element(%s), index=1
  %c = f32[2]{0} copy(%x)
  %f1 = f32[2]{0} fusion(%c), kind=kLoop, calls=%fused
  %pred = pred[] constant(true)
  %tup = (f32[2]{0}) tuple(%f1)
  %k = (f32[2]{0}) conditional(%pred, %tup, %tup), true_computation=%deeper, false_computation=%skip
  ROOT %out = (s32[], f32[2]{0}) tuple(%pred, %x)
}

%row_body (s: (s32[], f32[2])) -> (s32[], f32[2]) {
  %s = (s32[], f32[2]{0}) parameter(0)
  %conv = f32[2]{0} convolution(%s, %s), window={size=1}
  %w = (s32[], f32[2]{0}) while(%s), condition=%c, body=%pixel_body
  ROOT %r = (s32[], f32[2]{0}) tuple(%w)
}

ENTRY %main (x: f32[2]) -> f32[2] {
  %x = f32[2]{0} parameter(0)
  %f0 = f32[2]{0} fusion(%x), kind=kLoop, calls=%fused
  %w = (s32[], f32[2]{0}) while(%x), condition=%c, body=%row_body
  ROOT %r = f32[2]{0} get-tuple-element(%w), index=1
}
"""


def test_hlo_counter_weighs_rows_pixels_and_branches():
  launches, work = op_counts.xla_ops_per_pixel(HLO, H, W)
  # Per pixel: 1 fusion, plus a quarter of (dot + fusion); per row: 1
  # convolution. Outside the loops: nothing counts.
  assert launches == pytest.approx(1 + 2 / 4 + 1 / W)
  # Working instructions add the unfused copy.
  assert work == pytest.approx(launches + 1)


def test_hlo_counter_counts_kernels_inside_calls():
  # XLA's GPU backend outlines kernels into calls (command buffers): the
  # pixel body's fusion, moved into one, still runs once per pixel.
  outlined = HLO.replace(
      "%f1 = f32[2]{0} fusion(%c), kind=kLoop, calls=%fused",
      "%f1 = f32[2]{0} call(%c), to_apply=%command_buffer",
  ).replace(
      "%deeper (t:",
      "%command_buffer (p: f32[2]) -> f32[2] {\n"
      "  %p = f32[2]{0} parameter(0)\n"
      "  ROOT %f = f32[2]{0} fusion(%p), kind=kLoop, calls=%fused\n"
      "}\n\n%deeper (t:",
  )
  assert "to_apply=%command_buffer" in outlined
  assert op_counts.xla_ops_per_pixel(
      outlined, H, W
  ) == op_counts.xla_ops_per_pixel(HLO, H, W)


def test_hlo_counter_weighs_jacobi_passes_and_their_branches():
  # The Jacobi program: the inner loop runs passes over whole rows, a
  # measured number per row, and a cond in it enters a deeper level on half
  # of the rows, as in the row loop.
  passes = 2.5
  launches, work = op_counts.xla_ops_per_pixel(
      HLO, H, W, inner_trips=passes, row_parallel=True
  )
  # Per row: 1 convolution, and per pass 1 fusion plus half of (dot +
  # fusion).
  assert launches == pytest.approx((1 + passes * (1 + 2 / 2)) / W)
  assert work == pytest.approx(launches + passes / W)
  # No passes leave the row loop's own kernels; the defaults are the pixel
  # loop's.
  assert op_counts.xla_ops_per_pixel(
      HLO, H, W, inner_trips=0, row_parallel=True
  )[0] == pytest.approx(1 / W)
  assert op_counts.xla_ops_per_pixel(
      HLO, H, W, inner_trips=W
  ) == op_counts.xla_ops_per_pixel(HLO, H, W)
