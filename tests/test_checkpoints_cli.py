import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import models
from course_utils.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from course_utils.cli import build_parser, main
from course_utils.diffusion import ddim_sample
from course_utils.flows import sample_flow_matching
from course_utils.gan import build_gan, gan_config


def save_gan(path, gen=None, disc=None, config=None, history=None):
    """An (untrained unless given) lecture GAN saved in the one checkpoint format."""
    config = config or gan_config()
    gan = build_gan(config, "cpu")
    if gen is not None:
        gan.gen_model.load_state_dict(gen.state_dict())
        gan.disc_model.load_state_dict(disc.state_dict())
    return models.save(path, models.wrap(gan, config, history))


def test_gan_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    config = gan_config(mode_z="normal")
    gen, disc = build_gan(config, "cpu")
    history = {"epoch": [1, 2], "d_loss": [1.0, 0.9], "samples": torch.rand(2, 3, 1, 28, 28),
               "sample_epochs": [1, 2], "fixed_z": torch.randn(3, 20), "np": np.float32(0.5)}
    path = save_gan(tmp_path / "sub" / "gan.pt", gen, disc, config, history)
    # A plain weights-only load works: nothing but tensors and plain containers inside.
    raw = torch.load(path, weights_only=True)
    assert raw["family"] == "mlp-gan"
    loaded = models.load(path, "cpu")
    gen2, disc2 = loaded.model
    z = torch.randn(4, 20)
    gen.eval(), disc.eval()
    assert torch.equal(gen(z), gen2(z)) and torch.equal(disc(gen(z)), disc2(gen(z)))
    assert loaded.config == config and loaded.history["epoch"] == [1, 2]
    assert torch.equal(loaded.history["samples"], history["samples"])
    assert loaded.history["np"] == 0.5
    assert not gen2.training


def test_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt is not a genlab checkpoint"):
        load_checkpoint(junk)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a genlab checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    torch.save({"format": 1, "kind": "gan"}, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match="another version of genlab"):
        load_checkpoint(tmp_path / "old.pt")
    save_checkpoint(tmp_path / "vae.pt", "vae",
                    models.get("vae").build(models.get("vae").new_config(), "cpu"),
                    {"latent_dim": 20, "hidden": 400})
    with pytest.raises(CheckpointError, match="holds a vae model, not a mlp-gan one"):
        models.load(tmp_path / "vae.pt", family="gan")
    save_checkpoint(tmp_path / "mismatch.pt", "vae", torch.nn.Linear(2, 2), {})
    with pytest.raises(CheckpointError, match="does not match the vae family's networks"):
        models.load(tmp_path / "mismatch.pt")


