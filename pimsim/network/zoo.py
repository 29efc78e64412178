"""The built-in model zoo: the paper's benchmarks and common CNNs, written as real ONNX graphs.

Nothing is downloaded. Each entry builds a ``ModelProto`` with :class:`GraphWriter` and is imported
through :func:`load_network`, the same path as a user's file. Architectures follow their papers and the
torchvision definitions (ImageNet, 3x224x224); MSRA model A follows the PIMSYN-NN JSON (He et al. 2015,
"Delving Deep into Rectifiers", model A with spatial-pyramid pooling). ``-cifar`` variants take 3x32x32
inputs and 10 classes, for quick runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx

from pimsim.network.graph import Network
from pimsim.network.onnx_builder import GraphWriter

IMAGENET = (3, 224, 224)
CIFAR = (3, 32, 32)

_VGG_CFG = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ],
}


def _classifier(g: GraphWriter, x: str, features: int, hidden: list[int], classes: int) -> str:
    x = g.flatten(x, features)
    for width in hidden:
        x = g.dropout(g.relu(g.fc(x, width)))
    return g.fc(x, classes)


def alexnet(shape: tuple[int, int, int] = IMAGENET, classes: int = 1000) -> GraphWriter:
    """torchvision AlexNet (the single-tower variant of Krizhevsky 2014)."""
    g = GraphWriter("alexnet", shape)
    x = g.maxpool(g.relu(g.conv("input", 64, 11, 4, 2)), 3, 2)
    x = g.maxpool(g.relu(g.conv(x, 192, 5, 1, 2)), 3, 2)
    x = g.relu(g.conv(x, 384, 3, 1, 1))
    x = g.relu(g.conv(x, 256, 3, 1, 1))
    x = g.maxpool(g.relu(g.conv(x, 256, 3, 1, 1)), 3, 2)
    x = g.avgpool(x, 1, 1)  # torchvision's AdaptiveAvgPool2d((6, 6)) on a 6x6 map
    g.output = _classifier(g, x, 256 * 6 * 6, [4096, 4096], classes)
    return g


def vgg(depth: int, shape: tuple[int, int, int] = IMAGENET, classes: int = 1000) -> GraphWriter:
    """VGG-11/13/16/19 (Simonyan and Zisserman 2015), without batch norm."""
    g = GraphWriter(f"vgg{depth}", shape)
    x, size = "input", shape[1]
    for item in _VGG_CFG[depth]:
        if item == "M":
            x, size = g.maxpool(x, 2, 2), size // 2
        else:
            x = g.relu(g.conv(x, int(item), 3, 1, 1))
    if shape == IMAGENET:
        g.output = _classifier(g, x, 512 * size * size, [4096, 4096], classes)
    else:
        g.output = g.fc(g.flatten(x, 512 * size * size), classes)
    return g


def _basic(g: GraphWriter, x: str, width: int, stride: int) -> str:
    y = g.relu(g.bn(g.conv(x, width, 3, stride, 1)))
    y = g.bn(g.conv(y, width, 3, 1, 1))
    if stride != 1 or g.channels[x] != width:
        x = g.bn(g.conv(x, width, 1, stride))
    return g.relu(g.add(y, x))


def _bottleneck(g: GraphWriter, x: str, width: int, stride: int) -> str:
    y = g.relu(g.bn(g.conv(x, width, 1)))
    y = g.relu(g.bn(g.conv(y, width, 3, stride, 1)))
    y = g.bn(g.conv(y, width * 4, 1))
    if stride != 1 or g.channels[x] != width * 4:
        x = g.bn(g.conv(x, width * 4, 1, stride))
    return g.relu(g.add(y, x))


def resnet(depth: int, shape: tuple[int, int, int] = IMAGENET, classes: int = 1000) -> GraphWriter:
    """ResNet-18/34/50 (He et al. 2016; torchvision v1.5: stride on the 3x3 of a bottleneck).

    The CIFAR variant starts with a 3x3 stride-1 convolution and no max-pool.
    """
    blocks, block = {
        18: ([2, 2, 2, 2], _basic),
        34: ([3, 4, 6, 3], _basic),
        50: ([3, 4, 6, 3], _bottleneck),
    }[depth]
    g = GraphWriter(f"resnet{depth}", shape)
    if shape == IMAGENET:
        x = g.maxpool(g.relu(g.bn(g.conv("input", 64, 7, 2, 3))), 3, 2, 1)
    else:
        x = g.relu(g.bn(g.conv("input", 64, 3, 1, 1)))
    for stage, count in enumerate(blocks):
        for i in range(count):
            x = block(g, x, 64 * 2**stage, 2 if i == 0 and stage > 0 else 1)
    x = g.global_avgpool(x)
    g.output = g.fc(g.flatten(x, g.channels[x]), classes)
    return g


def msra_a(shape: tuple[int, int, int] = IMAGENET, classes: int = 1000) -> GraphWriter:
    """MSRA model A (He et al. 2015) as the PIMSYN-NN benchmark defines it, with its SPP layer.

    The pyramid pools the 14x14 map into 7x7, 2x3 (window 5, stride 5, one column of left padding),
    2x2 and 1x1 bins; the 30720 pooled features feed the classifier.
    """
    g = GraphWriter("msra_a", shape)
    x = g.maxpool(g.relu(g.conv("input", 96, 7, 2, 3)), 2, 2)
    for width, pool in ((256, True), (512, True), (512, False)):
        for _ in range(5):
            x = g.relu(g.conv(x, width, 3, 1, 1))
        if pool:
            x = g.maxpool(x, 2, 2)
    bins = [
        g.maxpool(x, 2, 2),
        g.maxpool(x, 5, 5, (0, 1, 0, 0)),
        g.maxpool(x, 7, 7),
        g.maxpool(x, 14, 1),
    ]
    sizes = [512 * 7 * 7, 512 * 2 * 3, 512 * 2 * 2, 512]
    flat = [g.flatten(b, s) for b, s in zip(bins, sizes, strict=True)]
    x = g.concat(flat)
    g.output = _classifier(g, x, sum(sizes), [4096, 4096], classes)
    return g


def mobilenetv2(shape: tuple[int, int, int] = IMAGENET, classes: int = 1000) -> GraphWriter:
    """MobileNetV2 (Sandler et al. 2018), width 1.0, ReLU6 as Clip(0, 6)."""
    g = GraphWriter("mobilenetv2", shape)
    first_stride = 2 if shape == IMAGENET else 1
    x = g.relu6(g.bn(g.conv("input", 32, 3, first_stride, 1)))
    settings = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]
    for t, c, n, s in settings:
        for i in range(n):
            stride = s if i == 0 else 1
            cin = g.channels[x]
            y = x
            if t != 1:
                y = g.relu6(g.bn(g.conv(y, cin * t, 1)))
            y = g.relu6(g.bn(g.conv(y, cin * t, 3, stride, 1, groups=cin * t)))
            y = g.bn(g.conv(y, c, 1))
            x = g.add(y, x) if stride == 1 and cin == c else y
    x = g.relu6(g.bn(g.conv(x, 1280, 1)))
    x = g.global_avgpool(x)
    g.output = g.fc(g.dropout(g.flatten(x, 1280)), classes)
    return g


def squeezenet(shape: tuple[int, int, int] = IMAGENET, classes: int = 1000) -> GraphWriter:
    """SqueezeNet 1.1 (Iandola et al. 2016; torchvision ``squeezenet1_1``), ceil-mode pooling."""
    g = GraphWriter("squeezenet", shape)

    def fire(x: str, squeeze: int, expand: int) -> str:
        s = g.relu(g.conv(x, squeeze, 1, bias=True))
        return g.concat(
            [g.relu(g.conv(s, expand, 1, bias=True)), g.relu(g.conv(s, expand, 3, 1, 1, bias=True))]
        )

    x = g.maxpool(g.relu(g.conv("input", 64, 3, 2, bias=True)), 3, 2, ceil=True)
    x = g.maxpool(fire(fire(x, 16, 64), 16, 64), 3, 2, ceil=True)
    x = g.maxpool(fire(fire(x, 32, 128), 32, 128), 3, 2, ceil=True)
    x = fire(fire(fire(fire(x, 48, 192), 48, 192), 64, 256), 64, 256)
    x = g.relu(g.conv(g.dropout(x), classes, 1, bias=True))
    g.output = g.flatten(g.global_avgpool(x), classes)
    return g


@dataclass(frozen=True)
class ZooEntry:
    """One built-in model: its builder and a line of description."""

    name: str
    build: Callable[[], GraphWriter]
    description: str


def _entries() -> dict[str, ZooEntry]:
    table = [
        ZooEntry("alexnet", alexnet, "AlexNet (torchvision), 224x224"),
        *[ZooEntry(f"vgg{d}", lambda d=d: vgg(d), f"VGG-{d}, 224x224") for d in (11, 13, 16, 19)],
        *[
            ZooEntry(f"resnet{d}", lambda d=d: resnet(d), f"ResNet-{d}, 224x224")
            for d in (18, 34, 50)
        ],
        ZooEntry("msra_a", msra_a, "MSRA model A with SPP (He et al. 2015), 224x224"),
        ZooEntry("mobilenetv2", mobilenetv2, "MobileNetV2 1.0, 224x224"),
        ZooEntry("squeezenet", squeezenet, "SqueezeNet 1.1, 224x224"),
        ZooEntry("vgg11-cifar", lambda: vgg(11, CIFAR, 10), "VGG-11 for CIFAR-10, 32x32"),
        ZooEntry("vgg16-cifar", lambda: vgg(16, CIFAR, 10), "VGG-16 for CIFAR-10, 32x32"),
        ZooEntry("resnet18-cifar", lambda: resnet(18, CIFAR, 10), "ResNet-18 for CIFAR-10, 32x32"),
        ZooEntry(
            "mobilenetv2-cifar", lambda: mobilenetv2(CIFAR, 10), "MobileNetV2 for CIFAR-10, 32x32"
        ),
    ]
    return {entry.name: entry for entry in table}


ZOO: dict[str, ZooEntry] = _entries()
_ALIASES = {"msra": "msra_a", "msra-a": "msra_a", "mobilenet_v2": "mobilenetv2"}


def zoo_name(name: str) -> str | None:
    """The canonical zoo name for ``name`` (case-insensitive, a few aliases), or ``None``."""
    key = name.lower()
    key = _ALIASES.get(key, key)
    return key if key in ZOO else None


def zoo_model(name: str, rng: np.random.Generator | None = None) -> onnx.ModelProto:
    """The ONNX model of a zoo entry; with ``rng``, weights are random initializers."""
    canonical = zoo_name(name)
    if canonical is None:
        raise KeyError(name)
    writer = ZOO[canonical].build()
    return writer.model(writer.output, rng)


def zoo_network(name: str) -> Network:
    """A zoo entry imported as a :class:`Network`."""
    from pimsim.network.onnx_import import load_network

    canonical = zoo_name(name)
    if canonical is None:
        raise KeyError(name)
    return load_network(zoo_model(canonical), name=canonical, label=f"zoo:{canonical}")
