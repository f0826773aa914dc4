"""The typed intermediate representation: what a validated spec is (immutable records).

A spec is expanded by :mod:`costcalc.spec` into a flat, topologically ordered
list of primitive :class:`Layer` nodes.  Each node names the nodes it reads
(``inputs``; ``-1`` is the network input), so branches, concatenations and
shortcuts are plain edges.  Nothing here imports numpy or yaml.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

# ---------------------------------------------------------------------------
# The layer vocabulary.  Each type lists the keys it accepts with a field kind
# and a default (REQUIRED when the key must be given).  Field kinds are checked
# by the loader; the cost of each type is a rule in costcalc.rules.
# ---------------------------------------------------------------------------

REQUIRED = object()
_EMPTY: Mapping = MappingProxyType({})  # the default of a mapping field: shared, and read-only

#: keys every layer item may carry besides its type-specific ones
COMMON_KEYS = ("name", "type", "repeat", "scale", "fused", "comment", "from", "pytorch")
#: how a PyTorch implementation spells a layer (`pytorch:`): a module (nn.ReLU), a function (F.relu)
#: or a tensor method (x.mean([2, 3])); it changes no count, only what the peer tools see (costcalc.peers)
SPELLINGS = ("module", "functional", "method")
#: the keys of an item that uses a block instead of naming a layer type
INSTANCE_KEYS = ("block", "name", "args", "repeat", "comment", "from")

_CONV_GEOMETRY = {
    "kernel": ("pair+", REQUIRED),
    "stride": ("pair+", 1),
    "padding": ("padding", 0),
    "dilation": ("pair+", 1),
    "bias": ("bool", None),  # None: take the spec's `defaults.bias`
}
_POOL = {
    "kernel": ("pair+", None),
    "stride": ("pair+", None),  # None: the kernel size
    "padding": ("padding", 0),
    "ceil": ("bool", False),
    "global": ("bool", False),
    "output": ("pair+", None),  # adaptive pooling to this size (PyTorch's AdaptiveAvgPool2d((7, 7)))
}

LAYER_TYPES: dict[str, dict[str, tuple[str, Any]]] = {
    # conv: `out` channels, or `expand`: out = in x expand (follows the input's scaled width)
    "conv": {"out": ("channels", None), "expand": ("int+", None), "groups": ("int+", 1), **_CONV_GEOMETRY},
    "dwconv": {"multiplier": ("int+", 1), **_CONV_GEOMETRY},
    "linear": {"out": ("channels", REQUIRED), "bias": ("bool", None)},
    "maxpool": dict(_POOL),
    "avgpool": dict(_POOL),
    # gamma: false, a BatchNorm without a learned scale (Keras and TensorFlow BatchNormalization(scale=False))
    "bn": {"gamma": ("bool", True)},
    "scale": {"bias": ("bool", False)},
    # arithmetic with a constant that is not learned (an input's rescaling or normalization):
    # `op` is mul, add, sub or div
    "eltwise": {"op": ("str", REQUIRED)},  # one learned factor per channel (+ a shift): a folded BatchNorm's scale
    "relu": {},
    "relu6": {},
    "sigmoid": {},
    "tanh": {},
    "swish": {},
    "hswish": {},
    "hsigmoid": {},
    "softmax": {},
    "lrn": {"size": ("int+", 5)},
    "dropout": {"rate": ("fraction", 0.5)},
    "flatten": {},
    "identity": {},
    "add": {},
    "mul": {},  # gating: element-wise product, broadcasting 1-wide axes (squeeze-excitation, spatial gates)
    "concat": {},
    "split": {"sections": ("int+", 2), "index": ("int0", 0)},
    "shuffle": {"groups": ("int+", REQUIRED)},
    # an imported operator with no cost rule, kept with --allow-unknown: its output shape as the file
    # gives it (at the input shape `at`), and no counts; reports say it is not in the totals
    "uncosted": {"op": ("str", REQUIRED), "shape": ("shape", REQUIRED), "at": ("shape", REQUIRED)},
}

#: types that merge several inputs; only these take `branches`
MERGE_TYPES = ("add", "mul", "concat")
#: element-wise activation functions (one op per output element)
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "swish", "hswish", "hsigmoid", "softmax")


class Layer(NamedTuple):
    """One primitive layer after expansion (an immutable record; a tuple, so that a spec of
    100,000 layers builds quickly)."""

    name: str  # hierarchical: "fire3/expand3x3", "conv7.2/dw"
    type: str
    inputs: tuple[int, ...]  # indices of producing layers; -1 = network input
    attrs: Mapping[str, Any]  # validated type-specific keys, defaults filled in
    where: str = ""  # place in the spec file, for error messages
    line: int | None = None
    scale: str = "yes"  # width multiplier policy for `out`: yes | no | up
    fused: bool = False  # fused into a neighbour: no memory traffic of its own
    deferred: tuple = ()  # keys whose value is a Deferred expression (names the configuration)
    pytorch: str = "module"  # how a PyTorch implementation spells it (SPELLINGS)


class Deferred(NamedTuple):
    """A layer key's expression that names the configuration (the input's scaled channels, height,
    width, alpha, the resolution): checked when the engine evaluates it, per configuration."""

    text: str  # "$ make_divisible(in_channels // 4, 8)"
    scope: Any  # the parameters and block arguments it also sees
    kind: str  # the key's field kind (channels, pair+, padding, ...)
    key: str
    axes: frozenset  # what it varies with: "a" (alpha), "r" (the resolution)
    block_input: int = -1  # the node entering the innermost block instance around it (block_in_channels)

    def __repr__(self) -> str:  # shown as written (reports, dumps)
        return self.text


class Reference(NamedTuple):
    """A published number and where it comes from."""

    quantity: str  # params | weights | bn_params | macs | flops | mem_access | activations | size_mb | size_mib
    value: float  # in base units (already multiplied by `unit`)
    tolerance: float  # absolute, base units
    source: str
    config: Mapping[str, Any] = _EMPTY  # alpha, resolution, variant, set
    layer: str | None = None  # layer or block names, comma-separated: the sum over them
    convention: str = ""
    note: str = ""
    expect: str = "match"  # match | deviates (an inconsistency of the source, proved in the note) | unexplained (no proof yet)
    unit: str = ""  # the unit it was published in: "", K, M or G
    options: Mapping[str, Any] = _EMPTY  # for derived (analysis) quantities
    where: str = ""
    printed: str = "rounded"  # rounded (within +-tolerance) | truncated (value <= count < value + tolerance)

    def within(self, computed: float) -> bool:
        """Whether a count prints as this figure: within the tolerance of a rounded figure, or in
        [value, value + tolerance) of a truncated one (a little slack for the float units)."""
        delta = computed - self.value
        slack = 1e-9 + 1e-12 * abs(self.value)
        if self.printed == "truncated":
            return -slack <= delta < self.tolerance - slack
        return abs(delta) <= self.tolerance * (1 + 1e-12) + 1e-9


class Accuracy(NamedTuple):
    top1: float  # percent
    source: str
    config: Mapping[str, Any] = _EMPTY


class WidthPolicy(NamedTuple):
    """How the width multiplier alpha turns a base channel count into channels."""

    rounding: str = "truncate"  # truncate: int(c*alpha) | make_divisible | round | fixed (alpha must be 1)
    divisor: int = 8
    min_channels: int = 1
    use: str = ""  # with fixed widths: what to use instead of --alpha (ShuffleNet v1: --set scale=S)
    multiplier: float = 1.0  # the network's own width at alpha 1 (EfficientNet-B3: 1.2): channels = base x (alpha x multiplier)


class Spec(NamedTuple):
    """A validated, expanded architecture in one variant and parameter setting."""

    name: str
    title: str
    description: str
    source: str  # the file it came from, as shown in messages
    input_channels: int
    input_size: tuple[int, int]  # base resolution (h, w)
    layers: tuple[Layer, ...]
    width: WidthPolicy = WidthPolicy()
    variant: str | None = None
    variants: Mapping[str, str] = _EMPTY  # name -> description
    settings: Mapping[str, Any] = _EMPTY  # spec parameters in force
    parameters: Mapping[str, Any] = _EMPTY  # declared defaults
    references: tuple[Reference, ...] = ()
    accuracy: tuple[Accuracy, ...] = ()
    paper: str = ""
    notes: tuple[str, ...] = ()
    analyses: Mapping[str, Any] = _EMPTY  # raw `analyses:` section, read by costcalc.analysis
    budget: Any = None  # the checked `budget:` section (a mapping or a list of them), read by costcalc.budget
    implementations: Mapping[str, str] = _EMPTY  # name -> what it is (besides "paper"): --set impl=NAME
    deferred: bool = False  # some layer key names the configuration (Deferred): resolved by the engine
    split: frozenset = frozenset()  # axes the engine evaluates one value at a time ("a", "r"): a key
    # other than `out` that varies with alpha, or any key that varies with the resolution

    @property
    def label(self) -> str:
        return f"{self.name}:{self.variant}" if self.variant else self.name

    @property
    def changed(self) -> dict:
        """The parameters set to other than the spec's (or its variant's) own values: what --set changed
        (width=1 for a declared 1.0 is no change; a switch or a number is of its declared kind)."""
        own = self.parameters
        return {k: v for k, v in self.settings.items() if k not in own or own[k] != v}
