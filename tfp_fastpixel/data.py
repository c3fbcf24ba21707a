"""Input pipelines: `tf.data` datasets in the structure PixelCNN trains on.

`load(name, split, ...)` yields batches shaped like the "Easy PixelCNN with
tfprobability" post and TFP's `tfd.PixelCNN` docstring:

  * conditional:    `((image, label),)`, image float32 `[B, H, W, C]` in
                    `[low, high]`, label float32 `[B]` (scalar class id, the
                    post's way) or `[B, K]` (one-hot over the K selected
                    classes);
  * unconditional:  `(image,)`.

Keras reads a 1-tuple element as "inputs only, no targets", which is what a
model whose loss comes from `add_loss(-log_prob)` needs.

Datasets:

  * `digits`:    scikit-learn's bundled 8x8x1 digits (values 0..16, so
                 `high=16`), 10 classes; works offline, the default.
  * `cifar10`:   tfds `cifar10`, 32x32x3, 10 classes, `train`/`test`.
  * `quickdraw`: tfds `quickdraw_bitmap`, 28x28x1, 345 classes; tfds has only
                 a train split, so `test` is carved from the end of the first
                 `take` drawings.
  * `folder`:    the user's own images, `data_dir/<split>/<class>/*.png|jpg`,
                 read by `tfds.ImageFolder`.

Every dataset has a `train` and a `test` split; where the source has no test
split, `test` is a deterministic held-out slice disjoint from `train`.

Example:

  from tfp_fastpixel import FastPixelCNN
  from tfp_fastpixel import data

  spec = data.describe("digits", classes=[3, 7], labels="onehot")
  ds = data.load("digits", "train", batch_size=32, classes=[3, 7],
                 labels="onehot")
  ((images, labels),) = next(iter(ds))  # [32, 8, 8, 1], [32, 2]
  dist = FastPixelCNN(image_shape=spec.image_shape, high=spec.high,
                      conditional_shape=spec.conditional_shape)
"""

import dataclasses
import numbers
import os
import socket
import sys
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from tfp_fastpixel import validation

DATASETS = ("digits", "cifar10", "quickdraw", "folder")
SPLITS = ("train", "test")
LABEL_MODES = ("scalar", "onehot", None)

# The 20 QuickDraw classes of the "Easy PixelCNN with tfprobability" post.
# Ids are looked up in the builder's ClassLabel names, not hard-coded.
QUICKDRAW_POST_CLASSES = (
    "bee",
    "bicycle",
    "broccoli",
    "butterfly",
    "cactus",
    "frog",
    "guitar",
    "lightning",
    "penguin",
    "pizza",
    "rollerskates",
    "sea turtle",
    "sheep",
    "snowflake",
    "sun",
    "swan",
    "The Eiffel Tower",
    "tractor",
    "train",
    "tree",
)

_TFDS_NAMES = {"cifar10": "cifar10", "quickdraw": "quickdraw_bitmap"}
_SOURCE_HOSTS = {
    "cifar10": "www.cs.toronto.edu",
    "quickdraw_bitmap": "storage.googleapis.com",
}
_SHAPES = {
    "digits": (8, 8, 1),
    "cifar10": (32, 32, 3),
    "quickdraw": (28, 28, 1),
}
_DIGITS_HIGH = 16
_SHUFFLE_BUFFER = 10_000

ClassSpec = Union[None, str, int, Sequence[Union[str, int]]]


@dataclasses.dataclass(frozen=True)
class DataSpec:
  """What a model needs to know about a dataset selection.

  Attributes:
    name: one of `DATASETS`.
    image_shape: `(H, W, C)`.
    low, high: pixel value range (`high=16` for digits, 255 otherwise).
    class_names: names of ALL classes of the dataset, indexed by class id.
    classes: the selected class ids, sorted; all ids when nothing was selected.
    labels: `'scalar'`, `'onehot'` or `None` (unconditional).

  Example:

    spec = describe("digits", classes=["3", "7"], labels="onehot")
    spec.image_shape, spec.high  # (8, 8, 1), 16
    spec.conditional_input([7, 3])  # [[0., 1.], [1., 0.]]
  """

  name: str
  image_shape: Tuple[int, int, int]
  low: int
  high: int
  class_names: Tuple[str, ...]
  classes: Tuple[int, ...]
  labels: Optional[str]

  @property
  def conditional_shape(self):
    """`()` for scalar labels, `(K,)` for one-hot, `None` if unconditional."""
    if self.labels is None:
      return None
    return () if self.labels == "scalar" else (len(self.classes),)

  def conditional_input(self, class_ids):
    """Class ids -> the `conditional_input` the model was trained with.

    Args:
      class_ids: int array-like of shape `[N]`, dataset class ids (as in
        `class_names`), each one of `classes`.

    Returns:
      float32 numpy array `[N]` (scalar labels) or `[N, K]` (one-hot).
    """
    if self.labels is None:
      raise ValueError(
          "conditional_input: this selection is unconditional (labels=None)"
      )
    ids = np.asarray(class_ids, dtype=np.int64).reshape([-1])
    unknown = sorted(set(ids.tolist()) - set(self.classes))
    if unknown:
      raise ValueError(
          f"class_ids: {unknown} not among the selected classes "
          f"{list(self.classes)}"
      )
    if self.labels == "scalar":
      return ids.astype(np.float32)
    position = {c: i for i, c in enumerate(self.classes)}
    return np.eye(len(self.classes), dtype=np.float32)[
        [position[i] for i in ids.tolist()]
    ]

  def resolve(self, classes: ClassSpec):
    """Class names / ids -> sorted tuple of ids (see `resolve_classes`)."""
    return resolve_classes(classes, self.class_names)


def resolve_classes(classes: ClassSpec, class_names: Sequence[str]):
  """Turns class names or ids into a sorted tuple of class ids.

  Args:
    classes: `None` (all classes), `'post'` (the post's 20 QuickDraw classes),
      a name, an id, or a sequence of names / ids / digit strings.
    class_names: all class names of the dataset, indexed by id.

  Returns:
    Sorted tuple of unique int ids.

  Example:

    resolve_classes(["cat", 0, "3"], ["airplane", "car", "bird", "cat"])
    # (0, 3): "cat" by name, 0 by id, "3" as a digit string
  """
  n = len(class_names)
  if classes is None:
    return tuple(range(n))
  if isinstance(classes, str) and classes == "post":
    classes = QUICKDRAW_POST_CLASSES
  if isinstance(classes, (str, numbers.Real)):
    classes = [classes]
  lookup = {name: i for i, name in enumerate(class_names)}
  ids = set()
  for c in classes:
    # Whole-number floats are ids too: R passes `c(3, 7)` as doubles.
    if (
        isinstance(c, numbers.Real)
        and not isinstance(c, (bool, np.bool_))
        and float(c).is_integer()
    ):
      cid = int(c)
    elif isinstance(c, str) and c in lookup:
      cid = lookup[c]
    elif isinstance(c, str) and c.strip().isdigit():
      cid = int(c)
    else:
      raise ValueError(
          f"classes: unknown class {c!r}; expected a name among "
          f"{list(class_names)[:10]}... or an id in [0, {n})"
      )
    if not 0 <= cid < n:
      raise ValueError(f"classes: id {cid} out of range [0, {n})")
    ids.add(cid)
  if not ids:
    raise ValueError("classes: empty selection")
  return tuple(sorted(ids))


