"""Pipelines: real tfds parsing on fake source files, mocked tfds, digits,
image folders, and argument checking. All offline."""

import os
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfp_fastpixel import data


def _pairs(images, labels):
  """Order-free view of a dataset: sorted (pixel bytes, label) pairs."""
  return sorted(
      (np.asarray(x, np.uint8).tobytes(), int(y))
      for x, y in zip(images, labels)
  )


# ---------------------------------------------------------------------------
# Real tfds builders on tiny fake source files; only the download is replaced.


def _write_cifar10_source(root, rng):
  """Writes `cifar-10-batches-bin/` in the real binary format.

  Returns:
    `{"train": (images HWC uint8 [N,32,32,3], labels [N]), "test": ...}`.
  """
  folder = os.path.join(root, "cifar-10-batches-bin")
  os.makedirs(folder)
  names = [
      "airplane",
      "automobile",
      "bird",
      "cat",
      "deer",
      "dog",
      "frog",
      "horse",
      "ship",
      "truck",
  ]
  with open(os.path.join(folder, "batches.meta.txt"), "w") as f:
    f.write("\n".join(names) + "\n\n")
  out = {"train": ([], []), "test": ([], [])}
  files = [(f"data_batch_{i}.bin", "train", 2) for i in range(1, 6)]
  files.append(("test_batch.bin", "test", 3))
  for filename, split, count in files:
    records = []
    for _ in range(count):
      label = int(rng.integers(10))
      chw = rng.integers(0, 256, size=(3, 32, 32), dtype=np.uint8)
      records.append(bytes([label]) + chw.tobytes())  # 1 + 3072 bytes
      out[split][0].append(chw.transpose(1, 2, 0))  # What a model must see.
      out[split][1].append(label)
    with open(os.path.join(folder, filename), "wb") as f:
      f.write(b"".join(records))
  return {k: (np.stack(v[0]), np.array(v[1])) for k, v in out.items()}


def test_cifar10_real_builder_round_trips_pixels_and_labels(tmp_path):
  rng = np.random.default_rng(0)
  expected = _write_cifar10_source(str(tmp_path / "src"), rng)
  data_dir = str(tmp_path / "tfds")
  with mock.patch.object(
      tfds.download.DownloadManager,
      "download_and_extract",
      lambda self, url: str(tmp_path / "src"),
  ):
    tfds.builder("cifar10", data_dir=data_dir).download_and_prepare()

  for split in ("train", "test"):
    ds = data.load(
        "cifar10", split, batch_size=4, shuffle=False, data_dir=data_dir
    )
    assert ds.element_spec[0][0].shape.as_list() == [None, 32, 32, 3]
    images, labels = data.as_numpy(ds)
    assert images.dtype == np.float32 and labels.dtype == np.float32
    assert _pairs(images, labels) == _pairs(*expected[split])
  # The CHW -> HWC step matters: the raw (untransposed) layout must not match.
  raw = [x.transpose(2, 0, 1).reshape(32, 32, 3) for x in expected["test"][0]]
  images, _ = data.as_numpy(
      data.load(
          "cifar10", "test", batch_size=8, shuffle=False, data_dir=data_dir
      )
  )
  assert _pairs(raw, expected["test"][1]) != _pairs(images, expected["test"][1])
  assert data.describe("cifar10", data_dir=data_dir).class_names[3] == "cat"


