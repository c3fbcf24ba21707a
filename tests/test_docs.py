"""The documentation stays true: its links resolve and its quick start runs.

* Every relative link and image in README.md, CHANGELOG.md and docs/*.md
  points to a file that exists, and every `#anchor` to a heading of the
  target page, slugged as GitHub does.
* The README's quick start (the first ```python block under "## Quick
  start") runs as written, on a smaller model and a shorter training.
"""

import collections
import glob
import os
import re

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
DOC_FILES = sorted(
    [README, os.path.join(ROOT, "CHANGELOG.md")]
    + glob.glob(os.path.join(ROOT, "docs", "*.md"))
)

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target "title") and ![alt](target); <img src=...> and <a href=...>.
_MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?")
_HTML_LINK = re.compile(r"""<(?:img|a)\b[^>]*?\b(?:src|href)=["']([^"']+)""")
_HTML_ID = re.compile(r"""<[^>]*?\b(?:id|name)=["']([^"']+)""")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, mailto:


def _prose_lines(text):
  """(line number, line) outside fenced code blocks."""
  fenced = False
  for number, line in enumerate(text.splitlines(), 1):
    if _FENCE.match(line):
      fenced = not fenced
      continue
    if not fenced:
      yield number, line


def github_slug(heading):
  """The anchor GitHub gives a heading's text (before de-duplication).

  Markdown is rendered first (code spans keep their text, links their
  label, emphasis markers go); then lowercase, drop every character that is
  not a letter, digit, underscore, hyphen or space, and spaces become
  hyphens.
  """
  text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links
  text = re.sub(r"<[^>]+>", "", text)  # inline HTML
  text = text.replace("`", "")
  text = re.sub(r"(\*+|(?<!\w)_+|_+(?!\w))", "", text)  # emphasis
  text = text.strip().lower()
  text = re.sub(r"[^\w\- ]", "", text)
  return text.replace(" ", "-")


def anchors(text):
  """Every anchor of a Markdown page: headings (a repeated slug gets -1,
  -2, ... as on GitHub) and HTML id/name attributes."""
  seen = collections.Counter()
  out = set()
  for _, line in _prose_lines(text):
    match = _HEADING.match(line)
    if match:
      slug = github_slug(match.group(2))
      out.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
      seen[slug] += 1
    out.update(_HTML_ID.findall(line))
  return out


def links(text):
  """(line number, target) of every link and image outside code."""
  for number, line in _prose_lines(text):
    line = re.sub(r"`[^`]*`", "", line)  # inline code is not a link
    for pattern in (_MD_LINK, _HTML_LINK):
      for target in pattern.findall(line):
        yield number, target


def broken_links(path):
  """'file:line: target (why)' for each relative link of `path` that does
  not resolve."""
  with open(path, encoding="utf-8") as f:
    text = f.read()
  problems = []
  for number, target in links(text):
    if _EXTERNAL.match(target):
      continue
    file_part, _, anchor = target.partition("#")
    where = f"{os.path.relpath(path, ROOT)}:{number}: {target}"
    resolved = (
        os.path.normpath(os.path.join(os.path.dirname(path), file_part))
        if file_part
        else path
    )
    if not os.path.exists(resolved):
      problems.append(f"{where} (no such file)")
      continue
    if not anchor:
      continue
    if not resolved.endswith(".md"):
      problems.append(f"{where} (an anchor into a file that is not Markdown)")
      continue
    with open(resolved, encoding="utf-8") as f:
      if anchor not in anchors(f.read()):
        problems.append(f"{where} (no heading with this anchor)")
  return problems


def test_the_documentation_pages_exist():
  names = {os.path.relpath(p, ROOT) for p in DOC_FILES}
  for page in ("performance", "design", "exactness"):
    assert os.path.join("docs", f"{page}.md") in names


@pytest.mark.parametrize(
    "path", DOC_FILES, ids=[os.path.relpath(p, ROOT) for p in DOC_FILES]
)
def test_relative_links_and_anchors_resolve(path):
  assert broken_links(path) == []


