#!/usr/bin/env python3
"""Regenerates the vendored face models (ONNX) from the MediaPipe wheel, offline.

    pip install mediapipe==0.10.14 tflite2onnx==0.4.1
    python3 crates/imaging/model/regenerate.py

Takes BlazeFace short range and the 468-point face mesh out of the installed wheel, converts them
with tflite2onnx and writes them beside this script, then prints their sha256 (compare with
model/README.md). Nothing is downloaded here.

tflite2onnx 0.4.1 fails on the face mesh: its PRELU alphas are 3-D ([1, 1, C], fed by fp16
DEQUANTIZE ops) and the NHWC→NCHW layout pass indexes four axes. The patch below pads such
tensors to 4-D with leading ones (same data, same broadcast), which is all that is needed.
"""

import hashlib
import os
import sys

import mediapipe
import onnx
import tflite2onnx
from tflite2onnx.tensor import Tensor

MODELS = {
    "face_detection_short_range.onnx": "modules/face_detection/face_detection_short_range.tflite",
    "face_landmark.onnx": "modules/face_landmark/face_landmark.tflite",
}

_original_transform = Tensor.transform


def _transform_padded(self):
    # A PRELU alpha reaches the layout pass as [1, 1, C] (through the fp16 DEQUANTIZE that
    # feeds it, which tflite2onnx's own padding in Activation.parse does not reach) while its
    # layout permutes four axes. Leading ones change neither the data nor the broadcast.
    if self.layout is not None and len(self.shape) < len(self.layout.perm):
        self.shape = [1] * (len(self.layout.perm) - len(self.shape)) + list(self.shape)
    _original_transform(self)


Tensor.transform = _transform_padded


def canonical_order(path):
    """tflite2onnx collects tensors in sets of Python objects, so the order of the
    initializers and value infos (not the model) changes from run to run; sorted by name, the
    file's bytes and so its sha256 are reproducible."""
    model = onnx.load(path)
    for field in (model.graph.initializer, model.graph.value_info):
        items = sorted(field, key=lambda t: t.name)
        del field[:]
        field.extend(items)
    onnx.save(model, path)


def main():
    if mediapipe.__version__ != "0.10.14":
        sys.exit(f"need mediapipe 0.10.14 (newer wheels no longer ship these models), got {mediapipe.__version__}")
    if tflite2onnx.__version__ != "0.4.1":
        sys.exit(f"need tflite2onnx 0.4.1, got {tflite2onnx.__version__}")
    here = os.path.dirname(os.path.abspath(__file__))
    wheel = os.path.dirname(mediapipe.__file__)
    for out, src in MODELS.items():
        target = os.path.join(here, out)
        tflite2onnx.convert(os.path.join(wheel, src), target)
        canonical_order(target)
        with open(os.path.join(wheel, src), "rb") as f:
            src_sha = hashlib.sha256(f.read()).hexdigest()
        with open(target, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        print(f"{out}  sha256 {sha}  (from {src}, sha256 {src_sha})")


if __name__ == "__main__":
    main()
