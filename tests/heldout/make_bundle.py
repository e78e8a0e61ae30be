"""Build tests/heldout/reports/fmnist-bundle.zip: one student's submission as a .zip of a folder holding a Markdown
report, a figures/ folder of PNGs and the Jupyter notebook with the code and its printed outputs.

    python -m tests.heldout.make_bundle          # rewrites the zip (byte-for-byte the same every time)

Question 1.3 is answered only in the notebook (the report says "see the notebook"), so a grader has to read the
bundle's members, not only its main document. The expected grading is tests/heldout/expected/fmnist-bundle.zip.json.
"""

from __future__ import annotations

import base64
import json
import struct
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZIP = HERE / "reports" / "fmnist-bundle.zip"
FOLDER = "hw2_lea_schmidt"
STAMP = (2023, 10, 27, 21, 14, 0)  # fixed member timestamps: the zip is reproducible

REPORT = """\
# Homework 2 — Fashion-MNIST

Lea Schmidt. The notebook `hw2.ipynb` next to this file has the code and every printed output; the figures are in
`figures/`. Official split (10,000 test images), Adam with lr 0.001 and batch size 128 unless stated.

1.1)
MLP: 88.64 % test accuracy, CNN: 91.05 %.

![Training and validation curves of both models](figures/curves_mlp_cnn.png)

The CNN looks at local neighbourhoods and reuses the same filters everywhere, so it needs fewer examples to learn
what a collar or a heel looks like; the MLP treats the image as 784 unrelated numbers.

1.2)

| dropout | train accuracy | test accuracy |
|---------|----------------|---------------|
| 0       | 0.9351         | 0.8864        |
| 0.2     | 0.9168         | 0.8921        |
| 0.5     | 0.8907         | 0.8880        |

Without dropout the MLP overfits (the training accuracy keeps climbing while the test accuracy stalls after epoch
8). Dropout shrinks that gap a lot; 0.2 is the sweet spot, 0.5 starts to underfit.

1.3)
See the notebook, section "Optimizers" (plot and numbers).

2.1)
BN before ReLU: 91.63 %, BN after ReLU: 91.40 %, no BatchNorm: 91.05 %. Putting BatchNorm before the ReLU is
better because the ReLU then receives zero-centred inputs and cuts them in half, as in the original BatchNorm
paper; after the ReLU the normalisation has to undo the one-sided distribution the ReLU produced.

2.2)

![Confusion matrix of the CNN with BN before ReLU](figures/confusion_bn_before.png)

Shirts are the problem class: they are mistaken for T-shirts and coats, and coats for pullovers. The matrix and
the classification report are printed in the notebook.

3)
Frozen convolutional layers with a new last layer: 94.10 % on MNIST; fine-tuning everything: 98.87 %.

4)
Convolutions, a little dropout and BatchNorm before the activation each help; the optimizer matters least.
"""

MATRIX = """\
[[886   3  13  13   5   3  58   7   5   7]
 [  2 985   1   2   2   2   1   2   1   2]
 [  5   8 870   9  50   5  34   7   5   7]
 [ 15   4   8 924  18   4  11   4   5   7]
 [  9   8  44   4 863   6  49   6   7   4]
 [  1   2   2   2   2 977   1   9   1   3]
 [ 64  13  37  12  90   8 749   8   9  10]
 [  2   2   2   2   3  14   2 962   2   9]
 [  1   2   2   1   2   2   2   2 985   1]
 [  4   4   2   3   2   3   4  15   1 962]]"""

CLASS_REPORT = """\
              precision    recall  f1-score   support

 T-shirt/top     0.8959    0.8860    0.8909      1000
     Trouser     0.9554    0.9850    0.9700      1000
    Pullover     0.8869    0.8700    0.8783      1000
       Dress     0.9506    0.9240    0.9371      1000
        Coat     0.8322    0.8630    0.8473      1000
      Sandal     0.9541    0.9770    0.9654      1000
       Shirt     0.8222    0.7490    0.7839      1000
     Sneaker     0.9413    0.9620    0.9515      1000
         Bag     0.9647    0.9850    0.9748      1000
  Ankle boot     0.9506    0.9620    0.9563      1000

    accuracy                         0.9163     10000
   macro avg     0.9154    0.9163    0.9156     10000
weighted avg     0.9154    0.9163    0.9156     10000"""