def test_quickdraw_real_builder_round_trips_and_filters(tmp_path):
  src = tmp_path / "src"
  src.mkdir()
  rng = np.random.default_rng(1)
  drawings = {"bee": 4, "The Eiffel Tower": 3, "cat": 5}
  for name, count in drawings.items():
    np.save(
        src / f"{name}.npy",
        rng.integers(0, 256, size=(count, 784), dtype=np.uint8),
    )
  np.save(src / "_empty.npy", np.zeros((0, 784), np.uint8))

  def download(self, urls):  # One .npy per class, as the real bucket has.
    return {
        label: str(
            src / (f"{label}.npy" if label in drawings else "_empty.npy")
        )
        for label in urls
    }

  data_dir = str(tmp_path / "tfds")
  with mock.patch.object(tfds.download.DownloadManager, "download", download):
    tfds.builder("quickdraw_bitmap", data_dir=data_dir).download_and_prepare()

  spec = data.describe("quickdraw", data_dir=data_dir)
  assert spec.image_shape == (28, 28, 1) and len(spec.class_names) == 345
  # The post's 20 classes, ids read from the builder's ClassLabel names.
  post = data.describe("quickdraw", classes="post", data_dir=data_dir)
  assert [spec.class_names[i] for i in post.classes] == sorted(
      data.QUICKDRAW_POST_CLASSES, key=spec.class_names.index
  )
  assert post.classes[0] == 26 and post.classes[-1] == 323

  keep = ["bee", "The Eiffel Tower"]
  ids = [spec.class_names.index(n) for n in keep]
  kwargs = dict(
      classes=keep,
      batch_size=2,
      shuffle=False,
      data_dir=data_dir,
      heldout_fraction=0.25,
  )
  train = data.as_numpy(data.load("quickdraw", "train", **kwargs))
  test = data.as_numpy(data.load("quickdraw", "test", **kwargs))
  got = _pairs(*train) + _pairs(*test)
  want = []
  for name, cid in zip(keep, ids):
    arr = np.load(src / f"{name}.npy").reshape(-1, 28, 28, 1)
    want += _pairs(arr, [cid] * len(arr))
  assert sorted(got) == sorted(want)  # Filtered, pixels and labels intact.
  assert not set(_pairs(*train)) & set(_pairs(*test))  # Disjoint splits.

  # `take` keeps only the first N drawings (before filtering, as the post).
  n_taken = sum(
      len(x)
      for x, in data.load(
          "quickdraw",
          "train",
          take=8,
          labels=None,
          batch_size=3,
          shuffle=False,
          data_dir=data_dir,
          heldout_fraction=0.25,
      ).as_numpy_iterator()
  )
  assert n_taken == 6


# ---------------------------------------------------------------------------
# tfds.testing.mock_data: shapes, dtypes, element structure, class filtering.


@pytest.mark.parametrize(
    "labels, label_shape",
    [("scalar", [None]), ("onehot", [None, 10]), (None, None)],
)
def test_mock_cifar10_element_structure(labels, label_shape):
  with tfds.testing.mock_data(num_examples=10):
    ds = data.load("cifar10", "train", batch_size=4, labels=labels)
    elements = list(ds.as_numpy_iterator())
  assert len(elements) == 3 and isinstance(elements[0], tuple)
  assert len(elements[0]) == 1  # `((image, label),)` or `(image,)`.
  if labels is None:
    assert isinstance(ds.element_spec[0], tf.TensorSpec)
    image = elements[0][0]
  else:
    image_spec, label_spec = ds.element_spec[0]
    assert label_spec.dtype == tf.float32
    assert label_spec.shape.as_list() == label_shape
    image = elements[0][0][0]
  assert image.dtype == np.float32 and image.shape == (4, 32, 32, 3)
  assert 0 <= image.min() and image.max() <= 255


def _labelled_quickdraw(self, split, **kwargs):
  """Fake `quickdraw_bitmap` examples: label i % 7, image filled with i."""
  del self, split, kwargs
  return tf.data.Dataset.range(28).map(
      lambda i: {
          "image": tf.fill([28, 28, 1], tf.cast(i, tf.uint8)),
          "label": i % 7,
      }
  )


def test_mock_quickdraw_class_filter_and_onehot():
  with tfds.testing.mock_data(as_dataset_fn=_labelled_quickdraw):
    spec = data.describe("quickdraw", classes=[5, "airplane"], labels="onehot")
    assert spec.class_names[1] == "airplane" and spec.classes == (1, 5)
    ds = data.load(
        "quickdraw",
        "train",
        classes=[5, "airplane"],
        labels="onehot",
        batch_size=3,
        shuffle=False,
    )
    images, onehot = data.as_numpy(ds)
    ds = data.load(
        "quickdraw",
        "train",
        classes=[5, "airplane"],
        batch_size=3,
        shuffle=False,
    )
    _, scalar = data.as_numpy(ds)
  assert images.shape == (8, 28, 28, 1) and onehot.shape == (8, 2)
  assert set(scalar.tolist()) == {1.0, 5.0}  # Dataset ids, the post's way.
  np.testing.assert_array_equal(onehot, spec.conditional_input(scalar))
  np.testing.assert_array_equal(images[:, 0, 0, 0] % 7, scalar)


