"""The discretized logistic mixture of PixelCNN++, sampled exactly.

`tfd.PixelCNN.log_prob` scores integer pixels under a mixture of quantized
logistics whose RGB locations are shifted by the *quantized* earlier
channels. `sample_pixel` draws from exactly that distribution (TFP's own
sampler feeds back the unrounded logistic draw instead).
"""

import numpy as np
import tensorflow as tf


def num_params(num_channels):
  """Parameters per mixture component: logit, locs, scales, coefficients."""
  return 1 + 2 * num_channels + num_channels * (num_channels - 1) // 2


def split_params(raw, num_channels, num_mix):
  """Splits the head's output as TFP's network does.

  Args:
    raw: [..., num_mix * num_params(num_channels)].

  Returns:
    `[logits [..., M], locs [..., M, C], scales [..., M, C]]`, plus
    `coeffs [..., M, C(C-1)/2]` if there is more than one channel.
  """
  shape = tf.concat(
      [tf.shape(raw)[:-1], [num_mix, num_params(num_channels)]], 0
  )
  params = tf.reshape(raw, shape)
  num_coeffs = num_channels * (num_channels - 1) // 2
  splits = (
      3 if num_channels == 1 else [1, num_channels, num_channels, num_coeffs]
  )
  out = tf.split(params, splits, axis=-1)
  out[0] = tf.squeeze(out[0], axis=-1)
  out[2] = tf.nn.softplus(out[2]) + tf.cast(tf.exp(-7.0), raw.dtype)
  return out


def to_network_scale(pixels, low, high):
  """Integer pixels in [low, high] -> the network's input scale [-1, 1]."""
  return 2.0 * (pixels - low) / (high - low) - 1.0


def coupled_locs(locs, coeffs, scaled):
  """Each channel's locations shifted by the earlier channels' values.

  Args:
    locs: [..., M, C]; coeffs: [..., M, C(C-1)/2], in TFP's order (1,0),
      (2,0), (2,1); scaled: [..., C] pixel values on the network's scale.

  Returns:
    [..., M, C]: `locs[c] + sum_{e<c} coeffs[c,e] * scaled[e]`, the means of
    the density `tfd.PixelCNN.log_prob` scores.
  """
  out, coeff = [], 0
  for c in range(locs.shape[-1]):
    mu = locs[..., c]
    for e in range(c):
      mu += coeffs[..., coeff] * scaled[..., tf.newaxis, e]
      coeff += 1
    out.append(mu)
  return tf.stack(out, axis=-1)


def sample_pixel(params, gumbel, logistic, low, high):
  """One exact draw per batch member of one pixel.

  Args:
    params: `split_params` output for one pixel (leading shape [B]).
    gumbel: [B, M] standard Gumbel noise, to pick the component.
    logistic: [B, C] standard logistic noise, one per channel.
    low, high: the pixel range, as tensors of the sample dtype.

  Returns:
    pixels: [B, C] integers in [low, high] (float dtype).
    scaled: [B, C], `pixels` on the network's [-1, 1] scale; this, not the
      continuous draw, is what the density conditions later channels and
      pixels on.
  """
  logits, locs, scales = params[:3]
  num_mix, num_channels = locs.shape[-2], locs.shape[-1]
  component = tf.one_hot(
      tf.argmax(logits + gumbel, axis=-1), num_mix, dtype=locs.dtype
  )[..., tf.newaxis]
  loc = tf.reduce_sum(locs * component, axis=-2)
  scale = tf.reduce_sum(scales * component, axis=-2)
  coeffs = (
      tf.reduce_sum(params[3] * component, axis=-2)
      if num_channels > 1
      else None
  )
  half_range = 0.5 * (high - low)
  pixels, scaled = [], []
  coeff = 0
  for c in range(num_channels):
    mu = loc[:, c]
    for earlier in scaled:  # TFP's coefficient order: (1,0), (2,0), (2,1)
      mu += earlier * coeffs[:, coeff]
      coeff += 1
    # Quantized(Logistic - 1/2) on [low, high]: ceil, then clip the tails.
    draw = (
        low
        + half_range * (mu + 1.0)
        + (scale[:, c] * half_range * logistic[:, c])
    )
    pixel = tf.clip_by_value(tf.math.ceil(draw - 0.5), low, high)
    pixels.append(pixel)
    scaled.append(to_network_scale(pixel, low, high))
  return tf.stack(pixels, axis=-1), tf.stack(scaled, axis=-1)


def noise(seed, shape, num_mix, num_channels, dtype):
  """Gumbel [*shape, M] and logistic [*shape, C] noise for all pixels.

  Drawing all noise up front keeps random-number ops (and the logs that
  turn uniforms into Gumbel and logistic draws) out of the per-pixel loop;
  `seed` is a stateless seed, so a seed reproduces a sample exactly.
  """
  seed_gumbel, seed_logistic = tf.unstack(
      tf.random.experimental.stateless_split(seed, 2)
  )
  tiny = np.finfo(dtype.as_numpy_dtype).tiny
  u_mix = tf.random.stateless_uniform(
      list(shape) + [num_mix], seed_gumbel, minval=tiny, maxval=1.0, dtype=dtype
  )
  u_pix = tf.random.stateless_uniform(
      list(shape) + [num_channels],
      seed_logistic,
      minval=tiny,
      maxval=1.0,
      dtype=dtype,
  )
  return (
      -tf.math.log(-tf.math.log(u_mix)),
      tf.math.log(u_pix) - tf.math.log1p(-u_pix),
  )
