"""The parts of LRPTiedHead (models/utils/): checkpoint keys and the
classifier on a 2-D encoder output (e.g. a vision transformer's class
token)."""
import torch
import torch.nn as nn

from conftest import gradient_x_input
from mmseg_lrp.lrp import CLASSIFIER, Tape, TapeRecorder
from mmseg_lrp.models.utils.lrp_classifier import run_classifier
from mmseg_lrp.models.utils.lrp_features import LRPFeatures
from test_lrp_model import build

VGG16_CONVS = (0, 1, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16)
# decode_head.* of the VGG16 model with tie='original', fc_channels=(8, 6),
# heatmap_bias=True, in state_dict order (written out, not derived: released
# checkpoints and optimizer states depend on these names and this order)
HEAD_KEYS = [
    'decode_head.heatmap_bias',
    'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias',
    'decode_head.mlp.0.weight', 'decode_head.mlp.0.bias',
    'decode_head.mlp.3.weight', 'decode_head.mlp.3.bias',
    'decode_head.untied.classifier__fc',
    'decode_head.untied.classifier__mlp__0',
    'decode_head.untied.classifier__mlp__3',
    'decode_head.untied.features__0__conv',
    'decode_head.untied.features__10__conv',
    'decode_head.untied.features__11__conv',
    'decode_head.untied.features__12__conv',
    'decode_head.untied.features__14__conv',
    'decode_head.untied.features__15__conv',
    'decode_head.untied.features__16__conv',
    'decode_head.untied.features__1__conv',
    'decode_head.untied.features__3__conv',
    'decode_head.untied.features__4__conv',
    'decode_head.untied.features__6__conv',
    'decode_head.untied.features__7__conv',
    'decode_head.untied.features__8__conv',
]


def test_state_dict_keys_of_every_head_part():
    """The classifier (conv_seg, mlp), the untied decoder and the heatmap
    bias keep the keys (and order) the released checkpoints have."""
    model = build(decode_head=dict(tie='original', fc_channels=(8, 6),
                                   heatmap_bias=True))
    backbone = [f'backbone.features.{i}.conv.{p}' for i in VGG16_CONVS
                for p in ('weight', 'bias')]
    assert list(model.state_dict().keys()) == backbone + HEAD_KEYS
    assert [n for n, _ in model.named_parameters()] == backbone + HEAD_KEYS


def token_encoder():
    """conv -> ReLU -> global pooling -> flatten -> linear: its output is
    one ``(N, C)`` vector per image, as a class token is."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 6)).double()


def test_classifier_records_a_2d_output_as_a_1x1_map():
    enc, pool = token_encoder(), nn.AdaptiveAvgPool2d(1)
    fc = nn.Conv2d(6, 4, 1).double()
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    with TapeRecorder(enc) as rec:
        token = enc(x)
    tape: Tape = rec.tape
    encoder_records = len(tape)
    logits = run_classifier(pool, None, fc, token, tape)
    assert logits.shape == (2, 4)
    assert [r.name for r in tape[encoder_records:]] == [
        CLASSIFIER + 'pool', CLASSIFIER + 'fc']
    assert tape[encoder_records].input.shape == (2, 6, 1, 1)
    torch.testing.assert_close(tape[encoder_records].input.flatten(1), token)
    assert tape.has_classifier()
    assert tape[-1].module is fc
    torch.testing.assert_close(tape.output().flatten(1), logits)
    torch.testing.assert_close(
        logits, fc(token[:, :, None, None]).flatten(1))


def test_head_decodes_a_2d_encoder_output():
    """Through the head (classify, decode) the relevance crosses the
    reshape from the pooling's (N, C, 1, 1) input back to the token: LRP-0
    equals gradient x input of encoder + classifier."""
    from mmseg.registry import MODELS
    head = MODELS.build(dict(type='LRPTiedHead', in_channels=6,
                             num_classes=4, epsilon=1e-12)).double()
    head.eval()
    enc = token_encoder()
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    with TapeRecorder(enc) as rec:
        feats = LRPFeatures((enc(x), ), rec.tape)
    z = head.classify(feats)
    assert rec.tape.has_classifier()
    H = head.decode(feats)
    x = x.clone().requires_grad_(True)
    ref = gradient_x_input(head.classify((enc(x), )), x)
    assert H.shape == (2, 4, 16, 16)
    torch.testing.assert_close(H, ref)
    assert torch.equal(head.classify(feats), z)  # recorded once
