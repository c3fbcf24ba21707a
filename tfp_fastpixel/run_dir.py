"""A run directory's layout: file names only, so that the CLI can inspect a
run before TensorFlow starts (see `train` for what each file holds)."""

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
HISTORY_FILE = "history.csv"
EXPORT_DIR = "export"  # the run's SavedModel (`python -m tfp_fastpixel export`)
EXPORT_STAMP = "checkpoint.txt"  # the checkpoint index the export was made from
