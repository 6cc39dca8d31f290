"""The generative models of Ising configurations (issue 16): families,
sampling, bad input, command line.

Fast: every family trains its ``tiny`` config (L = 8, a few steps) once per module.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import cli, models
from course_utils.ising import measure
from course_utils.ising.autoregressive import (
    IsingAR,
    IsingARConfig,
    _draw,
    _draw_symmetric,
    log_prob,
    sample_ar,
    sample_ar_mh,
)
from course_utils.ising.compare import DDPM_GOAL, GOAL, Row, compare, goal_failures
from course_utils.ising.conditioning import temperature_features, temperature_rows

pytestmark = pytest.mark.filterwarnings("ignore::course_utils.data.MnistFallbackWarning")

ISING = ("ising-rbm", "ising-gan", "ising-ddpm", "ising-ar")
CONDITIONAL = ("ising-gan", "ising-ddpm", "ising-ar")


@pytest.fixture(scope="module")
def fitted():
    out = {}
    for name in ISING:
        family = models.get(name)
        out[name] = models.fit(name, family.tiny(), device="cpu", seed=2, progress=False)
    return out


def _options(name):
    return {"steps": 3} if name in ("ising-ddpm", "ising-rbm") else {}


@pytest.mark.parametrize("name", ISING)
def test_each_family_samples_spins_of_the_right_shape(fitted, name):
    trained = fitted[name]
    assert trained.family.samples.noun == "spin configurations"
    s = trained.sample(6, "cpu", seed=1, **_options(name))
    L = trained.config.size
    assert s.shape == (6, 1, L, L) and s.dtype == torch.float32
    assert set(s.unique().tolist()) <= {-1.0, 1.0}
    # the physics code accepts them
    assert measure(s, trained.config.temperatures[0])["e"].value <= 2.0


@pytest.mark.parametrize("name", CONDITIONAL)
def test_conditional_models_accept_every_trained_temperature(fitted, name):
    trained = fitted[name]
    for T in trained.config.temperatures:
        s = trained.sample(4, "cpu", seed=0, temperature=T, **_options(name))
        assert s.shape[0] == 4 and set(s.unique().tolist()) <= {-1.0, 1.0}


@pytest.mark.parametrize("name", ISING)
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_a_non_positive_temperature_is_a_one_line_error(fitted, name, bad):
    with pytest.raises(ValueError) as info:
        fitted[name].sample(2, "cpu", temperature=bad, **_options(name))
    text = str(info.value)
    assert ("positive" in text or "finite" in text) and "temperature" in text and "\n" not in text


def test_the_autoregressive_family_takes_the_mh_correction(fitted):
    ar = fitted["ising-ar"]
    s = ar.sample(4, "cpu", seed=2, temperature=2.0, mh_steps=2)
    assert s.shape == (4, 1, 8, 8)
    assert torch.equal(s, ar.sample(4, "cpu", seed=2, temperature=2.0, mh_steps=2))


def test_the_rbm_refuses_a_temperature_it_was_not_trained_at(fitted):
    rbm = fitted["ising-rbm"]
    T = rbm.config.temperatures[0]
    rbm.sample(2, "cpu", temperature=T, steps=2)
    with pytest.raises(ValueError, match=r"trained at T = 2.5 only") as info:
        rbm.sample(2, "cpu", temperature=2.0, steps=2)
    assert "\n" not in str(info.value)


def test_an_rbm_is_one_temperature():
    with pytest.raises(ValueError, match="one temperature"):
        models.build("ising-rbm", size=8, temperatures=(2.0, 2.5))


@pytest.mark.parametrize("name", CONDITIONAL)
def test_bad_configs_are_readable_errors(name):
    with pytest.raises(ValueError, match="size"):
        models.build(name, size=7)
    with pytest.raises(ValueError, match="positive"):
        models.build(name, size=8, temperatures=(2.0, -1.0))


def test_temperature_rows_split_the_trained_temperatures():
    rows = temperature_rows(6, None, (1.5, 2.5, 3.5))
    assert rows.tolist() == [1.5, 1.5, 2.5, 2.5, 3.5, 3.5]
    assert temperature_rows(3, 2.0, (1.5,)).tolist() == [2.0, 2.0, 2.0]


def test_autoregressive_log_prob_is_normalised():
    """Summing q over all 2^(L^2) states of a 2 x 2 lattice gives 1 (exact
    likelihood, exact context)."""
    model = IsingAR(IsingARConfig(size=2, temperatures=(2.0,), hidden=8))
    states = torch.tensor([[1.0 if (k >> b) & 1 else -1.0 for b in range(4)]
                           for k in range(16)]).reshape(16, 1, 2, 2)
    for symmetric in (False, True):
        with torch.no_grad():
            total = torch.logsumexp(log_prob(model, states, torch.tensor(2.0), symmetric=symmetric),
                                    0)
        assert abs(float(total)) < 1e-5


def test_autoregressive_context_only_sees_the_past():
    """logits[:, i] do not change when spins i, i+1, ... change, and the one-site path used for
    sampling gives the same logits as the all-sites path used for training."""
    model = IsingAR(IsingARConfig(size=4, temperatures=(2.0,), hidden=8))
    T = torch.full((3,), 2.0)
    x = torch.where(torch.rand(3, 16, generator=torch.Generator().manual_seed(1)) < 0.5, -1.0, 1.0)
    base = model.logits(x, T)
    temb = model.temb(temperature_features(T))
    for i in (0, 3, 4, 5, 15):
        changed = x.clone()
        changed[:, i:] *= -1
        assert torch.allclose(base[:, : i + 1], model.logits(changed, T)[:, : i + 1], atol=1e-6)
        masked = x.clone()
        masked[:, i:] = 0.0  # what the sampler holds before site i is drawn
        assert torch.allclose(model.site_logits(masked, i, temb), base[:, i], atol=1e-6)


def test_draws_of_q_sym_carry_the_log_q_sym_of_log_prob():
    """The sampling loop's log q(-s) (``_draw`` with ``flipped``) gives the same log q_sym as
    ``log_prob`` on the finished configurations, and the same spins as a draw without it."""
    model = IsingAR(IsingARConfig(size=4, temperatures=(2.0, 3.0), hidden=8))
    T = torch.tensor([2.0, 3.0] * 10)
    cpu = torch.device("cpu")
    x, log_q_sym = _draw_symmetric(model, T, cpu, torch.Generator().manual_seed(5))
    assert torch.allclose(log_q_sym, log_prob(model, x, T, symmetric=True), atol=1e-5)
    plain, _ = _draw(model, T, cpu, torch.Generator().manual_seed(5))
    with_flipped, _, _ = _draw(model, T, cpu, torch.Generator().manual_seed(5), flipped=True)
    assert torch.equal(plain, with_flipped)


def test_mh_correction_keeps_spins_and_reports_acceptance():
    model = IsingAR(IsingARConfig(size=4, temperatures=(2.0,), hidden=8))
    s, rate = sample_ar_mh(model, torch.full((20,), 2.0), torch.device("cpu"), seed=3, mh_steps=2)
    assert s.shape == (20, 1, 4, 4) and set(s.unique().tolist()) <= {-1.0, 1.0} and 0 <= rate <= 1
    assert torch.equal(sample_ar(model, torch.full((5,), 2.0), torch.device("cpu"), seed=4),
                       sample_ar(model, torch.full((5,), 2.0), torch.device("cpu"), seed=4))


def test_compare_flags_mode_collapse():
    gen = torch.Generator().manual_seed(0)
    good = torch.where(torch.rand(400, 8, 8, generator=gen) < 0.5, -1, 1)
    collapsed = good.abs()  # every spin up
    rows = compare(collapsed, good, 3.5)
    assert any("balance" in miss for miss in goal_failures(rows))
    assert set(GOAL) == {"e", "abs_m", "c", "chi", "balance"}


def test_goal_failures_with_the_ddpm_goal():
    """The DDPM's looser goal (issue 23): e 2 % off misses GOAL's 1 % but meets DDPM_GOAL's 3 %;
    |m| 6 % off misses both; c is not part of the DDPM's goal."""
    rows = [Row(2.0, "e", -1.7 * 1.02, 0.01, -1.7, 0.01),
            Row(2.0, "abs_m", 0.9 * 1.06, 0.01, 0.9, 0.01),
            Row(2.0, "c", 2.0, 0.1, 1.0, 0.1),
            Row(2.0, "balance", 0.52, 0.01, 0.5, 0.01)]
    assert [m.split()[1] for m in goal_failures(rows)] == ["e", "|m|", "c"]
    assert [m.split()[1] for m in goal_failures(rows, DDPM_GOAL)] == ["|m|"]
    assert "goal +-5 %" in goal_failures(rows, DDPM_GOAL)[0]


