"""The side-by-side harness (benchmarks/fidelity/harness.py), checked without the reference code.

- ``reference_schedule``: the PyTorch references step their scheduler at the start of each
  epoch, so their rate drops one epoch before the milestone; ocbench, given the milestones
  one epoch earlier, takes the same rate in every epoch.
- ``OcbenchOrder``: the batches a reference's loader yields under ``--same-order`` are
  the ones ocbench's training loop takes, epoch by epoch, with and without ``drop_last``
  (the centre's pass whole either way, as ocbench's centre).
- ``order_from_stream``: ``--order-stream`` moves both codes' batches to another stream
  of the seed, and only inside its block.
- ``auroc_from_results``: ``--results`` reads the workflow's run directories of the cell.
- ``compare_deep_sad.load_experiment``: the Deep SAD script trains from the workflow's
  experiment file, and refuses one its reference side is not written for.
- ``compare_deep_sad --reference-schedule``: ocbench alone takes the shifted milestones, and
  the reference's AUROCs are reused only from cells of the same recipe, threads, order and CPU.
- ``compare_deep_sad --results``: a workflow run is read only at the experiment's recipe,
  and the row says whether it started from the pretrained encoder.
- ``transfer_start``: the start AUROC it reports is that of Deep SAD's network and centre
  before the first step, with the pretrained encoder and without it.
- ``compare_pretraining``: ocbench's autoencoder on the reference's schedule, the reference's
  on ocbench's batches; a workflow autoencoder is read only at the recipe.
- ``compare_reference --same-order --reference-cells``: the Deep SVDD script reuses the
  same way, and its rows record recipe, order and ocbench's milestones.
"""
import csv
import json
import os
import warnings

import pytest
import torch
import torch.nn as nn

from ocbench.training import TrainConfig, train_network

from helpers.lenet_reference import reference_decoder_forward, reference_encoder_forward
from helpers.paths import ROOT
from helpers.scripts import load_script

FIDELITY = ROOT / "benchmarks" / "fidelity"


def load_fidelity_script(name: str):
    return load_script(FIDELITY / f"{name}.py", f"fidelity_{name}")


@pytest.fixture(scope="module")
def harness():
    return load_fidelity_script("harness")


@pytest.fixture(scope="module")
def compare_deep_sad():
    return load_fidelity_script("compare_deep_sad")


@pytest.fixture(scope="module")
def compare_reference():
    return load_fidelity_script("compare_reference")


def reference_rates(lr: float, milestones, epochs: int) -> list[float]:
    """The rate of each epoch as the references run it: ``scheduler.step()`` first, then the epoch."""
    optimizer = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(milestones), gamma=0.1)
    rates = []
    for _ in range(epochs):
        with warnings.catch_warnings():  # torch warns of exactly this order of calls
            warnings.simplefilter("ignore", UserWarning)
            scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return rates


def ocbench_rates(lr: float, milestones, epochs: int) -> list[float]:
    """The rate of each epoch of ocbench's loop, read off one Adam step per epoch on the loss w:
    a constant gradient makes Adam's step exactly the learning rate."""
    class Scalar(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1, dtype=torch.float64))

    network, trace = Scalar(), [0.0]
    config = TrainConfig(lr=lr, epochs=epochs, milestones=tuple(milestones), batch_size=8, weight_decay=0.0)
    train_network(network, lambda net, xb: net.w.sum(), [torch.zeros(4, 1)], config, seed=0,
                  after_epoch=lambda epoch: trace.append(network.w.item()))
    return [before - after for before, after in zip(trace, trace[1:])]


def test_the_reference_drops_its_rate_one_epoch_before_the_milestone_and_ocbench_after_it():
    # milestone 3 of 5 epochs at lr 1: the reference runs epochs 1-2 at 1, ocbench epochs 1-3
    assert reference_rates(1.0, [3], 5) == pytest.approx([1, 1, 0.1, 0.1, 0.1])
    assert ocbench_rates(1.0, [3], 5) == pytest.approx([1, 1, 1, 0.1, 0.1], rel=1e-6)


def test_reference_schedule_gives_ocbench_the_rate_the_reference_runs_in_every_epoch(harness):
    recipe = {"autoencoder": {"lr": 1.0, "epochs": 6, "milestones": [3, 5]},
              "network": {"lr": 1.0, "epochs": 5, "milestones": [4]}}
    shifted = harness.reference_schedule(recipe)
    assert shifted["autoencoder"]["milestones"] == [2, 4] and shifted["network"]["milestones"] == [3]
    assert recipe["network"]["milestones"] == [4]  # the recipe given is left as it was
    for block in ("autoencoder", "network"):
        stated = recipe[block]
        assert ocbench_rates(1.0, shifted[block]["milestones"], stated["epochs"]) == \
            pytest.approx(reference_rates(1.0, stated["milestones"], stated["epochs"]), rel=1e-6)


def test_reference_schedule_refuses_a_milestone_of_one_in_one_line(harness):
    recipe = {"autoencoder": {"epochs": 3, "milestones": [2]}, "network": {"epochs": 3, "milestones": [1]}}
    with pytest.raises(SystemExit, match="network milestone 1"):
        harness.reference_schedule(recipe)