def describe(
    name: str = "digits",
    classes: ClassSpec = None,
    labels: Optional[str] = "scalar",
    data_dir: Optional[str] = None,
    image_size: Optional[Tuple[int, int]] = None,
    channels: int = 3,
) -> DataSpec:
  """Returns the `DataSpec` of a dataset selection (prepares tfds datasets;
  reads one image of a folder whose `image_size` is not given).

  Args:
    name: one of `DATASETS`.
    classes: class names or ids to keep (see `resolve_classes`); `None`
      keeps all.
    labels: `'scalar'`, `'onehot'` or `None` (unconditional).
    data_dir: tfds data dir, or the image root for `folder`.
    image_size: `(H, W)` of `folder` images (inferred if `None`).
    channels: 1 or 3, channels of `folder` images.

  Returns:
    A `DataSpec`: image shape `(H, W, C)`, pixel range, class names, the
    selected classes and the conditional shape a model needs.

  Example:

    spec = describe("cifar10", labels=None)
    dist = FastPixelCNN(image_shape=spec.image_shape, high=spec.high)
  """
  _check_name(name)
  if labels not in LABEL_MODES:
    raise ValueError(f"labels: expected one of {LABEL_MODES}, got {labels!r}")
  if name == "digits":
    names = tuple(str(i) for i in range(10))
    shape, high = _SHAPES[name], _DIGITS_HIGH
  elif name == "folder":
    builder = _folder_builder(data_dir, channels)
    names = tuple(builder.info.features["label"].names)
    shape, high = _folder_shape(builder, image_size, channels), 255
  else:
    builder = _tfds_builder(name, data_dir)
    _prepare(builder, data_dir)  # CIFAR's class names come with the data.
    names = tuple(builder.info.features["label"].names)
    shape, high = _SHAPES[name], 255
  return DataSpec(
      name=name,
      image_shape=tuple(shape),
      low=0,
      high=high,
      class_names=names,
      classes=resolve_classes(classes, names),
      labels=labels,
  )


def load(
    name: str = "digits",
    split: str = "train",
    batch_size: int = 32,
    classes: ClassSpec = None,
    take: Optional[int] = None,
    labels: Optional[str] = "scalar",
    shuffle: Optional[bool] = None,
    seed: int = 0,
    data_dir: Optional[str] = None,
    heldout_fraction: float = 0.1,
    drop_remainder: bool = False,
    image_size: Optional[Tuple[int, int]] = None,
    channels: int = 3,
    cache: bool = False,
) -> tf.data.Dataset:
  """Returns a batched, prefetched `tf.data.Dataset` for PixelCNN training.

  Args:
    name: one of `DATASETS`.
    split: `'train'` or `'test'` (held-out).
    batch_size: positive int; the global batch size.
    classes: class names or ids to keep (see `resolve_classes`); `None` keeps
      all. Filtering happens after `take`, as in the post.
    take: keep only the first `take` examples (the post's `train[:500000]`):
      of each split where the source has both, of the one source split where
      `test` is carved (quickdraw, folders without `test/`), so the held-out
      slice comes out of the first `take`.
    labels: `'scalar'` (float class id), `'onehot'` (over the selected
      classes) or `None` for unconditional `(image,)` elements.
    shuffle: shuffle examples (default: only for `train`).
    seed: shuffle seed; also fixes the digits held-out carve.
    data_dir: tfds data dir, or the image root for `folder`.
    heldout_fraction: fraction carved off as `test` where the source has none.
    drop_remainder: drop the last partial batch (fixed shapes).
    image_size: `(H, W)` to resize `folder` images to (inferred if `None`).
    channels: 1 or 3, channels of `folder` images.
    cache: cache decoded examples in memory (small datasets).

  Returns:
    `tf.data.Dataset` of `((image [B,H,W,C], label [B] or [B,K]),)` or
    `(image [B,H,W,C],)`, all float32.

  Example:

    ds = load("quickdraw", "train", batch_size=64, classes="post",
              take=500_000)
    for ((images, labels),) in ds.take(1):
      images.shape, labels.shape  # [64, 28, 28, 1], [64]
  """
  if split not in SPLITS:
    raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
  batch_size = validation.as_int("batch_size", batch_size, minimum=1)
  if take is not None:
    take = validation.as_int("take", take, minimum=1)
  seed = validation.as_int("seed", seed)
  if not 0.0 < heldout_fraction < 1.0:
    raise ValueError(
        f"heldout_fraction: expected a value in (0, 1), got "
        f"{heldout_fraction!r}"
    )
  spec = describe(name, classes, labels, data_dir, image_size, channels)
  if shuffle is None:
    shuffle = split == "train"

  if name == "digits":
    ds = _digits_examples(split, take, heldout_fraction, seed)
  elif name == "folder":
    ds = _folder_examples(
        spec, split, take, heldout_fraction, data_dir, channels
    )
  else:
    ds = _tfds_examples(name, split, take, heldout_fraction, data_dir, shuffle)

  if len(spec.classes) < len(spec.class_names):
    keep = tf.constant(spec.classes, tf.int64)
    ds = ds.filter(lambda image, label: tf.reduce_any(tf.equal(label, keep)))
  ds = ds.map(_to_model_inputs(spec), num_parallel_calls=tf.data.AUTOTUNE)
  if cache:
    ds = ds.cache()
  if shuffle:
    ds = ds.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
  ds = ds.batch(batch_size, drop_remainder=drop_remainder)
  return ds.prefetch(tf.data.AUTOTUNE)