# --- the command line -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gan_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ising") / "gan.pt"
    code = cli.main(["train", "ising-gan", "--size", "8", "--temperatures", "2.0", "2.5",
                     "--n-per-temperature", "64", "--chains", "16", "--train-steps", "2",
                     "--batch-size", "8", "--channels", "4", "--z-size", "4", "--device", "cpu",
                     "--out", str(path)])
    assert code == 0
    return path


def test_cli_trains_and_samples_int8_spins(gan_checkpoint, tmp_path):
    out = tmp_path / "x.npy"
    assert cli.main(["sample", str(gan_checkpoint), "-n", "5", "--temperature", "2.0", "-o",
                     str(out)]) == 0
    x = np.load(out)
    assert x.dtype == np.int8 and x.shape == (5, 8, 8) and set(np.unique(x)) <= {-1, 1}


def _one_line_error(capsys, argv):
    capsys.readouterr()  # drop what came before (e.g. a training progress bar)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    return err


def test_cli_temperature_zero_is_a_one_line_error(gan_checkpoint, tmp_path, capsys):
    err = _one_line_error(capsys, ["sample", str(gan_checkpoint), "-n", "5", "--temperature", "0",
                                   "-o", str(tmp_path / "x.npy")])
    assert "positive" in err


def test_cli_rbm_at_an_untrained_temperature_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "rbm.pt"
    assert cli.main(["train", "ising-rbm", "--size", "8", "--temperatures", "2.5",
                     "--n-per-temperature", "64", "--chains", "16", "--hidden", "4", "--epochs",
                     "1", "--k", "1", "--batch-size", "16", "--device", "cpu", "--out",
                     str(path)]) == 0
    err = _one_line_error(capsys,
                          ["sample", str(path), "-n", "3", "--temperature", "2.0", "--steps", "2",
                                   "-o", str(tmp_path / "x.npy")])
    assert "trained at T = 2.5 only" in err


def test_cli_digit_checkpoint_with_a_temperature_is_a_one_line_error(tmp_path, capsys):
    trained = models.fit("vae", models.get("vae").tiny(), device="cpu", seed=1, progress=False)
    path = models.save(tmp_path / "vae.pt", trained)
    err = _one_line_error(capsys, ["sample", str(path), "-n", "3", "--temperature", "2.0",
                                   "-o", str(tmp_path / "x.npy")])
    assert "--temperature" in err and "vae" in err