def trained_batches(seed: int, n: int = 45, batch_size: int = 8, epochs: int = 1,
                    drop_last: bool = False) -> list[list[int]]:
    """The sample indices of every batch ocbench's training loop takes, epoch after epoch,
    read off the loop itself (a one-weight model trained on the indices)."""
    seen = []

    class Scalar(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

    def record(network, xb):
        seen.append(xb[:, 0].long().tolist())
        return network.w.sum()

    config = TrainConfig(lr=1e-3, epochs=epochs, milestones=(), batch_size=batch_size, drop_last=drop_last)
    train_network(Scalar(), record, [torch.arange(n, dtype=torch.float32).unsqueeze(1)], config, seed=seed)
    return seen


@pytest.mark.parametrize("centre_pass, drop_last, batches_per_epoch", [
    (False, False, 6), (True, False, 6), (False, True, 5), (True, True, 5)])
def test_the_same_order_sampler_yields_the_batches_ocbench_trains_on(harness, centre_pass, drop_last,
                                                                     batches_per_epoch):
    # 45 samples at batch 8: five of 8 and a last of 5; drop_last leaves that one out
    n, batch_size, seed, epochs = 45, 8, 5, 3
    seen = trained_batches(seed, n, batch_size, epochs, drop_last)
    sampler = harness.OcbenchOrder(n, batch_size, seed, centre_pass, drop_last)
    if centre_pass:  # the centre's pass first, in order and whole
        assert [i for batch in sampler for i in batch] == list(range(n))
    yielded = [batch for _ in range(epochs) for batch in sampler]
    assert yielded == seen
    assert len(sampler) == len(seen) // epochs == batches_per_epoch


def test_an_order_stream_gives_both_codes_other_batches_and_only_inside_its_block(harness):
    from ocbench.training import batches, seed_stream

    n, batch_size, seed = 45, 8, 5
    own = trained_batches(seed)
    with harness.order_from_stream(7):
        inside = trained_batches(seed)
        sampler = harness.OcbenchOrder(n, batch_size, seed, centre_pass=False)
        assert [batch for batch in sampler] == inside  # the reference's loader yields them too
    assert inside == [b.tolist() for b in batches(n, batch_size, seed_stream(seed, 7))]
    assert inside != own and sorted(sum(inside, [])) == list(range(n))
    assert trained_batches(seed) == own  # the block restored ocbench's own order


@pytest.mark.parametrize("stream", [0, 1, 2])
def test_an_order_stream_of_ocbench_s_own_is_refused_in_one_line(harness, stream):
    with pytest.raises(SystemExit, match=f"--order-stream {stream}: streams 0 to 2 are ocbench's own .* allowed: 3"):
        with harness.order_from_stream(stream):
            pass


def test_compare_deep_sad_refuses_an_order_stream_without_the_same_batches(compare_deep_sad, tmp_path, capsys):
    with pytest.raises(SystemExit):
        compare_deep_sad.main(["--reference", str(tmp_path), "--order-stream", "3", "--out", str(tmp_path / "o.csv")])
    assert "--order-stream sets the batches ocbench hands both codes: add --same-order" in capsys.readouterr().err


def test_ocbench_only_trains_ocbench_alone_on_the_order_stream_and_never_the_reference(
        compare_deep_sad, tmp_path, monkeypatch):
    """``--ocbench-only --order-stream 5``: each cell is ocbench's run on stream 5's batches
    (what ``training.batch_order`` gives inside the run), the reference is never trained nor
    its checkout read, and the rows carry ocbench's AUROC and the order alone."""
    from ocbench import training

    seen = []

    def ocbench_stand_in(data, seed, recipe, replay, arithmetic):
        assert replay is None and arithmetic == "float32"
        seen.append([b.tolist() for b in training.batches(10, 4, training.batch_order(seed))])
        return 70.0 + data

    def reference_refused(*args, **kwargs):
        raise AssertionError("the reference trained")

    for name, stub in {"check_mirror": lambda mirror: None, "fmnist_arrays": lambda mirror: None,
                       "draw": lambda arrays, normal_class, seed: normal_class,
                       "run_reference": reference_refused, "reference_passes": reference_refused,
                       "run_ocbench": ocbench_stand_in}.items():
        monkeypatch.setattr(compare_deep_sad, name, stub)
    out = tmp_path / "alone.csv"
    compare_deep_sad.main(["--reference", str(tmp_path / "no-checkout"), "--classes", "1,2", "--seeds", "3",
                           "--threads", "1", "--ocbench-only", "--order-stream", "5", "--out", str(out)])
    rows = list(csv.DictReader(out.open()))
    assert [(row["class"], row["ocbench_auroc"], row["order"]) for row in rows] == \
        [("1", "71.0", "ocbench alone, stream 5"), ("2", "72.0", "ocbench alone, stream 5")]
    assert "reference_auroc" not in rows[0] and (rows[0]["threads"], rows[0]["order_stream"]) == ("1", "5")
    stream_5 = [b.tolist() for b in training.batches(10, 4, training.seed_stream(3, 5))]
    assert seen == [stream_5, stream_5]
    assert [b.tolist() for b in training.batches(10, 4, training.batch_order(3))] != stream_5  # restored


@pytest.mark.parametrize("other", [["--same-order"], ["--reference-order"], ["--side-by-side"], ["--own-centres"]])
def test_compare_deep_sad_refuses_ocbench_only_with_a_reference_option_in_one_line(
        compare_deep_sad, tmp_path, capsys, other):
    with pytest.raises(SystemExit):
        compare_deep_sad.main(["--reference", str(tmp_path), "--ocbench-only", *other,
                               "--out", str(tmp_path / "o.csv")])
    assert "--ocbench-only trains ocbench alone: leave out --same-order, --reference-order" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_a_recorded_order_yields_its_passes_in_turn_and_refuses_one_more(harness):
    from torch.utils.data import DataLoader, TensorDataset

    passes = [[[0, 1], [2, 3]], [[3, 0], [2, 1]]]
    loader = DataLoader(TensorDataset(torch.arange(10, 14)), batch_sampler=harness.RecordedOrder(passes))
    assert [[batch[0].tolist() for batch in loader] for _ in passes] == [[[10, 11], [12, 13]], [[13, 10], [12, 11]]]
    assert len(loader) == 2
    with pytest.raises(RuntimeError, match="the 2 recorded passes are all spent"):
        iter(loader).__next__()


def test_ocbench_trains_on_the_given_epochs_inside_the_block_and_refuses_another_count(harness):
    from ocbench import training

    n, batch_size, seed = 10, 4, 3
    epochs = [[[9, 0, 1, 2], [3, 4, 5, 6]], [[8, 7, 6, 5], [4, 3, 2, 1]]]
    own = training.batches
    with harness.ocbench_trains_on(epochs):
        seen = trained_batches(seed, n, batch_size, 2, True)
    assert seen == [batch for epoch in epochs for batch in epoch]
    assert training.batches is own and trained_batches(seed, n, batch_size, 1, True) != epochs[0]
    with pytest.raises(RuntimeError, match="ocbench trains more epochs than the 2 given"):
        with harness.ocbench_trains_on(epochs):
            trained_batches(seed, n, batch_size, 3, True)
    with pytest.raises(RuntimeError, match="ocbench trained fewer epochs than the 2 given"):
        with harness.ocbench_trains_on(epochs):
            trained_batches(seed, n, batch_size, 1, True)
    assert training.batches is own


def test_a_replay_s_centre_is_over_the_samples_of_its_first_pass(compare_deep_sad):
    # 5 samples at batch 2: the reference's shuffled centre pass drops its last, sample 3
    assert compare_deep_sad.Replay([[[4, 0], [2, 1]], [[1, 3], [0, 2]]]).centre_samples() == [0, 1, 2, 4]


def test_deep_sad_s_centre_over_given_samples_is_their_mean_code_pushed_to_eps(compare_deep_sad):
    """Blank images give the bias-free LeNet a code of exactly 0 (no bias, batch norm in eval
    with its initial statistics, leaky ReLU and max pooling all keep 0): every coordinate of
    their mean is 0 and goes to +eps. Over every sample the mean takes both signs."""
    rng = torch.Generator().manual_seed(0)
    x = torch.rand(24, 1, 28, 28, generator=rng).numpy()
    x[:8] = 0
    settings = dict(net="fmnist_lenet", epochs=1, batch_size=8, milestones=(), init="deep_sad", seed=1)
    blank = compare_deep_sad.DeepSADCentreOver(**settings)
    blank.centre_samples = list(range(8))
    centre = blank.fit(x).c_
    assert torch.equal(centre, torch.full((64,), 0.1))  # fmnist_lenet's 64-dimensional code
    every = compare_deep_sad.DeepSADCentreOver(**settings).fit(x)
    plain = compare_deep_sad.DeepSAD(**settings).fit(x)
    assert torch.equal(every.c_, plain.c_) and (every.c_ == -0.1).any() and (every.c_ == 0.1).any()


def test_own_centres_tells_a_centre_pass_that_moves_the_centre_from_one_that_does_not(compare_deep_sad, monkeypatch):
    """``--own-centres``, on a split whose first 8 images are blank (a code of exactly 0, see
    above): a centre pass over those alone gives a centre of +eps everywhere, which the mean
    over every sample, of both signs, is not; a pass over every sample gives that centre."""
    rng = torch.Generator().manual_seed(0)
    x = torch.rand(24, 1, 28, 28, generator=rng).numpy()
    x[:8] = 0
    data = (x, None, x[:4], None)
    for samples, equal in ((list(range(8)), False), (list(range(24)), True)):
        monkeypatch.setattr(compare_deep_sad, "reference_passes", lambda checkout, data, seed, recipe: [[samples]])
        row = compare_deep_sad.own_centre_row(None, data, 1, compare_deep_sad.RECIPE)
        assert (row["samples"], row["centre_pass_samples"], row["coordinates"]) == (24, len(samples), 64)
        assert row["centres_equal"] is equal and (row["signs_differ"] == 0) is equal
        assert row["largest_mean_change"] == 0 if equal else row["largest_mean_change"] > 0


def test_float64_arithmetic_gives_deep_sad_s_network_its_float32_draws_widened_and_is_undone(harness):
    """``--arithmetic float64`` of compare_deep_sad: inside ``ocbench_arithmetic`` Deep SAD's
    network starts from exactly its float32 initial weights in float64 and trains and scores
    in float64; after the block ocbench's own float32 path is back."""
    from ocbench.detectors.deep_sad import DeepSAD

    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)).numpy()
    settings = dict(net="fmnist_lenet", epochs=1, batch_size=8, milestones=(), init="deep_sad", seed=1)
    drawn = DeepSAD(**settings)
    drawn.setup_network(x)
    with harness.ocbench_arithmetic("float64"):
        wide = DeepSAD(**settings)
        wide.setup_network(x)
        assert all(torch.equal(w, v.double()) for w, v in zip(wide.network_.parameters(), drawn.network_.parameters()))
        wide.fit(x)
        assert wide.c_.dtype == torch.float64 and {w.dtype for w in wide.network_.parameters()} == {torch.float64}
    assert {w.dtype for w in DeepSAD(**settings).fit(x).network_.parameters()} == {torch.float32}