def png(width: int = 12, height: int = 8, seed: int = 0) -> bytes:
    """A tiny valid greyscale PNG."""
    raw = b"".join(b"\x00" + bytes((x * 17 + y * 29 + seed * 53) % 256 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def notebook() -> str:
    """The submission's notebook (nbformat 4): markdown answers, code, printed outputs and one inline plot."""
    cells: list[dict] = []

    def md(text: str) -> None:
        cells.append({"cell_type": "markdown", "metadata": {}, "source": _lines(text.strip("\n"))})

    def code(source: str, stdout: str | None = None, image: int | None = None) -> None:
        count = sum(c["cell_type"] == "code" for c in cells) + 1
        outputs: list[dict] = []
        if stdout is not None:
            outputs.append({"name": "stdout", "output_type": "stream", "text": _lines(stdout.strip("\n") + "\n")})
        if image is not None:
            data = {"image/png": base64.b64encode(png(seed=image)).decode() + "\n",
                    "text/plain": ["<Figure size 800x400 with 2 Axes>"]}
            outputs.append({"data": data, "metadata": {}, "output_type": "display_data"})
        cells.append({"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": outputs,
                      "source": _lines(source.strip("\n"))})

    md("# HW2 — code and outputs\nLea Schmidt")
    code("import torch, numpy as np\nfrom sklearn.metrics import classification_report, confusion_matrix")
    md("## 1.1 MLP and CNN")
    code('for name, model in [("MLP", mlp), ("CNN", cnn)]:\n'
         '    print(f"{name}: test accuracy {evaluate(model, test_loader):.4f}")',
         stdout="MLP: test accuracy 0.8864\nCNN: test accuracy 0.9105")
    md("## Optimizers\nThe same MLP trained for 15 epochs with each optimizer (SGD: lr 0.01, momentum 0.9).")
    code('for name, opt in optimizers.items():\n'
         '    model, history = train_mlp(opt, epochs=15)\n'
         '    acc = evaluate(model, test_loader)\n'
         '    print(f"{name:<6} final train loss {history[-1]:.4f}  test accuracy {acc:.4f}")\n'
         'plot_losses(histories)',
         stdout="SGD    final train loss 0.3012  test accuracy 0.8790\n"
                "Adam   final train loss 0.1733  test accuracy 0.8864\n"
                "AdamW  final train loss 0.1781  test accuracy 0.8871",
         image=4)
    md("SGD is clearly slower; Adam and AdamW end up in the same place, AdamW slightly ahead on the test set.")
    md("## 2.2 Best CNN (BN before ReLU): confusion matrix and classification report")
    code("y_true, y_pred = predict(cnn_bn_before, test_loader)\nprint(confusion_matrix(y_true, y_pred))",
         stdout=MATRIX)
    code("print(classification_report(y_true, y_pred, target_names=CLASSES, digits=4))", stdout=CLASS_REPORT)
    nb = {"cells": cells,
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                       "language_info": {"name": "python", "version": "3.11.5"}},
          "nbformat": 4, "nbformat_minor": 5}
    for i, cell in enumerate(cells):
        cell["id"] = f"c{i:02d}"
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def members() -> dict[str, bytes]:
    return {
        f"{FOLDER}/report.md": REPORT.encode(),
        f"{FOLDER}/hw2.ipynb": notebook().encode(),
        f"{FOLDER}/figures/curves_mlp_cnn.png": png(seed=1),
        f"{FOLDER}/figures/confusion_bn_before.png": png(seed=2),
        f"{FOLDER}/figures/optimizers.png": png(seed=4),
    }


def main() -> Path:
    ZIP.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(ZIP, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members().items():
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return ZIP


if __name__ == "__main__":
    print(main())