def test_github_slugs():
  assert github_slug("Install and the two commands") == (
      "install-and-the-two-commands"
  )
  assert github_slug("What differs from `tfd.PixelCNN`") == (
      "what-differs-from-tfdpixelcnn"
  )
  assert github_slug("On a GPU (H200)") == "on-a-gpu-h200"
  assert github_slug("Data, training and the command line") == (
      "data-training-and-the-command-line"
  )
  assert github_slug("**Bold** and [a link](x.md) and `run_dir`") == (
      "bold-and-a-link-and-run_dir"
  )
  page = "# Setup\n\n## Setup\n\n```sh\n# Setup\n```\n\n### Setup\n"
  assert anchors(page) == {"setup", "setup-1", "setup-2"}


def test_broken_links_are_reported(tmp_path):
  (tmp_path / "other.md").write_text("# Other page\n\n## A section\n")
  page = tmp_path / "page.md"
  page.write_text(
      "# Title\n\n"
      "[fine](other.md#a-section) [fine too](#title) "
      "[external](https://example.org/x#y)\n"
      "[missing file](nowhere.md) [missing anchor](other.md#no-section)\n"
      '<img src="missing.png"> [self](#not-here)\n'
      "`[in code](nowhere.md)`\n\n"
      "```md\n[in a block](nowhere.md)\n```\n"
  )
  problems = broken_links(str(page))
  assert len(problems) == 4, problems
  assert any("nowhere.md (no such file)" in p for p in problems)
  assert any("other.md#no-section (no heading" in p for p in problems)
  assert any("missing.png (no such file)" in p for p in problems)
  assert any("#not-here (no heading" in p for p in problems)


# The quick start's model and training, made smaller so that the test runs
# in seconds; each replacement must match the README exactly once, so that a
# change to the quick start is noticed here.
QUICK_START_SMALLER = (
    ("num_resnet=2", "num_resnet=1"),
    ("num_hierarchies=2", "num_hierarchies=1"),
    ("num_filters=32", "num_filters=8"),
    ("num_logistic_mix=5", "num_logistic_mix=2"),
    ("batch_size=32)", "batch_size=32, take=128)"),
    ("epochs=20", "epochs=1"),
)


def quick_start_code():
  """The first ```python block under the README's "## Quick start"."""
  with open(README, encoding="utf-8") as f:
    text = f.read()
  section = text.split("\n## Quick start\n", 1)
  assert len(section) == 2, "README.md has no '## Quick start' section"
  body = section[1].split("\n## ", 1)[0]
  match = re.search(r"^```python\n(.*?)^```", body, re.M | re.S)
  assert match, "the quick start has no ```python block"
  return match.group(1)


@pytest.mark.slow
def test_readme_quick_start_runs(capsys):
  code = quick_start_code()
  for old, new in QUICK_START_SMALLER:
    assert code.count(old) == 1, f"quick start: expected one {old!r}"
    code = code.replace(old, new)
  scope = {}
  exec(compile(code, "README.md quick start", "exec"), scope)  # noqa: S102
  threes, again = scope["threes"].numpy(), scope["again"].numpy()
  grid, fresh = scope["grid"].numpy(), scope["fresh"].numpy()
  assert threes.shape == (8, 8, 8, 1)
  assert grid.shape == (4, 3, 8, 8, 1)
  for images in (threes, grid, fresh):
    assert np.all(images == np.round(images))
    assert images.min() >= 0 and images.max() <= 16
  np.testing.assert_array_equal(threes, again)  # a seed reproduces
  assert not np.array_equal(threes, fresh)  # seed=None: new images
  log_prob = np.asarray(scope["dist"].log_prob(threes, conditional_input=3.0))
  assert log_prob.shape == (8,) and np.all(np.isfinite(log_prob))
  assert "shape=(8,)" in capsys.readouterr().out  # its last line ran