def test_compare_deep_sad_in_the_reference_s_replayed_order_hands_both_codes_its_batches(
        compare_deep_sad, tmp_path, monkeypatch, capsys):
    """``--reference-order``: each cell's replayed passes go to both codes, the reference without
    its pretraining (the replay spent its draws), and the rows say so; options that would
    give another order are refused in one line."""
    runs = []
    for name, stub in {"check_mirror": lambda mirror: None, "fmnist_arrays": lambda mirror: None,
                       "draw": lambda arrays, normal_class, seed: normal_class,
                       "reference_passes": lambda checkout, data, seed, recipe: [[[data]], [[seed]]],
                       "run_reference": lambda checkout, data, seed, recipe, order, pretraining, arithmetic:
                           runs.append(("reference", order, pretraining, arithmetic)) or 80.0,
                       "run_ocbench": lambda data, seed, recipe, replay, arithmetic:
                           runs.append(("ocbench", replay, arithmetic)) or 81.0}.items():
        monkeypatch.setattr(compare_deep_sad, name, stub)
    monkeypatch.setattr(compare_deep_sad.torch, "set_num_threads", lambda threads: None)
    replay = compare_deep_sad.Replay([[[2]], [[5]]])
    for arithmetic in ("float32", "float64"):
        runs.clear()
        out = tmp_path / f"{arithmetic}.csv"
        compare_deep_sad.main(["--reference", str(tmp_path), "--classes", "2", "--seeds", "5", "--reference-order",
                               "--arithmetic", arithmetic, "--out", str(out)])
        assert runs == [("reference", replay, False, arithmetic), ("ocbench", replay, arithmetic)]
        # a float32 row is as every cell file's; another arithmetic says which
        assert [(r["class"], r["order"], r.get("arithmetic")) for r in csv.DictReader(out.open())] == \
            [("2", "the reference's, replayed", None if arithmetic == "float32" else arithmetic)]
    for flags in (["--same-order"], ["--no-reference-pretraining"]):
        with pytest.raises(SystemExit):
            compare_deep_sad.main(["--reference", str(tmp_path), "--reference-order", *flags,
                                   "--out", str(tmp_path / "o.csv")])
        assert "--reference-order hands both codes the reference's own batches" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        compare_deep_sad.main(["--reference", str(tmp_path), "--arithmetic", "float64", "--reference-cells",
                               str(tmp_path / "cells.csv"), "--out", str(tmp_path / "o.csv")])
    assert "--arithmetic float64: the workflow's runs and the cell files are float32" in capsys.readouterr().err


def test_auroc_from_results_reads_the_cells_run_directory(harness, tmp_path):
    run = tmp_path / "runs" / "fmnist" / "gamma_l_0.01.k1" / "0" / "seed1" / "deep_sad" / "cpu"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"auroc": 0.65583}))
    other = tmp_path / "runs" / "fmnist" / "gamma_l_0.01.k1" / "0" / "seed2" / "deep_sad" / "cpu"  # another seed
    other.mkdir(parents=True)
    (other / "metrics.json").write_text(json.dumps({"auroc": 0.9}))
    assert harness.auroc_from_results(tmp_path, "gamma_l_0.01.k1", 0, 1, ["deep_sad"]) == \
        {"deep_sad": pytest.approx(65.583)}
    with pytest.raises(SystemExit, match="no run of deep_sad, setting gamma_l_0.01.k1, class 0, seed 3"):
        harness.auroc_from_results(tmp_path, "gamma_l_0.01.k1", 0, 3, ["deep_sad"])


def test_compare_deep_sad_reads_its_recipe_and_split_from_the_experiment_file(compare_deep_sad, tmp_path):
    import yaml

    # the Deep SAD README's recipe: the reference's pretraining, then Deep SAD, both dropping the last batch
    readme = {"lr": 1e-4, "epochs": 150, "milestones": [50], "batch_size": 128, "drop_last": True}
    assert compare_deep_sad.RECIPE == {"autoencoder": {**readme, "weight_decay": 0.5e-3},
                                       "network": {**readme, "weight_decay": 0.5e-6}, "eta": 1.0}
    assert compare_deep_sad.SETTING == {"ratio_known_normal": 0, "ratio_known_outlier": 0.01, "ratio_pollution": 0.1,
                                        "n_known_outlier_classes": 1, "validation_fraction": 0}
    config = yaml.safe_load(compare_deep_sad.EXPERIMENT.read_text())
    config["training"]["network"]["epochs"] = 3
    changed = tmp_path / "epochs.yaml"
    changed.write_text(yaml.safe_dump(config))
    assert compare_deep_sad.load_experiment(changed)[0]["network"]["epochs"] == 3
    config["training"]["autoencoder"]["drop_last"] = False  # the reference has one training loader for both
    changed.write_text(yaml.safe_dump(config))
    with pytest.raises(SystemExit, match="training.autoencoder.drop_last False; .* runs the reference with True"):
        compare_deep_sad.load_experiment(changed)
    config["training"]["autoencoder"]["drop_last"] = True
    config["datasets"]["fmnist"]["net"] = "mnist_lenet"
    changed.write_text(yaml.safe_dump(config))
    with pytest.raises(SystemExit, match="net 'mnist_lenet'; compare_deep_sad.py runs the reference with 'fmnist_lenet'"):
        compare_deep_sad.load_experiment(changed)


def test_compare_deep_sad_on_the_reference_s_schedule_retrains_only_ocbench_on_cells_of_the_same_order(
        compare_deep_sad, tmp_path, monkeypatch):
    """``--reference-schedule`` with ``--same-order``: ocbench trains with the milestone one epoch
    earlier, the reference on the recipe's own; the reference's AUROC is taken from the cell
    files only where recipe, thread count, batch order and CPU all match, and every row says which
    order the reference ran in, which milestones ocbench took and on which CPU."""
    label = compare_deep_sad.recipe_label(compare_deep_sad.RECIPE, "deep sad")
    cells = tmp_path / "cells.csv"
    cpu = "Test CPU (AVX2)"
    cells.write_text("class,seed,method,reference_auroc,ocbench_auroc,difference,threads,recipe,order,cpu\n"
                     f"0,1,deep_sad,80.0,79.0,-1.0,1,{label},ocbench's,{cpu}\n"
                     f"1,1,deep_sad,70.0,70.0,0.0,1,{label},own,{cpu}\n"          # the reference's own order
                     f"2,1,deep_sad,60.0,60.0,0.0,2,{label},ocbench's,{cpu}\n"    # two threads
                     f"3,1,deep_sad,65.0,65.0,0.0,1,{label},ocbench's stream 3,{cpu}\n"  # another stream
                     f"4,1,deep_sad,66.0,66.0,0.0,1,{label},ocbench's,Test CPU (AVX512)\n")  # another CPU
    monkeypatch.setattr(compare_deep_sad, "cpu_label", lambda: cpu)
    reference_runs, ocbench_milestones = [], []

    def run_reference(checkout, data, seed, recipe, order, pretraining, arithmetic):
        reference_runs.append((data, recipe["network"]["milestones"], order))
        return 50.0

    def run_ocbench(data, seed, recipe, replay, arithmetic):
        ocbench_milestones.append(recipe["network"]["milestones"])
        return 81.0

    for name, stub in {"check_mirror": lambda mirror: None, "fmnist_arrays": lambda mirror: None,
                       "draw": lambda arrays, normal_class, seed: normal_class,
                       "run_reference": run_reference, "run_ocbench": run_ocbench}.items():
        monkeypatch.setattr(compare_deep_sad, name, stub)
    monkeypatch.setattr(compare_deep_sad.torch, "set_num_threads", lambda threads: None)
    out = tmp_path / "out.csv"
    compare_deep_sad.main(["--reference", str(tmp_path), "--classes", "0-4", "--seeds", "1", "--same-order",
                           "--reference-schedule", "--reference-cells", str(cells), "--out", str(out)])
    assert reference_runs == [(c, [50], "ocbench's") for c in (1, 2, 3, 4)]
    assert ocbench_milestones == [[49]] * 5
    rows = list(csv.DictReader(out.open()))
    assert [(r["class"], r["reference_auroc"], r["order"], r["ocbench_milestones"], r["cpu"]) for r in rows] == \
        [("0", "80.0", "ocbench's", "49", cpu)] + [(c, "50.0", "ocbench's", "49", cpu) for c in "1234"]


def test_compare_deep_sad_reads_a_workflow_run_of_its_recipe_and_records_its_transfer(
        compare_deep_sad, tmp_path, monkeypatch, capsys):
    """``--results``: the cell's AUROC from the run's metrics, ``ocbench_pretrain`` from whether
    the run was handed an autoencoder (the experiment with ``pretrain: true``); a run of
    another recipe (here lr 1e-3) is refused, naming the run, the value and the recipe's."""
    recipe = compare_deep_sad.RECIPE
    hyper = {**recipe["network"], "eta": recipe["eta"], "init": "deep_sad", "amsgrad": False}
    for normal_class, autoencoder, lr in ((0, "pretrain/ae.pt", hyper["lr"]), (1, None, hyper["lr"]),
                                          (2, None, 1e-3)):
        run = tmp_path / "runs" / "fmnist" / f"gamma_l_0.01.k{normal_class + 1}" / str(normal_class) / "seed1" \
            / "deep_sad" / "cpu"
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps({"auroc": 0.7 + normal_class / 100}))
        (run / "params.json").write_text(json.dumps({"autoencoder": autoencoder,
                                                     "hyper_parameters": {**hyper, "lr": lr}}))
    for name, stub in {"check_mirror": lambda mirror: None, "fmnist_arrays": lambda mirror: None,
                       "draw": lambda arrays, normal_class, seed: normal_class,
                       "run_reference": lambda checkout, data, seed, recipe, order, pretraining, arithmetic: 80.0}.items():
        monkeypatch.setattr(compare_deep_sad, name, stub)
    monkeypatch.setattr(compare_deep_sad.torch, "set_num_threads", lambda threads: None)
    out = tmp_path / "out.csv"
    compare_deep_sad.main(["--reference", str(tmp_path), "--results", str(tmp_path), "--classes", "0-1",
                           "--seeds", "1", "--out", str(out)])
    rows = list(csv.DictReader(out.open()))
    assert [(r["class"], r["ocbench_auroc"], r["ocbench_pretrain"]) for r in rows] == \
        [("0", "70.0", "true"), ("1", "71.0", "false")]
    assert "no target" in capsys.readouterr().out  # the transfer makes it another method than the reference's
    with pytest.raises(SystemExit, match=r"seed1/deep_sad/cpu: lr 0.001; the reference side trains with 0.0001"):
        compare_deep_sad.main(["--reference", str(tmp_path), "--results", str(tmp_path), "--classes", "2",
                               "--seeds", "1", "--out", str(tmp_path / "other.csv")])


def test_compare_deep_sad_refuses_the_reference_schedule_on_the_workflow_s_runs(compare_deep_sad, tmp_path, capsys):
    with pytest.raises(SystemExit):
        compare_deep_sad.main(["--reference", str(tmp_path), "--results", str(tmp_path), "--reference-schedule",
                               "--out", str(tmp_path / "o.csv")])
    assert "--results reads the workflow's runs, trained on the recipe's own milestones" in capsys.readouterr().err


def test_compare_reference_reuses_only_cells_of_the_same_recipe_threads_order_and_cpu(
        compare_reference, tmp_path, monkeypatch):
    """The Deep SVDD script's ``--reference-cells`` with ``--same-order`` and ``--reference-schedule``:
    a cell's reference AUROCs are taken only where recipe, thread count, batch order and CPU all
    match (a file without the columns matches nothing), and the new rows record them."""
    recipe = compare_reference.load_recipe()
    label = compare_reference.recipe_label(recipe, "deep svdd")
    shorter = compare_reference.recipe_label(compare_reference.shorten(recipe, 10, 10), "deep svdd")
    header = "class,seed,method,reference_auroc,ocbench_auroc,difference,threads,recipe,order,cpu\n"
    cpu = "Test CPU (AVX2)"
    monkeypatch.setattr(compare_reference, "cpu_label", lambda: cpu)
    cells = tmp_path / "cells.csv"
    cells.write_text(header + "".join(f"{c},1,{m},{v},0,0,{t},{r},{o},{u}\n" for c, v, t, r, o, u in (
        (0, 80.0, 1, label, "ocbench's", cpu),      # the one to reuse
        (1, 70.0, 1, label, "own", cpu),            # the reference's own order
        (2, 60.0, 2, label, "ocbench's", cpu),      # two threads
        (3, 65.0, 1, shorter, "ocbench's", cpu),    # another recipe
        (5, 66.0, 1, label, "ocbench's", "Test CPU (AVX512)"),  # another CPU
    ) for m in ("cae", "deep_svdd_oneclass")))
    unlabelled = tmp_path / "old.csv"         # a file from before the columns
    unlabelled.write_text("class,seed,method,reference_auroc,ocbench_auroc,difference,threads\n"
                          "4,1,cae,55.0,0,0,1\n4,1,deep_svdd_oneclass,55.0,0,0,1\n")
    reference_runs, ocbench_milestones = [], []

    def run_reference(checkout, data, seed, recipe, objectives, same_order):
        reference_runs.append((data, recipe["autoencoder"]["milestones"], recipe["network"]["milestones"],
                               same_order))
        return {"cae": 50.0, "deep_svdd_oneclass": 51.0}

    def run_ocbench(data, seed, recipe, objectives):
        ocbench_milestones.append((recipe["autoencoder"]["milestones"], recipe["network"]["milestones"]))
        return {"cae": 81.0, "deep_svdd_oneclass": 82.0}

    for name, stub in {"check_mirror": lambda mirror: None, "run_reference": run_reference,
                       "run_ocbench": run_ocbench,
                       "load_fmnist": lambda mirror, normal_class, train, test: normal_class}.items():
        monkeypatch.setattr(compare_reference, name, stub)
    monkeypatch.setattr(torch, "set_num_threads", lambda threads: None)
    out = tmp_path / "out.csv"
    compare_reference.main(["--reference", str(tmp_path), "--classes", "0-5", "--seeds", "1", "--same-order",
                            "--reference-schedule", "--methods", "cae,deep_svdd_oneclass",
                            "--reference-cells", str(cells), str(unlabelled), "--out", str(out)])
    assert reference_runs == [(c, [40], [40], True) for c in (1, 2, 3, 4, 5)]
    assert ocbench_milestones == [([39], [39])] * 6
    rows = list(csv.DictReader(out.open()))
    assert [(r["class"], r["method"], r["reference_auroc"]) for r in rows] == \
        [("0", "cae", "80.0"), ("0", "deep_svdd_oneclass", "80.0")] + \
        [(c, m, v) for c in "12345" for m, v in (("cae", "50.0"), ("deep_svdd_oneclass", "51.0"))]
    assert {(r["recipe"], r["order"], r["ocbench_milestones"], r["threads"], r["cpu"]) for r in rows} == \
        {(label, "ocbench's", "39", "1", cpu)}


