"""`costcalc report model.onnx` against the YAML path and against the import floor.

Makes its models with `costcalc export` (the onnx extra) in a temporary folder: MobileNet v2
(14 MB) and ResNet-50 with random weights (100 MB), then times whole processes, interleaved,
medians: the YAML `report mobilenet_v2`, the same network as ONNX, the 100 MB model, and the floor
(`python -c "import numpy, yaml, click"`). Reading ONNX imports no onnx package.

    python benchmarks/onnx_read.py [--runs 20]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import costcalc_cmd, medians, start  # noqa: E402


def main() -> None:
    runs = start(20)
    cli = costcalc_cmd()
    with tempfile.TemporaryDirectory() as tmp:
        mv2, r50 = os.path.join(tmp, "mobilenet_v2.onnx"), os.path.join(tmp, "resnet50.onnx")
        for spec, path in (("mobilenet_v2", mv2), ("resnet50", r50)):
            subprocess.run(cli + ["export", spec, "-o", path], check=True)
        floor = [sys.executable, "-c", "import numpy, yaml, click"]
        commands = {
            "floor: python -c 'import numpy, yaml, click'": floor,
            "costcalc report mobilenet_v2 (YAML)": cli + ["report", "mobilenet_v2"],
            f"costcalc report mobilenet_v2.onnx ({os.path.getsize(mv2) / 1e6:.0f} MB)": cli + ["report", mv2],
            f"costcalc report resnet50.onnx ({os.path.getsize(r50) / 1e6:.0f} MB)": cli + ["report", r50],
        }
        results = medians(commands, runs)
    print(f"{runs} interleaved runs, medians")
    floor_t = results["floor: python -c 'import numpy, yaml, click'"][0]
    yaml_t = results["costcalc report mobilenet_v2 (YAML)"][0]
    for name, (t, rss) in results.items():
        print(f"  {name:48s} {t * 1000:7.1f} ms  {t / floor_t:5.2f}x floor  {t / yaml_t:5.2f}x YAML  peak {rss:5.0f} MiB")


if __name__ == "__main__":
    main()
