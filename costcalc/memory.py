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
    # tensors are numbered by the layer that allocates them, shifted by one (0: the network's input)
    owner = [0] * (n + 1)  # owner[i + 1]: the tensor layer i's output is (its own, or its input's: a view)
    size = [0] * (n + 1)
    last = list(range(n + 1))  # the step after which each tensor is freed (index + 1 = position)
    size[0] = spec.input_channels * h * w * batch
    last[0] = 0
    for i, (layer, lr) in enumerate(zip(layers, result.layers), 1):
        inputs = layer.inputs
        if not lr.values["activations"]:  # a view or a fused layer: the engine counts no output of its own
            owner[i] = owner[inputs[0] + 1]
        else:
            owner[i] = i
            size[i] = int(lr.c) * int(lr.h) * int(lr.w) * batch
        for j in inputs:
            t = owner[j + 1]
            if last[t] < i:
                last[t] = i
    last[owner[n]] = n + 1  # the network's output stays
    # alive elements change at each position k (k = step + 1): +size at birth, -size after the last use
    delta = [0] * (n + 3)
    count = [0] * (n + 3)
    for t in range(n + 1):
        s = size[t]
        if t and owner[t] != t:
            continue  # a view: not a tensor of its own
        delta[t] += s
        delta[last[t] + 1] -= s
        count[t] += 1
        count[last[t] + 1] -= 1
    best_elements, best_k, best_tensors = 0, 0, 0
    alive = tensors = 0
    for k in range(n + 1):
        alive += delta[k]
        tensors += count[k]
        if alive > best_elements:
            best_elements, best_k, best_tensors = alive, k, tensors
    if not best_elements:
        return Peak(0, -1, "input", 0)
    step = best_k - 1
    return Peak(best_elements, step, layers[step].name if step >= 0 else "input", best_tensors)

