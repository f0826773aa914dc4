"""Keras Applications exported to ONNX by Keras 3's Model.export(format="onnx"): with the torch backend
(torch.onnx) or the tensorflow backend (tf2onnx); KERAS_BACKEND chooses,
weights dropped, with Keras' own counts: trainable params, all params (count_params, with BatchNorm's
moving statistics), and conv + dense MACs from each layer's static output shape."""
import json, os, sys, warnings
os.environ.setdefault("KERAS_BACKEND", "torch")
TAG = {"torch": "keras-torch", "tensorflow": "keras-tf"}[os.environ["KERAS_BACKEND"]]
warnings.filterwarnings("ignore")
import numpy as np, keras, onnx
from keras import applications as A
OUT = "/tmp/tvx/kfx"
CASES = {
    "MobileNet": (lambda: A.MobileNet(weights=None), 224),
    "MobileNetV2": (lambda: A.MobileNetV2(weights=None), 224),
    "ResNet50": (lambda: A.ResNet50(weights=None), 224),
    "DenseNet121": (lambda: A.DenseNet121(weights=None), 224),
    "EfficientNetB0": (lambda: A.EfficientNetB0(weights=None), 224),
    "InceptionV3": (lambda: A.InceptionV3(weights=None), 299),
    "Xception": (lambda: A.Xception(weights=None), 299),
    "VGG16": (lambda: A.VGG16(weights=None), 224),
    "NASNetMobile": (lambda: A.NASNetMobile(weights=None), 224),
}
def macs(model):
    n = 0
    for l in model.layers:
        if isinstance(l, keras.layers.SeparableConv2D):
            o = l.output.shape; kh, kw = l.kernel_size; cin = l.input.shape[-1]; mult = l.depth_multiplier
            n += o[1] * o[2] * cin * mult * kh * kw + o[1] * o[2] * o[3] * cin * mult
        elif isinstance(l, keras.layers.DepthwiseConv2D):
            o = l.output.shape; kh, kw = l.kernel_size
            n += o[1] * o[2] * o[3] * kh * kw
        elif isinstance(l, keras.layers.Conv2D):
            o = l.output.shape; kh, kw = l.kernel_size; cin = l.input.shape[-1]
            n += o[1] * o[2] * o[3] * (cin // l.groups) * kh * kw
        elif isinstance(l, keras.layers.Dense):
            n += l.input.shape[-1] * l.units
    return int(n)
def strip(src, dst):
    m = onnx.load(src)
    for n in m.graph.node:
        del n.metadata_props[:]; n.doc_string = ""
    onnx.save_model(m, dst, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=os.path.basename(dst) + ".data", size_threshold=256)
    os.remove(dst + ".data"); os.remove(src)
res = {}
for name in (sys.argv[1:] or CASES):
    make, px = CASES[name]
    keras.utils.set_random_seed(0)
    model = make()
    model(np.zeros((1, px, px, 3), "float32"))
    rec = {"px": px, "trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
           "count_params": int(model.count_params()), "macs": macs(model),
           # BatchNorm without a learned scale (scale=False, as InceptionV3 has): channels whose factor is a constant
           "bn_unscaled": int(sum(l.input.shape[-1] for l in model.layers
                                  if isinstance(l, keras.layers.BatchNormalization) and not l.scale))}
    path = f"{OUT}/{name}.{TAG}.onnx"
    try:
        model.export(path + ".full", format="onnx", verbose=False)
        strip(path + ".full", path)
        rec["size"] = os.path.getsize(path)
    except Exception as e:
        rec["error"] = str(e)[:200]
    res[name] = rec
    print(name, rec, flush=True)
json.dump(res, open(f"{OUT}/counts.{TAG}.json", "w"), indent=1)
print("keras", keras.__version__, os.environ["KERAS_BACKEND"], __import__(os.environ["KERAS_BACKEND"]).__version__)


# -- the oracle of the tf2onnx files' file params (run with the onnx package):
# """File params of a tf2onnx export (BatchNorm folded into the convs by tf2onnx): per node, the
# elements of the float initializers a Conv, Gemm, MatMul or BatchNormalization reads (weights and
# biases, BatchNorm scale and shift only), and of those an Add or Mul of a layer's output reads (biases,
# a folded BatchNorm's factor); arithmetic on the input itself (preprocessing) has no parameters."""
# import json, glob, os, onnx, numpy as np
# def file_params(path):
#     m = onnx.load(path, load_external_data=False)
#     inits = {t.name: t for t in m.graph.initializer}
#     size = lambda t: int(np.prod(t.dims)) if len(t.dims) else 1
#     pre = {i.name for i in m.graph.input}
#     n = 0
#     for node in m.graph.node:
#         ins = [i for i in node.input if i and i not in inits]
#         if ins and all(i in pre for i in ins) and node.op_type in ("Cast", "Mul", "Add", "Sub", "Div", "Transpose"):
#             pre.update(node.output)
#             continue
#         if node.op_type in ("Conv", "Gemm", "MatMul"):
#             n += sum(size(inits[i]) for i in node.input[1:3] if i in inits)
#         elif node.op_type == "BatchNormalization":
#             n += sum(size(inits[i]) for i in node.input[1:3] if i in inits)
#         elif node.op_type in ("Add", "Mul"):
#             n += sum(size(inits[i]) for i in node.input if i in inits and inits[i].data_type == 1 and size(inits[i]) > 1)
#     return n
# c = json.load(open("/tmp/tvx/kfx/counts.keras-tf.json"))
# for name in c:
