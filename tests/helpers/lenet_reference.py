"""The references' LeNet encoders and decoders, layer by layer on ocbench's layers: the plain
computation that ocbench's fused, channels-last forward must equal (``tests/unit/test_nets.py``)
and that ``harness.plain_layers`` must reproduce bit for bit."""
import torch.nn.functional as F

from ocbench.nets.layers import lrelu, upsample


def reference_decoder_forward(name, decoder, z):
    """The decoders exactly as REFERENCE.md spells them, layer by layer."""
    if name == "mnist_lenet":
        x = upsample(lrelu(z.view(z.size(0), 2, 4, 4)))
        x = upsample(lrelu(decoder.bn3(decoder.deconv1(x))))
        x = upsample(lrelu(decoder.bn4(decoder.deconv2(x))))
        return decoder.deconv3(x).sigmoid()
    if name == "fmnist_lenet":
        x = upsample(lrelu(decoder.bn4(decoder.fc3(z)).view(z.size(0), 8, 4, 4)))
        x = upsample(lrelu(decoder.bn5(decoder.deconv1(x))))
        x = upsample(lrelu(decoder.bn6(decoder.deconv2(x))))
        return decoder.deconv3(x).sigmoid()
    act = activation(name)
    x = act(z.view(z.size(0), 8, 4, 4))
    x = upsample(act(decoder.bn4(decoder.deconv1(x))))
    x = upsample(act(decoder.bn5(decoder.deconv2(x))))
    x = upsample(act(decoder.bn6(decoder.deconv3(x))))
    return decoder.deconv4(x).sigmoid()


def activation(name):
    """The Deep SVDD reference's cifar10_LeNet_ELU uses F.elu where every other LeNet uses leaky ReLU."""
    return F.elu if name.endswith("_elu") else lrelu


def reference_encoder_forward(name, encoder, x):
    act = activation(name)
    x = F.max_pool2d(act(encoder.bn1(encoder.conv1(x))), 2)
    x = F.max_pool2d(act(encoder.bn2(encoder.conv2(x))), 2)
    if name.startswith("cifar10"):
        x = F.max_pool2d(act(encoder.bn3(encoder.conv3(x))), 2)
        return encoder.fc1(x.flatten(1))
    if name == "fmnist_lenet":
        return encoder.fc2(lrelu(encoder.bn3(encoder.fc1(x.flatten(1)))))
    return encoder.fc1(x.flatten(1))
