"""Export torchvision models to ONNX (graph only: weights as external data, then dropped) and
record torchvision's own counts: params = sum(p.numel()), conv+linear MACs by forward hooks."""
import json, os, sys, warnings, torch, torchvision, onnx
warnings.filterwarnings("ignore")
from torchvision import models as M
OUT = "/tmp/tvx/fx"
CASES = {
    "resnet18": (lambda: M.resnet18(), 224),
    "resnet50": (lambda: M.resnet50(), 224),
    "mobilenet_v2": (lambda: M.mobilenet_v2(), 224),
    "mobilenet_v3_large": (lambda: M.mobilenet_v3_large(), 224),
    "mobilenet_v3_small": (lambda: M.mobilenet_v3_small(), 224),
    "shufflenet_v2_x1_0": (lambda: M.shufflenet_v2_x1_0(), 224),
    "squeezenet1_0": (lambda: M.squeezenet1_0(), 224),
    "squeezenet1_1": (lambda: M.squeezenet1_1(), 224),
    "googlenet": (lambda: M.googlenet(aux_logits=False, init_weights=False), 224),
    "efficientnet_b0": (lambda: M.efficientnet_b0(), 224),
    "mnasnet1_0": (lambda: M.mnasnet1_0(), 224),
    "densenet121": (lambda: M.densenet121(), 224),
    "inception_v3": (lambda: M.inception_v3(aux_logits=False, init_weights=False), 299),
    "alexnet": (lambda: M.alexnet(), 224),
    "vgg16": (lambda: M.vgg16(), 224),
    "resnext50_32x4d": (lambda: M.resnext50_32x4d(), 224),
}
def macs(model, x):
    total = [0]
    def conv(m, i, o): total[0] += o.numel() // o.shape[0] * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    def lin(m, i, o): total[0] += m.in_features * m.out_features
    hs = [mm.register_forward_hook(conv) for mm in model.modules() if isinstance(mm, torch.nn.Conv2d)]
    hs += [mm.register_forward_hook(lin) for mm in model.modules() if isinstance(mm, torch.nn.Linear)]
    with torch.no_grad(): model(x)
    for h in hs: h.remove()
    return total[0]
def strip(src, dst):
    m = onnx.load(src)
    onnx.save_model(m, dst, save_as_external_data=True, all_tensors_to_one_file=True, location=os.path.basename(dst) + ".data", size_threshold=256)
    os.remove(dst + ".data")
    os.remove(src)
def file_params(path):
    """Per node, as a framework counts a module's parameters: Conv/Gemm weight and bias,
    BatchNormalization scale and shift; an initializer shared by two nodes counts for each."""
    m = onnx.load(path, load_external_data=False)
    inits = {t.name: t for t in m.graph.initializer}
    alias = {}
    for node in m.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits: alias[node.output[0]] = node.input[0]
    n = 0
    for node in m.graph.node:
        if node.op_type in ("Conv", "Gemm", "BatchNormalization", "MatMul"):
            for name in node.input[1:3]:
                name = alias.get(name, name)
                if name in inits:
                    k = 1
                    for d in inits[name].dims: k *= d
                    n += k
    return n
res = {}
for name in (sys.argv[1:] or CASES):
    make, px = CASES[name]
    torch.manual_seed(0)
    model = make().eval()
    x = torch.randn(1, 3, px, px)
    rec = {"params": sum(p.numel() for p in model.parameters()), "macs": macs(model, x), "px": px}
    ts = f"{OUT}/{name}.ts.onnx"
    torch.onnx.export(model, (x,), ts + ".full", dynamo=False, do_constant_folding=False)
    strip(ts + ".full", ts)
    dy = f"{OUT}/{name}.dynamo.onnx"
    try:
        torch.onnx.export(model, (x,), dy + ".full", dynamo=True, verbose=False)
        strip(dy + ".full", dy)
        rec["dynamo_file_params"] = file_params(dy)
    except Exception as e:
        rec["dynamo_error"] = str(e)[:200]
    rec["ts_file_params"] = file_params(ts)
    res[name] = rec
    print(name, rec, os.path.getsize(ts), os.path.getsize(dy) if os.path.exists(dy) else None, flush=True)
json.dump(res, open(f"{OUT}/counts.json", "w"), indent=1)
print("torch", torch.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__)

# -- then, as run for the files here: keep only the name scopes of the nodes (the stack traces make
# -- the files 3x larger), and count each file's own parameters per node (the "file params")
# import onnx, glob, os
# for f in sorted(glob.glob("/tmp/tvx/fx/*.onnx")):
#     m = onnx.load(f, load_external_data=False)
#     for n in m.graph.node:
#         keep = [p for p in n.metadata_props if p.key == "pkg.torch.onnx.name_scopes"]
#         del n.metadata_props[:]
#         n.metadata_props.extend(keep)
#         n.doc_string = ""
#     del m.metadata_props[:]
#     for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
#         del v.metadata_props[:]
#     for t in m.graph.initializer:
#         del t.metadata_props[:]
#     b = os.path.getsize(f)
#     onnx.save(m, f)
#     print(os.path.basename(f), b, os.path.getsize(f))