def test_the_committed_cell_files_of_today_s_recipes_record_them_as_the_scripts_write_them(
        harness, compare_deep_sad):
    """The cell files at the two experiments' current recipes (the Deep SVDD fidelity recipe,
    the Deep SAD README's) carry the recipe label the scripts write today, to the character,
    and the batch order of their reference, as ``--reference-cells`` matches them (with the
    ``cpu`` that files written before that column do not record, so they are read, not reused)."""
    by_class = load_fidelity_script("by_class")
    labels = {"deep_svdd": harness.recipe_label(harness.load_recipe(), "deep svdd"),
              "deep_sad": harness.recipe_label(compare_deep_sad.RECIPE, "deep sad")}
    files = [path for path in sorted((FIDELITY / "cells").glob("*.csv"))
             if path.name.startswith("deep_svdd") or "readme" in path.name and "div10" not in path.name]
    assert len(files) == 18  # 16 at the Deep SAD README recipe (two with the transfer), 2 at the Deep SVDD one
    for path in files:
        cells = by_class.read_cells([path])
        method = "deep_svdd" if path.name.startswith("deep_svdd") else "deep_sad"
        assert {cell["recipe"] for cell in cells} == {labels[method]}, path.name
        assert {cell["order"] for cell in cells} <= {"own", "ocbench's", "the reference's, replayed"} \
            and all(c["order"] for c in cells), path.name
        with open(path) as handle:
            rows = list(csv.DictReader(handle))
        if "cpu" in rows[0]:  # a file written since that column names the CPU in every row
            assert all(row["cpu"] for row in rows), path.name
        if method == "deep_sad":  # and whether ocbench started from the pretrained encoder
            assert {row["ocbench_pretrain"] for row in rows} <= {"true", "false"}, path.name


def test_transfer_start_scores_as_deep_sad_does_before_its_first_step(tmp_path):
    """``transfer_start.py``'s start AUROC is that of ``DeepSAD``'s own network and centre
    right after ``begin_fit``, with the pretrained encoder and without it; the two differ,
    so the transfer really changes where training starts."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from ocbench.detectors.autoencoder import AutoencoderDetector
    from ocbench.detectors.deep_sad import DeepSAD

    script = load_fidelity_script("transfer_start")
    rng = np.random.default_rng(0)
    x_train = rng.random((64, 28, 28), dtype=np.float32)
    x_test = np.concatenate([rng.random((20, 28, 28), dtype=np.float32),
                             rng.random((20, 28, 28), dtype=np.float32) ** 3])  # darker: the anomalies
    y_test = np.repeat([0, 1], 20)
    path = tmp_path / "autoencoder.pt"
    AutoencoderDetector(net="fmnist_lenet", epochs=2, batch_size=32, seed=0).fit(x_train).save(path)
    starts = []
    for autoencoder in (path, None):
        detector = DeepSAD(net="fmnist_lenet", init="deep_sad", seed=1, autoencoder=autoencoder)
        detector.begin_fit(x_train, np.zeros(len(x_train)))
        expected = 100 * roc_auc_score(y_test, detector._score(detector.as_input(x_test)))
        starts.append(script.start_auroc(autoencoder, 1, x_train, x_test, y_test))
        assert starts[-1] == pytest.approx(expected, abs=1e-9)
    assert starts[0] != starts[1]


def test_compare_pretraining_trains_ocbench_s_autoencoder_on_the_reference_s_schedule_and_records_the_order(
        tmp_path, monkeypatch):
    """``compare_pretraining --same-order --reference-schedule``: the reference's autoencoder
    trains on the recipe's milestones and ocbench's batches, ocbench's one epoch earlier;
    the rows record order and ocbench's milestones."""
    script = load_fidelity_script("compare_pretraining")
    calls = []
    monkeypatch.setattr(script, "check_mirror", lambda mirror: None)
    monkeypatch.setattr(script, "fmnist_arrays", lambda mirror: None)
    monkeypatch.setattr(script, "draw", lambda arrays, normal_class, seed: normal_class)
    monkeypatch.setattr(script, "run_reference_pretraining", lambda checkout, data, seed, recipe, same_order, arithmetic: (
        calls.append(("reference", data, recipe["autoencoder"]["milestones"], same_order, arithmetic)) or 80.0))
    monkeypatch.setattr(script, "run_ocbench_pretraining", lambda data, seed, recipe, arithmetic: (
        calls.append(("ocbench", data, recipe["autoencoder"]["milestones"], arithmetic)) or 80.5))
    monkeypatch.setattr(torch, "set_num_threads", lambda threads: None)
    out = tmp_path / "out.csv"
    script.main(["--reference", str(tmp_path), "--classes", "3", "--seeds", "1", "--same-order",
                 "--reference-schedule", "--ae-epochs", "30", "--out", str(out)])
    assert calls == [("reference", 3, [10], True, "float32"), ("ocbench", 3, [9], "float32")]
    (row,) = csv.DictReader(out.open())
    assert (row["method"], row["difference"], row["order"], row["ocbench_milestones"], row["arithmetic"],
            row["cpu"]) == ("autoencoder", "0.5", "ocbench's", "9", "float32", script.cpu_label())
    with pytest.raises(SystemExit):  # the workflow's autoencoders are float32
        script.main(["--reference", str(tmp_path), "--results", str(tmp_path), "--arithmetic", "float64",
                     "--out", str(out)])