def as_numpy(ds: tf.data.Dataset):
  """Concatenates a `load()` dataset into numpy arrays `(images, labels)`;
  `labels` is `None` for unconditional datasets.

  Args:
    ds: a dataset from `load` (conditional or not).

  Returns:
    `(images [N, H, W, C], labels [N] or [N, K] or None)`, float32.

  Example:

    images, labels = as_numpy(load("digits", "test", shuffle=False))
  """
  images, labels = [], []
  for (element,) in ds.as_numpy_iterator():
    if isinstance(element, tuple):
      images.append(element[0])
      labels.append(element[1])
    else:
      images.append(element)
  images = np.concatenate(images) if images else np.zeros([0])
  return images, (np.concatenate(labels) if labels else None)


# ---------------------------------------------------------------------------
# Sources: each yields unbatched `(image uint8 [H, W, C], label int64 [])`.


def _check_name(name):
  if name not in DATASETS:
    raise ValueError(
        f"name: unknown dataset {name!r}; expected one of " f"{DATASETS}"
    )


def _carve(n, heldout_fraction):
  """Number of train examples left when the last `heldout_fraction` of `n`
  is held out (at least one of each)."""
  if n < 2:
    raise ValueError(
        f"take: need at least 2 examples to carve a held-out " f"split, got {n}"
    )
  n_test = min(n - 1, max(1, int(round(n * heldout_fraction))))
  return n - n_test


def _digits_examples(split, take, heldout_fraction, seed):
  """Digits with a fixed, seeded permutation; the last fraction is `test`."""
  from sklearn.datasets import load_digits  # Local: sklearn is slow to import.

  bunch = load_digits()
  images = bunch.images.astype(np.uint8)[..., None]  # [1797, 8, 8, 1]
  order = np.random.RandomState(seed).permutation(len(images))
  n_train = _carve(len(images), heldout_fraction)
  idx = order[:n_train] if split == "train" else order[n_train:]
  if take is not None:
    idx = idx[:take]
  return tf.data.Dataset.from_tensor_slices(
      (images[idx], bunch.target[idx].astype(np.int64))
  )


def _tfds_builder(name, data_dir):
  import tensorflow_datasets as tfds  # Local: slow import, digits needs none.

  return tfds.builder(_TFDS_NAMES[name], data_dir=data_dir)


def _tfds_examples(name, split, take, heldout_fraction, data_dir, shuffle):
  builder = _tfds_builder(name, data_dir)
  _prepare(builder, data_dir)
  if name == "cifar10":
    tfds_split = f"{split}[:{take}]" if take else split
  else:  # quickdraw: one source split; hold out the tail of the first `take`.
    n = take or _num_examples(builder, "train")
    if n is None:  # Split sizes unknown (e.g. mocked data): slice by percent.
      pct = min(99, max(1, int(round(100 * heldout_fraction))))
      tfds_split = (
          f"train[:{100 - pct}%]"
          if split == "train"
          else f"train[{100 - pct}%:]"
      )
    else:
      n_train = _carve(n, heldout_fraction)
      tfds_split = (
          f"train[:{n_train}]" if split == "train" else f"train[{n_train}:{n}]"
      )
  ds = builder.as_dataset(split=tfds_split, shuffle_files=shuffle)
  return ds.map(
      lambda ex: (ex["image"], ex["label"]), num_parallel_calls=tf.data.AUTOTUNE
  )


def _num_examples(builder, split):
  """Size of a prepared split, or `None` where tfds does not know it."""
  try:
    return builder.info.splits[split].num_examples or None
  except KeyError:
    return None


