"""Ops per generated pixel: what the generator dispatches, in graph and XLA.

Both counts walk the program's loop structure: the row loop's body runs
H times, the pixel loop's body H*W times, and a `tf.cond` that enters a
deeper level runs on half of its parent's rows (row body) or a quarter of
its parent's pixels (pixel body). The result is divided by H*W.

The XLA count also reads the Jacobi program (`xla_jacobi`), whose inner
loop runs passes over whole rows: its body runs a measured number of times
per row (`inner_trips`) rather than W, and a `tf.cond` in it enters a
deeper level on half of its parent's rows (`row_parallel`).

* Graph: non-trivial TF ops (not Identity, Const, NoOp) in the function
  bodies of the traced graph.
* XLA: kernels in the optimised HLO: fusions, dots, convolutions and
  custom calls ("launches", what a GPU pays for), and separately every
  instruction that does work (also unfused copies, slices, updates).
"""

import re

_TRIVIAL_TF = {"Identity", "IdentityN", "Const", "NoOp"}
_WHILE_TF = {"While", "StatelessWhile"}
_IF_TF = {"If", "StatelessIf"}
_LAUNCH_HLO = {"fusion", "dot", "convolution", "custom-call"}
_FREE_HLO = {
    "parameter",
    "constant",
    "get-tuple-element",
    "tuple",
    "bitcast",
    "while",
    "conditional",
    "call",
    "async-start",
    "async-done",
    "after-all",
    "opt-barrier",
}


_CALLEE = r"(to_apply|calls)=%?([\w.\-]+)"


def _branch_share(in_pixel_loop):
  return 0.25 if in_pixel_loop else 0.5


def graph_ops_per_pixel(concrete_fn, height, width):
  """Non-trivial graph ops per generated pixel of a traced generator."""
  library = {
      f.signature.name: f
      for f in concrete_fn.graph.as_graph_def().library.function
  }

  def count(nodes, loops):
    total = 0.0
    for node in nodes:
      if node.op in _WHILE_TF:
        trip = height if loops == 0 else width
        body = library[node.attr["body"].func.name].node_def
        total += trip * count(body, loops + 1)
      elif node.op in _IF_TF:
        p = _branch_share(loops == 2)
        then = library[node.attr["then_branch"].func.name].node_def
        other = library[node.attr["else_branch"].func.name].node_def
        total += 1 + p * count(then, loops) + (1 - p) * count(other, loops)
      elif node.op not in _TRIVIAL_TF and loops > 0:
        total += 1
    return total

  top = concrete_fn.graph.as_graph_def().node
  # The loops may sit inside a nested function call (the compiled core).
  calls = [
      n for n in top if n.op in ("PartitionedCall", "StatefulPartitionedCall")
  ]
  nodes = list(top)
  for call in calls:
    nodes += library[call.attr["f"].func.name].node_def
  return count(nodes, 0) / (height * width)


def _parse_hlo(text):
  """{computation: [(opcode, attrs)]} and the entry computation's name."""
  comps, entry, current = {}, None, None
  header = re.compile(r"^(ENTRY )?%?([\w.\-]+) .*\{\s*$")
  for line in text.splitlines():
    m = header.match(line)
    if m:
      current = m.group(2)
      comps[current] = []
      if m.group(1):
        entry = current
      continue
    if current is None or " = " not in line:
      continue
    rhs = line.split(" = ", 1)[1].strip()
    rest = _strip_type(rhs)
    op = re.match(r"([\w\-]+)\(", rest)
    if op:
      comps[current].append((op.group(1), rest))
  return comps, entry


def _strip_type(rhs):
  """`f32[8]{0} add(...)` or `(f32[..], ..) while(...)` -> `add(...)`."""
  if rhs.startswith("("):
    depth = 0
    for i, ch in enumerate(rhs):
      depth += ch == "("
      depth -= ch == ")"
      if depth == 0:
        return rhs[i + 1 :].strip()
  return rhs.split(" ", 1)[1] if " " in rhs else rhs


def xla_ops_per_pixel(
    hlo_text, height, width, inner_trips=None, row_parallel=False
):
  """(launches, working instructions) per generated pixel, from HLO.

  Args:
    hlo_text: the optimised HLO of a generator's compiled core.
    height, width: the image's.
    inner_trips: how often a while inside the row loop runs its body per
      row: W (default) for the pixel loop; for the Jacobi program, the mean
      passes per row. A float is fine, and the counts are linear in it: 0
      leaves the row loop's own kernels.
    row_parallel: the inner loop works on whole rows (the Jacobi program),
      so a conditional in it enters a deeper level on half of its parent's
      rows, as in the row loop, rather than on a quarter of its pixels.

  Returns:
    `(launches, working instructions)`, each summed over the image and
    divided by `height * width`.
  """
  comps, entry = _parse_hlo(hlo_text)
  inner = width if inner_trips is None else inner_trips

  def share(loops):
    return _branch_share(loops == 2 and not row_parallel)

  def count(name, loops):
    launches = work = 0.0
    for op, attrs in comps[name]:
      if op == "while":
        body = re.search(r"body=%?([\w.\-]+)", attrs).group(1)
        trip = height if loops == 0 else inner
        sub = count(body, loops + 1)
        launches += trip * sub[0]
        work += trip * sub[1]
      elif op == "conditional":
        true = re.search(r"true_computation=%?([\w.\-]+)", attrs)
        false = re.search(r"false_computation=%?([\w.\-]+)", attrs)
        if true and false:
          branches = [
              (true.group(1), share(loops)),
              (false.group(1), 1 - share(loops)),
          ]
        else:  # branch_computations={%a, %b}: index 1 is the deeper level
          names = re.findall(
              r"%([\w.\-]+)",
              re.search(r"branch_computations=\{([^}]*)\}", attrs).group(1),
          )
          p = share(loops)
          branches = [(names[0], 1 - p)] + [(n, p) for n in names[1:]]
        for branch, p in branches:
          sub = count(branch, loops)
          launches += p * sub[0]
          work += p * sub[1]
      elif op in ("call", "async-start") and re.search(_CALLEE, attrs):
        # GPU programs outline kernels into calls (command buffers, async
        # wrappers): they run where the call is.
        sub = count(re.search(_CALLEE, attrs).group(2), loops)
        launches += sub[0]
        work += sub[1]
      elif loops > 0:
        launches += op in _LAUNCH_HLO
        work += op not in _FREE_HLO
    return launches, work

  launches, work = count(entry, 0)
  return launches / (height * width), work / (height * width)