# ---------------------------------------------------------------------------
# digits (offline default) and image folders.


def test_digits_splits_are_fixed_disjoint_and_complete():
  spec = data.describe("digits")
  assert spec.image_shape == (8, 8, 1) and spec.high == 16
  assert spec.conditional_shape == ()
  train = data.as_numpy(data.load("digits", "train", batch_size=512))
  test = data.as_numpy(data.load("digits", "test", batch_size=512))
  again = data.as_numpy(data.load("digits", "test", batch_size=7))
  assert len(train[0]) + len(test[0]) == 1797 and len(test[0]) == 180
  assert _pairs(*test) == _pairs(*again)
  assert not set(_pairs(*train)) & set(_pairs(*test))
  assert train[0].max() == 16 and set(np.unique(train[1])) == set(range(10))


def test_digits_onehot_over_selected_classes():
  ds = data.load(
      "digits",
      "train",
      classes=["3", 8],
      labels="onehot",
      batch_size=16,
      shuffle=False,
  )
  images, labels = data.as_numpy(ds)
  _, ids = data.as_numpy(
      data.load("digits", "train", classes=[3, 8], batch_size=16, shuffle=False)
  )
  assert labels.shape == (len(images), 2) and set(ids.tolist()) == {3.0, 8.0}
  np.testing.assert_array_equal(labels[:, 1], (ids == 8).astype(np.float32))


def _write_folder(root, rng, splits=("train",)):
  written = {}
  for split in splits:
    for label, name in enumerate(["cat", "dog"]):
      os.makedirs(os.path.join(root, split, name))
      for i in range(3):
        image = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
        tf.io.write_file(
            os.path.join(root, split, name, f"{i}.png"), tf.io.encode_png(image)
        )
        written.setdefault(split, []).append((image, label))
  return written


def test_folder_images_round_trip_and_carve(tmp_path):
  written = _write_folder(str(tmp_path), np.random.default_rng(2))["train"]
  spec = data.describe("folder", data_dir=str(tmp_path))
  assert spec.image_shape == (6, 5, 3) and spec.class_names == ("cat", "dog")
  kwargs = dict(
      batch_size=4, shuffle=False, data_dir=str(tmp_path), heldout_fraction=0.34
  )
  train = data.as_numpy(data.load("folder", "train", **kwargs))
  test = data.as_numpy(data.load("folder", "test", **kwargs))
  assert len(test[0]) == 2 and len(train[0]) == 4
  assert sorted(_pairs(*train) + _pairs(*test)) == _pairs(*zip(*written))
  small = data.load("folder", "train", image_size=(4, 4), channels=1, **kwargs)
  assert small.element_spec[0][0].shape.as_list() == [None, 4, 4, 1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(name="mnist"), "name"),
        (dict(split="validation"), "split"),
        (dict(batch_size=0), "batch_size"),
        (dict(classes=["not a class"]), "classes"),
        (dict(classes=[10]), "classes"),
        (dict(labels="sparse"), "labels"),
        (dict(take=0), "take"),
        (dict(heldout_fraction=1.5), "heldout_fraction"),
        (dict(name="folder", data_dir="/nonexistent"), "data_dir"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(kwargs, match):
  with pytest.raises(ValueError, match=match):
    data.load(**kwargs)


def test_conditional_input_checks_classes():
  spec = data.describe("digits", classes=[1, 2], labels="onehot")
  np.testing.assert_array_equal(
      spec.conditional_input([2, 1]), [[0, 1], [1, 0]]
  )
  with pytest.raises(ValueError, match="class_ids"):
    spec.conditional_input([3])
  with pytest.raises(ValueError, match="unconditional"):
    data.describe("digits", labels=None).conditional_input([1])