def test_cli_train_then_sample(tmp_path, capsys):
    ckpt = tmp_path / "gan.pt"
    assert main(["train", "gan", "--epochs", "1", "--n-train", "256", "--device", "cpu",
                 "--out", str(ckpt)]) == 0
    out = capsys.readouterr().out
    assert "images/s" in out and ckpt.exists()
    assert main(["sample", str(ckpt), "-n", "7", "-o", str(tmp_path / "s.npy")]) == 0
    images = np.load(tmp_path / "s.npy")
    assert images.shape == (7, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize("argv, message", [
    (["train", "gan", "--epochs", "0", "--out", "x.pt"], "positive whole number"),
    (["train", "gan", "--epochs", "1"], "--out"),
    (["train", "gam", "--epochs", "1", "--out", "x.pt"], "invalid choice"),
    (["train", "gan", "--epochs", "1", "--out", "x.pt", "--device", "tpu"], "Unknown device"),
    (["sample", "missing.pt", "-n", "3", "-o", "s.npy"], "No checkpoint"),
    (["sample", "missing.pt", "-n", "3", "-o", "s.png"], ".npy or .npz"),
    ([], "required"),
    (["train", "gan", "--epochs", "1", "--out", "x.pt", "--data-root", "corrupt"],
     "train-images-idx3-ubyte"),
    (["sample", "gan.pt", "-n", "3", "-o", "blocked/s.npy"], "blocked"),
    (["sample", "gan.pt", "-n", "3", "-o", "s.npy", "--guidance", "nan"], "finite number"),
    (["sample", "gan.pt", "-n", "3", "-o", "s.npy", "--guidance", "2"],
     "--guidance is for ddpm, flow-matching checkpoints"),
    (["train", "dcgan", "--epochs", "1", "--out", "/proc/no/such/place.pt"], "cannot write there"),
    (["train", "gan", "--epochs", "1", "--out", "x.pt", "--data-root", "empty"], "holds no MNIST"),
])
def test_cli_bad_arguments_are_one_line_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if argv[:1] == ["sample"] and argv[-1] == "s.png":
        save_gan("missing.pt")
    if "corrupt" in argv:  # a truncated image file under the data root
        raw = tmp_path / "corrupt" / "MNIST" / "raw"
        raw.mkdir(parents=True)
        (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 20)
        (raw / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 20)
    if "blocked/s.npy" in argv:  # -o inside a path whose parent is a file: cannot be written
        (tmp_path / "blocked").write_text("a file, not a folder")
    if "gan.pt" in argv:
        save_gan("gan.pt")
    if "empty" in argv:
        (tmp_path / "empty").mkdir()
    if argv[:1] == ["train"]:  # every mistake is found before any training starts
        monkeypatch.setattr(models, "fit",
                            lambda *a, **k: pytest.fail("trained despite a bad command line"))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("error:")


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "course_utils", "--help"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and "train" in result.stdout and "sample" in result.stdout


@pytest.mark.parametrize("model, options", [
    ("vae", ["--epochs", "1", "--latent-dim", "2", "--hidden", "16"]),
    ("ddpm", ["--train-steps", "3", "--batch-size", "8", "--T", "50", "--channels", "8", "8"]),
    ("dcgan", ["--epochs", "1", "--batch-size", "32"]),
    ("wgan-gp", ["--epochs", "1", "--batch-size", "8"]),  # 8 batches: enough for n_critic = 5
    ("flow-matching", ["--train-steps", "3", "--batch-size", "8", "--channels", "8", "8"]),
    ("realnvp", ["--train-steps", "2", "--batch-size", "8", "--n-layers", "2", "--hidden", "4",
                 "--n-blocks", "1"]),
])
def test_every_model_trains_and_samples_through_the_same_commands(model, options, tmp_path, capsys):
    ckpt = tmp_path / f"{model}.pt"
    assert main(["train", model, *options, "--n-train", "64", "--device", "cpu", "--out",
                 str(ckpt)]) == 0
    assert "images/s" in capsys.readouterr().out
    assert load_checkpoint(ckpt)["family"] == model
    steps = ["--steps", "4"] if model in ("ddpm", "flow-matching") else []  # the rest refuse it
    assert main(["sample", str(ckpt), "-n", "3", "-o", str(tmp_path / "s.npy"), *steps]) == 0
    images = np.load(tmp_path / "s.npy")
    assert images.shape == (3, 28, 28) and 0 <= images.min() and images.max() <= 1


def test_figures_command_draws_the_four_diagrams(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "discriminator_vs_generator.png", "gan_networks.png", "gan_steps.png",
        "generative_overview.png"]
    assert main(["site", "--executed", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_a_conditional_ddpm_draws_a_chosen_digit_and_a_gan_refuses_the_option(tmp_path, capsys):
    ckpt = tmp_path / "ddpm.pt"
    assert main(["train", "ddpm", "--train-steps", "2", "--batch-size", "8", "--T", "50",
                 "--channels", "8", "8", "--n-train", "32", "--device", "cpu", "--out",
                 str(ckpt)]) == 0
    out = tmp_path / "sevens.npy"
    assert main(["sample", str(ckpt), "-n", "2", "-o", str(out), "--steps", "3", "--digit", "7",
                 "--guidance", "2", "--eta", "1"]) == 0
    assert np.load(out).shape == (2, 28, 28)
    capsys.readouterr()
    assert main(["sample", str(ckpt), "-n", "2", "-o", str(out), "--digit", "12"]) == 2
    assert "digit must be one of 0-9" in capsys.readouterr().err
    assert main(["sample", str(ckpt), "-n", "12", "-o", str(out), "--steps", "3", "--all-digits",
                 "--guidance", "1", "--eta", "1"]) == 0
    assert np.load(out).shape == (12, 28, 28)
    assert main(["sample", str(ckpt), "-n", "2", "-o", str(out), "--digit", "3",
                 "--all-digits"]) == 2
    assert "not both" in capsys.readouterr().err
    plain = tmp_path / "plain.pt"
    assert main(["train", "ddpm", "--no-conditional", "--train-steps", "1", "--batch-size", "8",
                 "--T", "50", "--channels", "8", "8", "--n-train", "16", "--device", "cpu", "--out",
                 str(plain)]) == 0
    capsys.readouterr()
    assert main(["sample", str(plain), "-n", "2", "-o", str(out), "--digit", "3"]) == 2
    assert "without labels" in capsys.readouterr().err
    assert main(["sample", str(plain), "-n", "2", "-o", str(out), "--all-digits"]) == 2
    assert "without labels" in capsys.readouterr().err
    gan = tmp_path / "gan.pt"
    save_gan(gan)
    assert main(["sample", str(gan), "-n", "2", "-o", str(out), "--digit", "3"]) == 2
    assert "--digit is for cdcgan, ddpm, flow-matching checkpoints" in capsys.readouterr().err


def test_a_conditional_dcgan_draws_the_digits_in_turn_or_one_digit(tmp_path, capsys):
    ckpt = tmp_path / "cdcgan.pt"
    assert main(["train", "cdcgan", "--epochs", "1", "--n-train", "64", "--batch-size", "32",
                 "--device", "cpu", "--out", str(ckpt)]) == 0
    trained = models.load(ckpt, "cpu")
    out = tmp_path / "threes.npy"
    assert main(["sample", str(ckpt), "-n", "4", "-o", str(out), "--digit", "3", "--seed",
                 "2"]) == 0
    threes = trained.sample(4, "cpu", 2, digit=3)
    assert np.allclose(np.load(out), ((threes + 1) / 2).clamp(0, 1).reshape(4, 28, 28).numpy(),
                       atol=1e-6)
    assert main(["sample", str(ckpt), "-n", "4", "-o", str(out), "--seed", "2"]) == 0
    in_turn = trained.sample(4, "cpu", 2)  # 0, 1, 2, 3: the same noise, so the fourth is the same 3
    assert torch.equal(in_turn[3], threes[3]) and not torch.equal(in_turn[0], threes[0])
    capsys.readouterr()
    assert main(["sample", str(ckpt), "-n", "2", "-o", str(out), "--digit", "12"]) == 2
    assert "digit must be one of 0-9" in capsys.readouterr().err
    assert main(["sample", str(ckpt), "-n", "4", "-o", str(out), "--all-digits", "--seed",
                 "2"]) == 0
    assert np.allclose(np.load(out), ((in_turn + 1) / 2).clamp(0, 1).reshape(4, 28, 28).numpy(),
                       atol=1e-6)


def test_figures_gifs_from_checkpoints(tmp_path, capsys):
    """`figures --gifs-from DIR` redraws the README's two GIFs from the checkpoints of
    `make run`."""
    arts = tmp_path / "artifacts"
    history = {"g_loss": [1.0, 0.9],
               "samples": {1: torch.rand(8, 784) * 2 - 1, 2: torch.rand(8, 784) * 2 - 1}}
    save_gan(arts / "mlp-gan.pt", history=history)
    assert main(["train", "ddpm", "--train-steps", "1", "--batch-size", "8", "--T", "50",
                 "--channels", "8", "8", "--n-train", "16", "--device", "cpu", "--out",
                 str(arts / "ddpm.pt")]) == 0
    out = tmp_path / "figs"
    assert main(["figures", "--out", str(out), "--gifs-from", str(arts)]) == 0
    with Image.open(out / "gan_mlp_samples.gif") as gif:
        assert gif.n_frames == 2
    with Image.open(out / "diffusion_reverse_chain.gif") as gif:
        assert gif.n_frames == 21
    capsys.readouterr()
    assert main(["figures", "--out", str(out), "--gifs-from", str(tmp_path / "empty")]) == 2
    assert "make run" in capsys.readouterr().err


def test_all_digits_draws_0_to_9_in_turn_from_p_x_given_y(tmp_path):
    """``all_digits`` is DDIM with labels 0, 1, ..., 9, 0, ... (guidance 1 = one plain
    conditional pass)."""
    ckpt = tmp_path / "ddpm.pt"
    assert main(["train", "ddpm", "--train-steps", "2", "--batch-size", "8", "--T", "50",
                 "--channels", "8", "8", "--n-train", "32", "--device", "cpu", "--out",
                 str(ckpt)]) == 0
    trained = models.load(ckpt, "cpu")
    got = trained.sample(12, "cpu", seed=3, steps=4, eta=1.0, all_digits=True, guidance=1.0)
    ddpm = trained.model
    want = ddim_sample(ddpm.ema_model, (12, 1, 28, 28), ddpm.schedule, 4, "cpu", 3, clip=1.0,
                       eta=1.0, labels=torch.arange(12) % 10, guidance=1.0,
                       progress=False).clamp(-1, 1)
    assert torch.equal(got, want)
    unlabelled = trained.sample(12, "cpu", seed=3, steps=4, eta=1.0)
    assert not torch.equal(got, unlabelled)


def test_sample_help_describes_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    text = capsys.readouterr().out
    for option in ("checkpoint", "--device", "--seed", "-n N", "--output"):
        assert option in text
    sample = next(a for a in build_parser()._subparsers._group_actions[0].choices.items()
                  if a[0] == "sample")[1]
    undescribed = [a.dest for a in sample._actions if not a.help]
    assert not undescribed, undescribed


def test_an_exact_density_model_writes_log_q_beside_its_samples(tmp_path, capsys):
    ckpt = tmp_path / "ar.pt"
    trained = models.fit("ising-ar", models.get("ising-ar").tiny(), device="cpu", progress=False)
    models.save(ckpt, trained)
    out = tmp_path / "x.npz"
    assert main(["sample", str(ckpt), "-n", "5", "-o", str(out), "--temperature", "2.5"]) == 0
    data = np.load(out)
    assert data["spins"].shape == (5, 8, 8) and data["log_q"].shape == (5,)
    spins, log_q = trained.sample_with_log_q(5, "cpu", 0, temperature=2.5)
    assert np.array_equal(data["spins"], spins[:, 0].numpy().astype(np.int8))
    assert np.allclose(data["log_q"], log_q.numpy()) and (log_q < 0).all()
    gan = tmp_path / "gan.pt"
    save_gan(gan)
    assert main(["sample", str(gan), "-n", "2", "-o", str(tmp_path / "g.npz")]) == 0
    assert np.load(tmp_path / "g.npz").files == ["images"]  # no exact density: no log_q


def test_flow_matching_samples_with_heun_and_the_digits_in_turn(tmp_path, capsys):
    """`genlab sample X.pt --steps 10 --solver heun --all-digits` (and `--solver ancestral`) is
    sample_flow_matching with those options; a flow-matching checkpoint refuses the DDPM's --eta,
    a Real-NVP refuses --steps and takes --temperature."""
    ckpt = tmp_path / "fm.pt"
    assert main(["train", "flow-matching", "--train-steps", "2", "--batch-size", "8",
                 "--channels", "8", "8", "--n-train", "32", "--device", "cpu",
                 "--out", str(ckpt)]) == 0
    out = tmp_path / "s.npy"
    assert main(["sample", str(ckpt), "-n", "12", "-o", str(out), "--steps", "10",
                 "--solver", "heun", "--all-digits", "--seed", "4"]) == 0
    want = sample_flow_matching(models.load(ckpt, "cpu").model, 12, "cpu", seed=4, steps=10,
                                solver="heun", all_digits=True)
    want = ((want + 1) / 2).clamp(0, 1).reshape(12, 28, 28).numpy()
    assert np.allclose(np.load(out), want, atol=1e-6)
    assert main(["sample", str(ckpt), "-n", "4", "-o", str(out), "--steps", "3",
                 "--solver", "ancestral", "--digit", "2", "--seed", "5"]) == 0
    want = sample_flow_matching(models.load(ckpt, "cpu").model, 4, "cpu", seed=5, steps=3,
                                solver="ancestral", digit=2)
    assert np.allclose(np.load(out), ((want + 1) / 2).clamp(0, 1).reshape(4, 28, 28).numpy(),
                       atol=1e-6)
    capsys.readouterr()
    assert main(["sample", str(ckpt), "-n", "2", "-o", str(out), "--solver", "rk4"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["sample", str(ckpt), "-n", "2", "-o", str(out), "--eta", "1"]) == 2
    assert "--eta is for ddpm" in capsys.readouterr().err
    assert main(["sample", str(ckpt), "-n", "2", "-o", str(out), "--digit", "3", "--guidance", "2",
                 "--steps", "2"]) == 0
    nvp = tmp_path / "nvp.pt"
    assert main(["train", "realnvp", "--train-steps", "1", "--batch-size", "8", "--n-layers", "2",
                 "--hidden", "4", "--n-blocks", "1", "--n-train", "16", "--device", "cpu",
                 "--out", str(nvp)]) == 0
    capsys.readouterr()
    assert main(["sample", str(nvp), "-n", "2", "-o", str(out), "--steps", "3"]) == 2
    err = capsys.readouterr().err
    assert "--steps is for" in err and "flow-matching" in err and "nvp.pt is a realnvp" in err
    assert main(["sample", str(nvp), "-n", "3", "-o", str(out), "--temperature", "0.7"]) == 0
    assert np.load(out).shape == (3, 28, 28)
