"""Networks: shapes of every registered net, the references' layer choices, and that the
fast decoder computation is the same function as the layer-by-layer one."""
import pytest
import torch
import torch.nn as nn

from ocbench.detectors.deep import transfer_encoder_weights
from ocbench.nets import NETS, build_autoencoder, build_network
from ocbench.nets.layers import BN_EPS, upsample, upsample_deconv

from helpers.lenet_reference import reference_decoder_forward, reference_encoder_forward

LENETS = [name for name in NETS if "_lenet" in name]


def sample_batch(name, n=4, seed=0):
    return torch.rand((n, *NETS[name].input_shape), generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- shapes

@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("train", [True, False])
def test_every_net_maps_a_batch_to_codes_and_back_to_the_input_shape(name, train):
    x = sample_batch(name)
    network, autoencoder = build_network(name), build_autoencoder(name)
    network.train(train)
    autoencoder.train(train)
    with torch.no_grad():
        codes, reconstruction = network(x), autoencoder(x)
    assert codes.shape == (4, network.rep_dim)
    assert reconstruction.shape == x.shape
    assert ((reconstruction > 0) & (reconstruction < 1)).all()  # the decoders end in a sigmoid


def test_lenet_code_sizes_are_the_references():
    assert {name: build_network(name).rep_dim for name in LENETS} == {
        "mnist_lenet": 32, "fmnist_lenet": 64, "cifar10_lenet": 128, "cifar10_lenet_elu": 128}


# --------------------------------------------------------------------------- the references' layers

@pytest.mark.parametrize("name", sorted(NETS))
def test_no_bias_and_no_affine_batch_norm_anywhere(name):
    autoencoder = build_autoencoder(name)
    layers = [m for m in autoencoder.modules() if hasattr(m, "bias")]
    norms = [m for m in autoencoder.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert layers and norms
    assert all(m.bias is None for m in layers)
    assert all(not m.affine and m.eps == BN_EPS == 1e-4 for m in norms)


def test_mnist_lenet_state_dict_keys_and_shapes_are_the_reference_layout():
    # The transposed convolutions keep ConvTranspose2d's (in, out, k, k) weights.
    shapes = {key: tuple(value.shape) for key, value in build_autoencoder("mnist_lenet").state_dict().items()
              if not key.endswith("num_batches_tracked")}
    assert shapes == {
        "encoder.conv1.weight": (8, 1, 5, 5), "encoder.bn1.running_mean": (8,), "encoder.bn1.running_var": (8,),
        "encoder.conv2.weight": (4, 8, 5, 5), "encoder.bn2.running_mean": (4,), "encoder.bn2.running_var": (4,),
        "encoder.fc1.weight": (32, 196),
        "decoder.deconv1.weight": (2, 4, 5, 5), "decoder.bn3.running_mean": (4,), "decoder.bn3.running_var": (4,),
        "decoder.deconv2.weight": (4, 8, 5, 5), "decoder.bn4.running_mean": (8,), "decoder.bn4.running_var": (8,),
        "decoder.deconv3.weight": (8, 1, 5, 5),
    }
    assert all(isinstance(getattr(build_autoencoder("mnist_lenet").decoder, f"deconv{i}"), nn.ConvTranspose2d)
               for i in (1, 2, 3))


# --------------------------------------------------------------------------- upsample + deconv as one conv

def test_upsample_deconv_on_a_hand_worked_example():
    # Ones 3x3 kernel, padding 1: a 3x3 box sum of the upsampled [[1, 2], [3, 4]].
    layer = nn.ConvTranspose2d(1, 1, 3, padding=1, bias=False)
    nn.init.ones_(layer.weight)
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = torch.tensor([[4.0, 8.0, 10.0, 8.0],
                             [10.0, 18.0, 21.0, 16.0],
                             [14.0, 24.0, 27.0, 20.0],
                             [12.0, 20.0, 22.0, 16.0]])
    assert torch.equal(layer(upsample(x))[0, 0], expected)
    assert torch.allclose(upsample_deconv(x, layer)[0, 0], expected, atol=1e-6)


@pytest.mark.parametrize("in_ch, out_ch, size, kernel, padding", [
    (2, 4, 4, 5, 2), (4, 8, 8, 5, 3), (8, 1, 14, 5, 2),   # the mnist decoder's three layers
    (3, 2, 5, 5, 0), (3, 2, 5, 5, 1), (3, 2, 5, 5, 4), (2, 3, 6, 3, 1), (2, 2, 3, 4, 1)])
def test_upsample_deconv_equals_upsample_then_transposed_convolution(in_ch, out_ch, size, kernel, padding):
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(in_ch, out_ch, kernel, padding=padding, bias=False).double()
    x = torch.randn(3, in_ch, size, size, dtype=torch.float64, requires_grad=True)
    reference = layer(upsample(x))
    grads_reference = torch.autograd.grad((reference ** 2).sum(), (x, layer.weight))
    fast = upsample_deconv(x, layer)
    grads_fast = torch.autograd.grad((fast ** 2).sum(), (x, layer.weight))
    assert fast.shape == reference.shape
    assert torch.allclose(fast, reference, rtol=0, atol=1e-10)
    for got, want in zip(grads_fast, grads_reference):
        assert torch.allclose(got, want, rtol=1e-10, atol=1e-9)


def test_upsample_deconv_refuses_a_layer_it_does_not_cover():
    with pytest.raises(ValueError, match="stride-1"):
        upsample_deconv(torch.zeros(1, 2, 4, 4), nn.ConvTranspose2d(2, 2, 5, stride=2, bias=False))


@pytest.mark.parametrize("name", LENETS)
@pytest.mark.parametrize("train", [True, False])
def test_lenet_autoencoders_compute_the_reference_forward(name, train):
    """Same weights, same outputs within 1e-5 (float32), in training and evaluation mode."""
    torch.manual_seed(1)
    autoencoder = build_autoencoder(name)
    with torch.no_grad():  # non-trivial running statistics for evaluation mode
        for m in autoencoder.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    autoencoder.train(train)
    x = sample_batch(name, n=6, seed=2).contiguous()
    state = {k: v.clone() for k, v in autoencoder.state_dict().items()}
    with torch.no_grad():
        codes = autoencoder.encoder(x)
        reconstruction = autoencoder.decoder(codes)
        autoencoder.load_state_dict(state)  # undo the running-statistics update of training mode
        reference_codes = reference_encoder_forward(name, autoencoder.encoder, x)
        reference_reconstruction = reference_decoder_forward(name, autoencoder.decoder, reference_codes)
    assert torch.allclose(codes, reference_codes, rtol=0, atol=1e-5)
    assert torch.allclose(reconstruction, reference_reconstruction, rtol=0, atol=1e-5)


def test_weights_saved_in_plain_layout_load_and_give_the_same_codes():
    """A state_dict of ordinary contiguous tensors (as another program would save) loads unchanged."""
    source = build_autoencoder("mnist_lenet").eval()
    plain = {key: value.contiguous() for key, value in source.state_dict().items()}
    target = build_autoencoder("mnist_lenet").eval()
    target.load_state_dict(plain, strict=True)
    x = sample_batch("mnist_lenet")
    with torch.no_grad():
        assert torch.equal(target(x), source(x))
        network = build_network("mnist_lenet").eval()
        transfer_encoder_weights(network, target)
        assert torch.equal(network(x), source.encoder(x))
