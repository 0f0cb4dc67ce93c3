"""Extending the LRP core: a new rule is one class plus one registration, a
new layer type one registration; the core stands alone (torch only).

Oracles: LRP-0 equals gradient x input for piecewise-linear networks
through the origin (LeakyReLU included); LRP-gamma at gamma = 0 is LRP-0,
and for gamma > 0 it conserves relevance in a bias-free network.
"""
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

from conftest import ROOT, gradient_x_input
from mmseg_lrp.lrp import (CLASSIFIER, Family, LayerRecord, LinearRule,
                           LRPPropagator, ResidualBlock, RuleMap,
                           TapeRecorder, check_encoder, op_record,
                           register_family, register_rule, rule_targets,
                           rules, unregister_family, unsupported_layers)
from mmseg_lrp.lrp.rules import qualname


@pytest.fixture
def registry():
    """Forget the rules and families a test registers."""
    from mmseg_lrp.lrp.archs import FAMILIES
    saved = dict(rules.RULES), dict(FAMILIES)
    yield
    rules.RULES.clear()
    rules.RULES.update(saved[0])
    for name in set(FAMILIES) - set(saved[1]):
        unregister_family(name)


def net(act=nn.ReLU, bias=True):
    torch.manual_seed(0)
    enc = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=bias), act(),
        nn.MaxPool2d(2), nn.Conv2d(8, 12, 3, padding=1, bias=bias), act(),
        nn.Conv2d(12, 16, 3, stride=2, padding=1, bias=bias), act())
    return (enc.double(), nn.AdaptiveAvgPool2d(1),
            nn.Linear(16, 5, bias=bias).double())


def heatmaps(enc, pool, fc, x, rules_cfg=(), epsilon=1e-12):
    with TapeRecorder(enc) as rec:
        feat = enc(x)
    tape = rec.tape
    pooled = tape.record(pool, feat, pool(feat), CLASSIFIER + 'pool')
    logits = tape.record(fc, pooled.flatten(1), fc(pooled.flatten(1)),
                         CLASSIFIER + 'fc')
    return LRPPropagator(epsilon, rules_cfg).heatmaps(tape), logits


def grad_x_input(enc, pool, fc, x):
    x = x.clone().requires_grad_(True)
    return gradient_x_input(fc(pool(enc(x)).flatten(1)), x)


def register_toy_gamma():
    """The docs' worked example (docs/model.md): LRP-gamma for conv and
    linear layers, as the template's modified forward."""

    @register_rule('toy_gamma')
    class Gamma(LinearRule):
        exact = False  # z is the modified forward's: the bias takes none

        def __init__(self, gamma: float = 0.25) -> None:
            if gamma < 0:
                raise ValueError(f'gamma must be >= 0, got {gamma}')
            self.gamma = gamma

        def terms(self, a, w):
            return [(a, w + self.gamma * w.clamp(min=0))]

    return Gamma


def test_a_registered_toy_rule_is_used_by_name(registry):
    register_toy_gamma()
    enc, pool, fc = net(bias=False)
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    H0, _ = heatmaps(enc, pool, fc, x, [dict(layers='*', type='toy_gamma',
                                             gamma=0.)])
    torch.testing.assert_close(H0, grad_x_input(enc, pool, fc, x))
    H, z = heatmaps(enc, pool, fc, x, [dict(layers='*', type='toy_gamma',
                                            gamma=0.5)])
    assert (H - H0).abs().max() > 1e-3 * H0.abs().max()  # the rule ran
    # conservation in a bias-free network: sum of H_k is the logit z_k
    torch.testing.assert_close(H.sum((2, 3)), z)
    with pytest.raises(ValueError, match=r'rules\[0\].*gamma must be'):
        LRPPropagator(1e-9, [dict(layers='*', type='toy_gamma', gamma=-1)])