def _prepare(builder, data_dir):
  """`download_and_prepare` with a clear message where there is no network."""
  host = _SOURCE_HOSTS.get(builder.name)
  if host and not builder.is_prepared() and not _resolves(host):
    # tfds retries for minutes before failing; say what to do right away.
    print(
        f"tfp_fastpixel.data: {builder.name!r} is not prepared in "
        f"data_dir={data_dir!r} and {host} is unreachable; tfds will retry, "
        f"then fail. Offline, pass the data_dir of a prepared copy.",
        file=sys.stderr,
    )
  try:
    builder.download_and_prepare()
  except Exception as e:  # Network errors come in many types.
    raise RuntimeError(
        f"Could not download/prepare tfds dataset {builder.name!r} "
        f"(data_dir={data_dir!r}): {e}\nWithout network, prepare it on a "
        f"machine that has one (tfds build {builder.name} --data_dir=DIR), "
        f"copy DIR here and pass data_dir=DIR (CLI: --data_dir DIR)."
    ) from e


def _resolves(host):
  try:
    socket.getaddrinfo(host, 443)
    return True
  except OSError:
    return False


def _folder_builder(data_dir, channels):
  if not data_dir or not os.path.isdir(data_dir):
    raise ValueError(
        f"data_dir: the 'folder' dataset needs an existing image "
        f"root (data_dir/<split>/<class>/*.png), got {data_dir!r}"
    )
  if channels not in (1, 3):
    raise ValueError(f"channels: expected 1 or 3, got {channels!r}")
  import tensorflow_datasets as tfds

  builder = tfds.ImageFolder(data_dir, shape=(None, None, channels))
  if "train" not in builder.info.splits:
    raise ValueError(
        f"data_dir: {data_dir!r} has no 'train' sub-folder "
        f"(found {list(builder.info.splits)})"
    )
  return builder


def _folder_shape(builder, image_size, channels):
  if image_size is None:  # Infer from the first image of the train split.
    first = next(iter(builder.as_dataset(split="train").take(1)))
    image_size = tuple(first["image"].shape[:2])
  if len(image_size) != 2 or min(image_size) < 1:
    raise ValueError(f"image_size: expected (H, W), got {image_size!r}")
  return (int(image_size[0]), int(image_size[1]), channels)


def _folder_examples(spec, split, take, heldout_fraction, data_dir, channels):
  """Folder images resized to `spec.image_shape`; `test` falls back to the
  tail of `train` when the folder has no `test` sub-folder."""
  builder = _folder_builder(data_dir, channels)
  if "test" in builder.info.splits:
    ds = builder.as_dataset(split=split, shuffle_files=False)
    if take:
      ds = ds.take(take)
  else:  # ImageFolder orders examples deterministically, so take/skip is too.
    n = builder.info.splits["train"].num_examples
    n = min(n, take) if take else n
    n_train = _carve(n, heldout_fraction)
    ds = builder.as_dataset(split="train", shuffle_files=False)
    ds = (
        ds.take(n_train)
        if split == "train"
        else ds.skip(n_train).take(n - n_train)
    )
  height, width, _ = spec.image_shape

  def resize(ex):
    image = ex["image"]
    if image.shape[0] != height or image.shape[1] != width:
      # Round back to integers: the model is a distribution over [0, 255].
      image = tf.image.resize(image, [height, width], antialias=True)
      image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
    return tf.ensure_shape(image, spec.image_shape), ex["label"]

  return ds.map(resize, num_parallel_calls=tf.data.AUTOTUNE)


def _to_model_inputs(spec):
  """`(image uint8, label int64)` -> the model's input element."""
  positions = np.full([len(spec.class_names)], -1, np.int64)
  positions[list(spec.classes)] = np.arange(len(spec.classes))
  positions = tf.constant(positions)

  def fn(image, label):
    image = tf.ensure_shape(tf.cast(image, tf.float32), spec.image_shape)
    if spec.labels is None:
      return (image,)
    if spec.labels == "scalar":
      return ((image, tf.cast(label, tf.float32)),)
    onehot = tf.one_hot(
        tf.gather(positions, label), len(spec.classes), dtype=tf.float32
    )
    return ((image, onehot),)

  return fn