def test_compare_pretraining_s_arithmetic_changes_ocbench_s_start_as_it_says_and_then_nothing(tmp_path):
    """``--arithmetic``: ``nudged`` moves every initial weight of ocbench's autoencoder exactly one
    float32 step up, ``float64`` converts the same draws and the inputs to float64, ``float32``
    leaves them; after each, ocbench's own path is untouched again."""
    import numpy as np

    from ocbench.detectors.autoencoder import AutoencoderDetector

    script = load_fidelity_script("compare_pretraining")
    x = np.random.default_rng(0).random((20, 28, 28), dtype=np.float32)

    def start(arithmetic):
        detector = AutoencoderDetector(net="fmnist_lenet", init="deep_sad", seed=1)
        with script.ocbench_arithmetic(arithmetic):
            (inputs,), _ = detector.begin_fit(x, None)
        return inputs, {name: weight.detach().clone() for name, weight in detector.autoencoder_.named_parameters()}

    plain_inputs, plain = start("float32")
    nudged_inputs, nudged = start("nudged")
    wide_inputs, wide = start("float64")
    assert plain_inputs.dtype == nudged_inputs.dtype == torch.float32 and wide_inputs.dtype == torch.float64
    assert torch.equal(wide_inputs, plain_inputs.double())
    for name, weight in plain.items():
        assert torch.equal(nudged[name], torch.nextafter(weight, torch.full_like(weight, float("inf")))), name
        assert (nudged[name] > weight).all(), name
        assert wide[name].dtype == torch.float64 and torch.equal(wide[name], weight.double()), name
    again_inputs, again = start("float32")  # patches undone
    assert again_inputs.dtype == torch.float32 and all(torch.equal(again[n], plain[n]) for n in plain)


def test_cpu_label_names_the_processor_and_the_instructions_torch_s_kernels_take(harness, monkeypatch):
    """Every cell's ``cpu``: the processor's model name and torch's CPU capability, which picks
    the float32 kernels; ``platform.processor()`` where ``/proc/cpuinfo`` has no model name."""
    monkeypatch.setattr(harness, "_cpuinfo", lambda: "processor\t: 0\nmodel name\t: Example CPU 9000\nflags\t: x\n")
    monkeypatch.setattr(harness.torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    assert harness.cpu_label() == "Example CPU 9000 (AVX512)"
    monkeypatch.setattr(harness, "_cpuinfo", lambda: "")
    monkeypatch.setattr(harness.platform, "processor", lambda: "arm")
    assert harness.cpu_label() == "arm (AVX512)"


def reference_fmnist_autoencoder_forward(autoencoder, x):
    """The reference's ``FashionMNIST_LeNet`` then its decoder, layer by layer on ocbench's layers."""
    codes = reference_encoder_forward("fmnist_lenet", autoencoder.encoder, x)
    return reference_decoder_forward("fmnist_lenet", autoencoder.decoder, codes)


def test_the_harness_s_plain_layers_run_the_reference_s_operations_bit_for_bit_and_are_undone(harness):
    """``--arithmetic float32-plain``: inside ``harness.plain_layers`` ocbench's Fashion-MNIST autoencoder
    holds NCHW weights, and its reconstructions and weight gradients equal, bit for bit, those of
    the reference's forward written out on the same layers; outside, ocbench's own channels-last,
    fused path is back (its weights channels-last, its gradients only close)."""
    from ocbench.detectors.autoencoder import autoencoder_loss
    from ocbench.nets import build_autoencoder

    script = load_fidelity_script("compare_pretraining")
    assert script.ARITHMETIC["float32-plain"][1:] == (torch.float32, True)
    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))

    def gradients(autoencoder, forward):
        autoencoder.zero_grad()
        loss = forward(autoencoder, x)
        loss.backward()
        return loss, {name: weight.grad.clone() for name, weight in autoencoder.named_parameters()}

    def ocbench_loss(autoencoder, inputs):
        return autoencoder_loss(autoencoder, inputs, "mean")

    def reference_loss(autoencoder, inputs):  # its AETrainer's, line for line
        rec_loss = nn.MSELoss(reduction="none")(reference_fmnist_autoencoder_forward(autoencoder, inputs), inputs)
        return torch.mean(rec_loss)

    with harness.plain_layers():
        torch.manual_seed(1)
        plain = build_autoencoder("fmnist_lenet")
        assert all(w.is_contiguous() for w in plain.parameters())
        assert torch.equal(plain(x), reference_fmnist_autoencoder_forward(plain, x))
        ours, our_gradients = gradients(plain, ocbench_loss)
    theirs, their_gradients = gradients(plain, reference_loss)
    assert torch.equal(ours, theirs)
    assert all(torch.equal(our_gradients[n], their_gradients[n]) for n in our_gradients)

    torch.manual_seed(1)
    fast = build_autoencoder("fmnist_lenet")  # the same draws, ocbench's own path again
    assert fast.decoder.deconv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert not fast.decoder.deconv1.weight.is_contiguous()
    fast_loss, fast_gradients = gradients(fast, ocbench_loss)
    assert fast_loss.item() == pytest.approx(theirs.item(), rel=1e-5)
    assert all(torch.allclose(fast_gradients[n], their_gradients[n], rtol=1e-3, atol=1e-6) for n in fast_gradients)
    assert not all(torch.equal(fast_gradients[n], their_gradients[n]) for n in fast_gradients)


def test_every_committed_arithmetic_file_names_its_arithmetic_and_its_recipe_once_a_row():
    """``arithmetic/`` holds one (class, seed) in several arithmetics (``compare_pretraining.py
    --arithmetic``) and recipes: each row says which, as the script's choices spell them, once."""
    choices = set(load_fidelity_script("compare_pretraining").ARITHMETIC)
    files = sorted((FIDELITY / "arithmetic").glob("*.csv"))
    assert files
    for path in files:
        with open(path) as handle:
            rows = list(csv.DictReader(handle))
        assert rows and all(int(row["threads"]) >= 1 and row["arithmetic"] in choices for row in rows), path.name
        keys = [(row["class"], row["seed"], row["method"], row["recipe"], row["arithmetic"]) for row in rows]
        assert len(set(keys)) == len(keys), path.name