def test_a_new_layer_type_is_one_family_entry(registry):
    enc, pool, fc = net(act=lambda: nn.LeakyReLU(0.1))
    assert ('1', 'LeakyReLU') in unsupported_layers(enc)
    with pytest.raises(ValueError, match='no LRP rule.*LeakyReLU'):
        check_encoder(enc)
    register_family(Family('leaky', layers=((nn.LeakyReLU, 'pass'), )))
    assert unsupported_layers(enc) == []
    check_encoder(enc)
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    H, _ = heatmaps(enc, pool, fc, x)
    torch.testing.assert_close(H, grad_x_input(enc, pool, fc, x))


# -- a new architecture family, registered from outside the package ---------
class MixBlock(nn.Module):
    """``relu(x + conv2(leaky(conv1(x))))``: a residual block."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.act = nn.LeakyReLU(0.2)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.conv2(self.act(self.conv1(x))))


class MixNet(nn.Module):
    """A stem, functional glue (the channels and their mirror image
    stacked: ``cat([x, flip(x)])``), two residual blocks."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.blocks = nn.Sequential(MixBlock(8), MixBlock(8))

    def forward(self, x):
        x = self.stem(x)
        return self.blocks(torch.cat([x, x.flip(1)], 1))


class MixNetAdapter:
    """The family's one piece of architecture knowledge beyond the block:
    the glue between ``stem`` and ``blocks`` as an operation record."""

    @staticmethod
    def fn(t):
        return torch.cat([t, t.flip(-3)], -3)

    def hooks(self, module):
        return []

    def ops(self, module, name):
        return [('mix', module, 'epsilon')]

    def build(self, module, name, records, inputs, output):
        i = next(i for i, r in enumerate(records) if r.module is module.stem)
        glue = op_record(module, records[i].output, records[i + 1].input,
                         'mix', self.fn, 'epsilon')
        return records[:i + 1] + [glue] + records[i + 1:]


def mix_family():
    return Family(
        'mixnet',
        encoders={qualname(MixNet): None},
        blocks={qualname(MixNet): MixNetAdapter(),
                qualname(MixBlock): ResidualBlock(lambda b: b.conv2,
                                                  lambda b: None)},
        layers=((nn.LeakyReLU, 'pass'), ))


def test_a_new_family_is_one_registration(registry):
    torch.manual_seed(0)
    enc = MixNet().double()
    pool, fc = nn.AdaptiveAvgPool2d(1), nn.Linear(8, 4).double()
    with pytest.raises(ValueError, match='unsupported backbone.*MixNet'):
        check_encoder(enc)
    register_family(mix_family())
    check_encoder(enc)
    x = torch.randn(2, 3, 10, 12, dtype=torch.float64)
    H, _ = heatmaps(enc, pool, fc, x)
    G = grad_x_input(enc, pool, fc, x)
    assert G.abs().max() > 1e-3
    torch.testing.assert_close(H, G, rtol=1e-10, atol=1e-10)
    # its operation is a rule target; a rule that cannot decode it is
    # refused when the rule map is checked, one that can is used
    targets = rule_targets(enc)
    RuleMap([dict(layers='mix', type='epsilon', epsilon=1e-3)]).check(
        targets)
    with pytest.raises(ValueError, match=r"'zplus' cannot decode.*mix "
                       r'\(MixNet\).*rules that can: .*epsilon'):
        RuleMap([dict(layers='mix', type='zplus')]).check(targets)
    with pytest.raises(ValueError, match="matches no layer.*blocks.0.conv1"):
        RuleMap([dict(layers='blocks.0.conv9', type='zplus')]).check(
            targets)
    H2, _ = heatmaps(enc, pool, fc, x,
                     [dict(layers='mix', type='epsilon', epsilon=1.)])
    assert (H2 - H).abs().max() > 1e-6 * H.abs().max()
    # a template rule for layers (the docs' gamma) leaves operations alone
    register_toy_gamma()
    H3, _ = heatmaps(enc, pool, fc, x, [dict(layers='*', type='toy_gamma',
                                             gamma=0.5)])
    H4, _ = heatmaps(enc, pool, fc, x, [
        dict(layers=p, type='toy_gamma', gamma=0.5)
        for p in ('stem', 'blocks.*')])
    assert torch.isfinite(H3).all()
    torch.testing.assert_close(H3, H4, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="'toy_gamma' cannot decode.*mix"):
        RuleMap([dict(layers='mix', type='toy_gamma')]).check(targets)
    with pytest.raises(KeyError, match='mixnet'):
        register_family(mix_family())  # a second family of that name


