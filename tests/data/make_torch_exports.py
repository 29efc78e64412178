"""Regenerate the torch.onnx.export fixtures in this folder (needs torch; run by hand, not by the tests).

    python tests/data/make_torch_exports.py

The files are small (exports without parameters, plus one tiny model with them) and are committed, so
the test suite needs no torch. The expected per-layer facts are asserted in tests/test_onnx_torch.py.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).parent


class TorchNet(nn.Module):
    """Conv-BN-ReLU, ZeroPad2d, ReLU6 (Clip), a residual Add, a Concat, avg-pool, Flatten, Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))  # left, right, top, bottom
        self.conv2 = nn.Conv2d(16, 16, 3, padding=0)
        self.conv3 = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.branch = nn.Conv2d(16, 8, 1)
        self.pool = nn.AvgPool2d(2, ceil_mode=True)
        self.fc = nn.Linear(24 * 5 * 6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        y = self.conv2(self.pad(x))
        y = F.relu6(self.conv3(y)) + y
        z = torch.cat([y, self.branch(y)], dim=1)
        z = self.pool(z)
        return self.fc(torch.flatten(z, 1))


def main() -> None:
    torch.manual_seed(0)
    model = TorchNet().eval()
    example = torch.randn(1, 3, 20, 22)
    for params in (True, False):
        name = HERE / f"torchnet_{'params' if params else 'noparams'}.onnx"
        torch.onnx.export(
            model,
            (example,),
            str(name),
            export_params=params,
            dynamo=False,
            input_names=["image"],
            output_names=["logits"],
            opset_version=13,
            training=torch.onnx.TrainingMode.PRESERVE,
            do_constant_folding=False,
            dynamic_axes={"image": {0: "batch"}}
            if params
            else {"image": {0: "batch", 2: "height", 3: "width"}},
        )
        print("wrote", name, name.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