#: where the stand-ins below write which process ran them (set by the test before the workers fork)
SIDE_BY_SIDE_LOG = None


def reference_stand_in(checkout, data, seed, recipe, same_order, arithmetic):
    with open(SIDE_BY_SIDE_LOG, "a") as log:
        log.write(f"reference {os.getpid()} {torch.get_num_threads()}\n")
    return 80.0 + data


def ocbench_stand_in(data, seed, recipe, arithmetic):
    with open(SIDE_BY_SIDE_LOG, "a") as log:
        log.write(f"ocbench {os.getpid()} {torch.get_num_threads()}\n")
    return 80.5 + data


def test_compare_pretraining_side_by_side_runs_the_two_codes_in_two_processes_and_writes_the_same_rows(
        tmp_path, monkeypatch):
    """``--side-by-side``: each cell's two codes run in two worker processes of ``--threads``
    threads each, not in the script's own, and the rows are those of the plain run."""
    script = load_fidelity_script("compare_pretraining")
    monkeypatch.setitem(globals(), "SIDE_BY_SIDE_LOG", tmp_path / "processes.txt")
    monkeypatch.setattr(script, "check_mirror", lambda mirror: None)
    monkeypatch.setattr(script, "fmnist_arrays", lambda mirror: None)
    monkeypatch.setattr(script, "draw", lambda arrays, normal_class, seed: normal_class)
    monkeypatch.setattr(script, "run_reference_pretraining", reference_stand_in)
    monkeypatch.setattr(script, "run_ocbench_pretraining", ocbench_stand_in)
    runs = side_by_side_and_plain(script, ["--reference", str(tmp_path), "--classes", "1,2", "--seeds", "1",
                                           "--threads", "1"], tmp_path)
    assert len({pid for _, pid, _ in runs}) <= 2  # the pool's two workers (a quick one may take both codes)


def side_by_side_and_plain(script, arguments: list[str], tmp_path) -> list[list[str]]:
    """Run ``script.main`` plain, then ``--side-by-side``; check that the rows are the same and
    that each code ran twice (two cells) in a worker process of one thread, not in this one;
    return the runs' (code, process, threads) from ``SIDE_BY_SIDE_LOG``."""
    threads = torch.get_num_threads()
    try:
        script.main(arguments + ["--out", str(tmp_path / "plain.csv")])
        (tmp_path / "processes.txt").unlink()
        script.main(arguments + ["--side-by-side", "--out", str(tmp_path / "side_by_side.csv")])
    finally:
        torch.set_num_threads(threads)
    assert (tmp_path / "side_by_side.csv").read_text() == (tmp_path / "plain.csv").read_text()
    runs = [line.split() for line in (tmp_path / "processes.txt").read_text().splitlines()]
    assert sorted(code for code, _, _ in runs) == ["ocbench", "ocbench", "reference", "reference"]
    assert all(pid != str(os.getpid()) and threads_there == "1" for _, pid, threads_there in runs)
    return runs


def deep_sad_reference_stand_in(checkout, data, seed, recipe, order, pretraining, arithmetic):
    return reference_stand_in(checkout, data, seed, recipe, order, arithmetic)


def deep_sad_ocbench_stand_in(data, seed, recipe, replay, arithmetic):
    return ocbench_stand_in(data, seed, recipe, arithmetic)


def test_compare_deep_sad_side_by_side_runs_the_two_codes_in_two_processes_and_writes_the_same_rows(
        compare_deep_sad, tmp_path, monkeypatch):
    """The same for the Deep SAD script: two worker processes of ``--threads`` threads, the
    rows of the plain run."""
    monkeypatch.setitem(globals(), "SIDE_BY_SIDE_LOG", tmp_path / "processes.txt")
    for name, stub in {"check_mirror": lambda mirror: None, "fmnist_arrays": lambda mirror: None,
                       "draw": lambda arrays, normal_class, seed: normal_class,
                       "run_reference": deep_sad_reference_stand_in,
                       "run_ocbench": deep_sad_ocbench_stand_in}.items():
        monkeypatch.setattr(compare_deep_sad, name, stub)
    side_by_side_and_plain(compare_deep_sad, ["--reference", str(tmp_path), "--classes", "1,2", "--seeds", "1",
                                              "--threads", "1", "--same-order", "--arithmetic", "float64"], tmp_path)


def test_compare_pretraining_reads_only_an_autoencoder_of_the_recipe_from_the_workflow(tmp_path):
    """``--results``: the autoencoder the cell's Deep SAD run was handed is scored on the test
    split; one trained on another recipe is refused, naming the file and the value."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from ocbench.detectors.autoencoder import AutoencoderDetector

    script = load_fidelity_script("compare_pretraining")
    ae = script.RECIPE["autoencoder"]
    rng = np.random.default_rng(0)
    x_train = rng.random((40, 28, 28), dtype=np.float32)
    x_test, y_test = rng.random((30, 28, 28), dtype=np.float32), np.repeat([0, 1], 15)
    detector = AutoencoderDetector(net="fmnist_lenet", lr=ae["lr"], epochs=1, milestones=tuple(ae["milestones"]),
                                   batch_size=ae["batch_size"], weight_decay=ae["weight_decay"], drop_last=False,
                                   loss="mean", init="deep_sad", seed=1).fit(x_train)
    run = tmp_path / "runs" / "fmnist" / "gamma_l_0.01.k3" / "2" / "seed1" / "deep_sad" / "cpu"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text("{}")
    (run / "params.json").write_text(json.dumps({"autoencoder": str(tmp_path / "ae.pt")}))
    data = (x_train, None, x_test, y_test)
    detector.save(tmp_path / "ae.pt")  # one epoch: not the recipe's
    with pytest.raises(SystemExit, match=r"ae.pt: epochs 1; the reference side trains with 150"):
        script.ocbench_pretraining_from_results(tmp_path, 2, 1, data, script.RECIPE)
    detector.set_params(epochs=ae["epochs"], drop_last=ae["drop_last"])  # its record now says the recipe
    detector.save(tmp_path / "ae.pt")
    assert script.ocbench_pretraining_from_results(tmp_path, 2, 1, data, script.RECIPE) == \
        pytest.approx(100 * roc_auc_score(y_test, detector.decision_function(x_test)))