def test_families_and_layer_maps_are_values(registry):
    """A rule map takes the layer map it is given; registering a family
    later does not change rule maps built before."""
    leaky = nn.LeakyReLU()
    t = torch.zeros(1, 2)
    rec = LayerRecord(leaky, t, t, 'x')
    before = RuleMap()
    register_family(Family('leaky', layers=((nn.LeakyReLU, 'pass'), )))
    with pytest.raises(NotImplementedError, match='no LRP rule for x'):
        before.rule_for(rec)
    assert type(RuleMap().rule_for(rec)).__name__ == 'Pass'
    assert type(RuleMap(layer_map=((nn.LeakyReLU, 'gate'), )).rule_for(
        rec)).__name__ == 'Gate'


def test_rule_map_names_then_types():
    conv, bn = nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2)
    fc = nn.Conv2d(2, 3, 1)
    t = torch.zeros(1, 2, 1, 1)
    rule_map = RuleMap([dict(layers='layer4.*', type='alpha_beta',
                             alpha=2., beta=1.),
                        dict(layers='*', type='zplus')])

    def rule(module, name):
        return type(rule_map.rule_for(LayerRecord(module, t, t, name)))

    assert rule(conv, 'layer4.0.conv1').__name__ == 'AlphaBeta'
    assert rule(conv, 'layer1.0.conv1').__name__ == 'ZPlus'
    # a name rule only applies to layer types it supports
    assert rule(bn, 'layer1.0.bn1').__name__ == 'BatchNorm'
    # the classifier keeps its default unless named explicitly
    assert rule(fc, CLASSIFIER + 'fc').__name__ == 'Epsilon'
    assert type(RuleMap([dict(layers=CLASSIFIER + '*', type='zplus')])
                .rule_for(LayerRecord(fc, t, t, CLASSIFIER + 'fc'))
                ).__name__ == 'ZPlus'
    with pytest.raises(ValueError, match='alpha - beta must be 1'):
        RuleMap([dict(layers='*', type='alpha_beta', alpha=1.5, beta=1.)])
    with pytest.raises(ValueError, match=r"rules\[0\].*unexpected.*'gama'"):
        RuleMap([dict(layers='*', type='epsilon', gama=1.)])
    with pytest.raises(ValueError, match='needs layers='):
        RuleMap([dict(type='zplus')])


def test_unrecorded_operations_and_missing_pieces_are_errors():
    """A flatten before the classifier is undone; a permutation between
    recorded layers is not a reshape and is refused by name; a tape
    without the classifier, or untied weights without the layer's copy,
    are errors rather than silently wrong heatmaps."""

    class Permuting(nn.Module):

        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 4, 3, padding=1)
            self.b = nn.Conv2d(6, 4, 1)

        def forward(self, x):  # (N, 4, 6, 6) -> (N, 6, 4, 6): no rule
            return self.b(self.a(x).transpose(1, 2))

    enc = Permuting().double()
    x = torch.randn(1, 3, 6, 6, dtype=torch.float64)
    with TapeRecorder(enc) as rec:
        feat = enc(x)
    tape = rec.tape
    prop = LRPPropagator(1e-9)
    with pytest.raises(ValueError, match='ends with the classifier'):
        prop.heatmaps(tape)
    pool, fc = nn.AdaptiveAvgPool2d(1), nn.Linear(4, 2).double()
    pooled = tape.record(pool, feat, pool(feat), CLASSIFIER + 'pool')
    tape.record(fc, pooled.flatten(1), fc(pooled.flatten(1)),
                CLASSIFIER + 'fc')
    with pytest.raises(RuntimeError, match=r'reaches a \(Conv2d\)'):
        prop.heatmaps(tape)
    with pytest.raises(KeyError, match='no untied decoder weight for b'):
        prop.heatmaps(tape, weights={'a': enc.a.weight})


