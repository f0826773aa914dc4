"""Peak activation memory for inference: which tensors are alive at each step of the layer graph.

The convention, stated once: layers run one after another in the spec's (topological) order; a
layer's output is allocated when it runs and freed after the last layer that reads it (the network's
input is alive from the start, its output to the end); while a layer runs, its inputs and its output
are all alive, so a branch input is held until its merge and a shortcut until its add. Views
(flatten, dropout, identity) and fused layers allocate nothing: they are their input's tensor. No
layer is computed in place (a framework that runs ReLU in place needs less, never more).
"""

from __future__ import annotations

from typing import NamedTuple


class Peak(NamedTuple):
    elements: int  # activation elements alive at once, at the peak (batch included)
    step: int  # the index of the layer running at the peak (-1: the input alone)
    layer: str  # its name
    alive: int  # how many tensors are alive then


def peak(result) -> Peak:
    """The peak of a one-configuration result (per_layer): elements, where, and how many tensors."""
    spec = result.spec
    layers = spec.layers
    n = len(layers)
    h, w = int(result.resolution.reshape(-1)[0]), int(result.width.reshape(-1)[0])
    batch = getattr(result, "batch", 1)
    owner = [0] * n  # the tensor each layer's output is: its own index, or its input's (a view)
    size = {-1: spec.input_channels * h * w * batch}
    birth = {-1: -1}
    last = {-1: -1}
    for i, (layer, lr) in enumerate(zip(layers, result.layers)):
        if not lr.values["activations"]:  # a view or a fused layer: the engine counts no output of its own
            owner[i] = _tensor(owner, layer.inputs[0])
        else:
            owner[i] = i
            size[i] = int(lr.c) * int(lr.h) * int(lr.w) * batch
            birth[i] = i
            last[i] = i
        for j in layer.inputs:
            t = _tensor(owner, j)
            last[t] = max(last[t], i)
    last[_tensor(owner, n - 1)] = n  # the network's output stays
    delta = [0] * (n + 3)  # alive elements change at each step: +size at birth, -size after last use
    count = [0] * (n + 3)
    for t, s in size.items():
        delta[birth[t] + 1] += s
        delta[last[t] + 2] -= s
        count[birth[t] + 1] += 1
        count[last[t] + 2] -= 1
    best = Peak(0, -1, "input", 0)
    alive = tensors = 0
    for k in range(n + 1):  # position k = step k - 1 (k = 0: before the first layer)
        alive += delta[k]
        tensors += count[k]
        if alive > best.elements:
            step = k - 1
            best = Peak(alive, step, layers[step].name if step >= 0 else "input", tensors)
    return best


def _tensor(owner: list, index: int) -> int:
    return -1 if index < 0 else owner[index]
