"""Validation of the roofline: predicted against measured latency over the bundled networks.

Calibrates a profile on this machine (`costcalc calibrate`, or --profile FILE), then for 12 bundled
networks at two to four widths each (the published ones, and alpha 0.5 where a paper has one width) times each in ONNX Runtime (median of --runs, the networks interleaved
over --rounds rounds, the median round kept: this machine's speed drifts) and predicts it with the
profile. Reports Kendall's tau between predicted and measured latency and the share of networks
predicted within +-20%, beside the same figures for "latency proportional to MACs" (one seconds-per-MAC
constant fitted to the same measurements: the median ratio), the baseline the roofline must beat.

    python benchmarks/latency.py [--runs 10] [--rounds 3] [--threads N] [--profile local.yaml]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

CASES = [
    ("mobilenet", 1.0), ("mobilenet", 0.75), ("mobilenet", 0.5), ("mobilenet", 0.25),
    ("mobilenet_v2", 1.4), ("mobilenet_v2", 1.0), ("mobilenet_v2", 0.75), ("mobilenet_v2", 0.5),
    ("shufflenet_v2:0.5x", 1.0), ("shufflenet_v2:1.0x", 1.0), ("shufflenet_v2:1.5x", 1.0), ("shufflenet_v2:2.0x", 1.0),
] + [(ref, a) for ref in ("shufflenet", "squeezenet:1.0", "squeezenet:1.1", "squeezenext:1.0-SqNxt-23", "googlenet",
                          "resnet50", "xception", "alexnet", "vgg16", "lenet5") for a in (1.0, 0.5)]


def main() -> None:
    import numpy as np

    from costcalc import evaluate, load_spec
    from costcalc.latency import kendall_tau, load_profile, macs_baseline, predict
    from costcalc.measure import bench, calibrate, runtime_version

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--profile", default=None)
    args = ap.parse_args()
    print(machine())
    t0 = time.perf_counter()
    if args.profile:
        profile = load_profile(args.profile)
    else:
        import tempfile

        import yaml

        doc = calibrate(args.threads)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            yaml.safe_dump(doc, fh, sort_keys=False)
        profile = load_profile(fh.name)
        os.unlink(fh.name)
        print(f"calibrated in {time.perf_counter() - t0:.0f} s: " + ", ".join(
            f"{k} {v / 1e9:.1f}" for k, v in profile.macs_per_s.items()) + f" G MAC/s; {profile.bandwidth / 1e9:.0f} GB/s, "
            f"data {profile.data_bandwidth / 1e9:.0f} GB/s; {profile.overhead * 1e6:.2f} us per layer")
    specs = [(ref, a, load_spec(ref)) for ref, a in CASES]
    measured = {k: [] for k in range(len(specs))}
    for _ in range(args.rounds):
        for k, (ref, a, spec) in enumerate(specs):
            measured[k].append(bench(spec, a, runs=args.runs, warmup=3, threads=args.threads).median)
    rows = []
    for k, (ref, a, spec) in enumerate(specs):
        res = evaluate(spec, a)
        rows.append((ref, a, res.total("macs"), predict(res, profile).total, statistics.median(measured[k])))
    macs = np.array([r[2] for r in rows], dtype=float)
    pred = np.array([r[3] for r in rows])
    meas = np.array([r[4] for r in rows])
    base = macs_baseline(macs, meas) * macs
    print(f"ONNX Runtime {runtime_version()}, {args.rounds} rounds x {args.runs} runs; "
          f"{len(rows)} configurations of {len({r[0].split(':')[0] for r in rows})} networks")
    print(f"  {'network':28s} {'alpha':>5s} {'MACs':>9s} {'measured':>10s} {'roofline':>10s} {'MACs-prop.':>10s}")
    for (ref, a, m, p, t), b in zip(rows, base):
        print(f"  {ref:28s} {a:5g} {m / 1e6:8.1f}M {t * 1e3:8.2f}ms {p * 1e3:8.2f}ms {b * 1e3:8.2f}ms")
    for name, pr in (("roofline (calibrated)", pred), ("latency proportional to MACs", base)):
        within = np.mean(np.abs(pr / meas - 1) <= 0.2)
        print(f"  {name:30s} Kendall tau {kendall_tau(pr, meas):.3f}, within +-20%: {within * 100:.0f}% "
              f"({int(round(within * len(rows)))} of {len(rows)})")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