def test_importing_the_package_patches_no_checkpoint_loader():
    code = ('import mmseg_lrp, mmseg_lrp.lrp\n'
            'from mmengine.runner.checkpoint import CheckpointLoader\n'
            'from mmseg_lrp.utils.checkpoint import load_from_local, '
            'register_checkpoint_loader\n'
            "before = CheckpointLoader._schemes['']\n"
            'register_checkpoint_loader()\n'
            "print(before is load_from_local, "
            "CheckpointLoader._schemes[''] is load_from_local)\n")
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert out.stdout.strip().splitlines()[-1] == 'False True', out.stdout


@pytest.mark.slow
def test_lrp_core_and_gpu_check_run_without_openmmlab():
    """The GPU check imports the LRP core and the benchmark harness with
    mmcv, mmseg, mmengine and mmpretrain unimportable (as on the GPU
    machine), and its gradient x input identity passes on the CPU."""
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'lrp_gpu_check.py')
    code = (
        'import runpy, sys\n'
        "for m in ('mmcv', 'mmseg', 'mmengine', 'mmpretrain'):\n"
        '    sys.modules[m] = None\n'
        "sys.argv = ['lrp_gpu_check.py', '--device', 'cpu', '--sizes', "
        "'32', '--iters', '1', '--num-classes', '3', '--chunks', '2']\n"
        'try:\n'
        f'    runpy.run_path({tool!r}, run_name="__main__")\n'
        'except SystemExit as e:\n'
        "    print('exit', e.code)\n")
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert out.stdout.count('(OK)') == 2, out.stdout[-3000:]
    assert 'exit 0' in out.stdout, out.stdout[-3000:]
    assert '| original |' in out.stdout


@pytest.mark.parametrize('mode', ['reflect', 'circular', 'same'])
def test_conv_padding_modes_are_exact(mode):
    """Conv2d with non-zero padding (reflect, circular) or string padding
    goes through the module's own convolution and autograd's adjoint."""
    torch.manual_seed(0)
    pad = 'same' if mode == 'same' else 1
    kw = {} if mode == 'same' else dict(padding_mode=mode)
    enc = nn.Sequential(nn.Conv2d(3, 6, 3, padding=pad, **kw), nn.ReLU(),
                        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU()).double()
    pool, fc = nn.AdaptiveAvgPool2d(1), nn.Linear(8, 3).double()
    x = torch.randn(2, 3, 9, 7, dtype=torch.float64)
    H, _ = heatmaps(enc, pool, fc, x)
    torch.testing.assert_close(H, grad_x_input(enc, pool, fc, x),
                               rtol=1e-10, atol=1e-10)


def test_resnet_drop_path_in_train_mode_is_exact():
    """mmpretrain's ResNet blocks end the residual branch with drop_path
    before the addition: with DropPath active (same random masks in both
    passes) LRP-0 still equals gradient x input."""
    pytest.importorskip('mmpretrain')
    from mmpretrain.models.backbones import ResNet
    torch.manual_seed(0)
    enc = ResNet(depth=18, drop_path_rate=0.5, out_indices=(3, )).double()
    check_encoder(enc, inplace_act='disable')
    enc.eval()
    for m in enc.modules():
        if type(m).__name__ == 'DropPath':
            m.train()
    pool, fc = nn.AdaptiveAvgPool2d(1), nn.Linear(512, 3).double()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)

    def run(x):
        torch.manual_seed(5)
        return enc(x)[-1]

    with TapeRecorder(enc) as rec:
        feat = run(x)
    tape = rec.tape
    pooled = tape.record(pool, feat, pool(feat), CLASSIFIER + 'pool')
    tape.record(fc, pooled.flatten(1), fc(pooled.flatten(1)),
                CLASSIFIER + 'fc')
    H = LRPPropagator(1e-12).heatmaps(tape)
    xg = x.clone().requires_grad_(True)
    G = gradient_x_input(fc(pool(run(xg)).flatten(1)), xg)
    torch.testing.assert_close(H, G, rtol=1e-8, atol=1e-10)
