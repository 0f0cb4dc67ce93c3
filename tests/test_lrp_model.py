"""The mmseg components: LRPEncoderDecoder + LRPTiedHead + SegClsLoss."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import PixelData

import mmseg_lrp.plugin  # noqa: F401
from conftest import ROOT, gradient_x_input
from mmseg.structures import SegDataSample

MODELS_DIR = osp.join(ROOT, 'configs', '_base_', 'models')


def build(name='unrolled-lrp_vgg16.py', num_classes=5, double=True,
          **overrides):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(MODELS_DIR, name))
    cfg.model.decode_head.num_classes = num_classes
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.merge_from_dict(dict(model=overrides))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.double() if double else model


def batch(n, labelled, size=(64, 64), num_classes=5, seed=0, present=None):
    """Random inputs and masks (255 borders) for the samples in
    ``labelled``; ``present``: per-sample class tuples (cycled) the masks
    draw from instead of all classes."""
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(n):
        seg = torch.full((1, ) + size, 255)
        if i in labelled and present is None:
            seg = torch.randint(0, num_classes, (1, ) + size, generator=g)
        elif i in labelled:
            cls = torch.tensor(present[i % len(present)])
            seg = cls[torch.randint(0, len(cls), (1, ) + size, generator=g)]
        if i in labelled:
            seg[:, :4] = 255
        samples.append(
            SegDataSample(
                metainfo=dict(img_shape=size, ori_shape=size,
                              pad_shape=size),
                gt_sem_seg=PixelData(data=seg)))
    inputs = torch.rand((n, 3) + size, generator=g, dtype=torch.float64)
    return inputs, samples


def oracle_heatmaps(model, x, create_graph=False):
    """gradient x input of backbone -> GAP -> conv_seg, per class."""
    x = x.detach().clone().requires_grad_(True)
    feat = model.backbone(x)[-1]
    z = model.decode_head.conv_seg(F.adaptive_avg_pool2d(feat, 1)).flatten(1)
    return gradient_x_input(z, x, create_graph)


@pytest.mark.parametrize('name', ['unrolled-lrp_vgg16.py',
                                  'unrolled-lrp_r50.py'])
def test_tensor_mode_heatmaps_equal_gradient_x_input(name):
    model = build(name, decode_head=dict(epsilon=1e-12))
    model.eval()
    x = torch.randn(2, 3, 64, 96, dtype=torch.float64)
    with torch.no_grad():
        H = model(x, mode='tensor')
    ref = oracle_heatmaps(model, x)
    assert H.shape == (2, 5, 64, 96)
    assert ((H - ref).abs().max() / ref.abs().max()) < 1e-5


@pytest.mark.parametrize('scale', ['pixels', 2.5])
def test_heatmap_scale_multiplies_the_oracle_and_keeps_predictions(scale):
    model = build(decode_head=dict(epsilon=1e-12, heatmap_scale=scale))
    model.eval()
    x = torch.randn(2, 3, 64, 96, dtype=torch.float64)
    with torch.no_grad():
        H = model(x, mode='tensor')
        pred = model.predict(x)
    factor = 64 * 96 if scale == 'pixels' else scale
    ref = oracle_heatmaps(model, x) * factor
    assert ((H - ref).abs().max() / ref.abs().max()) < 1e-5
    # a positive factor leaves the per-pixel argmax alone
    for i, p in enumerate(pred):
        assert torch.equal(p.pred_sem_seg.data[0], ref[i].argmax(0))
    with pytest.raises(ValueError, match='heatmap_scale'):
        build(decode_head=dict(heatmap_scale=-1.0))


def test_heatmap_bias_offsets_the_logits_and_learns():
    """heatmap_bias adds one learnt offset per class to the (scaled)
    heatmaps: logits = scale * H + b; it is a checkpoint key, receives a
    gradient from the segmentation loss, and is absent by default."""
    model = build(decode_head=dict(epsilon=1e-12, heatmap_scale=2.0,
                                   heatmap_bias=True))
    bias = model.decode_head.heatmap_bias
    assert 'decode_head.heatmap_bias' in model.state_dict()
    assert 'decode_head.heatmap_bias' not in build().state_dict()
    with torch.no_grad():
        bias.copy_(torch.tensor([3., -1., 0., 0.5, -2.], dtype=bias.dtype))
    model.eval()
    x = torch.randn(2, 3, 64, 96, dtype=torch.float64)
    with torch.no_grad():
        H = model(x, mode='tensor')
        pred = model.predict(x)
    ref = oracle_heatmaps(model, x) * 2.0 + bias.detach().view(1, -1, 1, 1)
    torch.testing.assert_close(H, ref, rtol=1e-5, atol=1e-8)
    for i, p in enumerate(pred):  # the offset moves the argmax
        assert torch.equal(p.pred_sem_seg.data[0], ref[i].argmax(0))
    model.train()
    inputs, samples = batch(2, labelled=(0, ))
    model.loss(inputs, samples)['decode.loss_seg'].backward()
    assert bias.grad is not None and bias.grad.abs().sum() > 0
    # a batch without masks keeps it in the graph with a zero gradient (DDP
    # needs every parameter to take part)
    bias.grad = None
    inputs, samples = batch(2, labelled=())
    model.loss(inputs, samples)['decode.loss_seg'].backward()
    assert bias.grad is not None and not bias.grad.any()


def test_checkpoint_keys_are_standard_and_unique():
    model = build()
    keys = list(model.state_dict())
    assert all(k.startswith(('backbone.', 'decode_head.')) for k in keys)
    assert [k for k in keys if k.startswith('decode_head.')] == [
        'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'
    ]
    named = list(model.named_parameters(remove_duplicate=False))
    assert len(named) == len({id(p) for _, p in named})


def test_loss_decodes_only_pixel_labelled_samples():
    """loss_seg equals cross-entropy on the heatmaps of the labelled samples
    alone (VGG16 has no BN, so decoding a subset is the same function)."""
    model = build()
    model.train()
    inputs, samples = batch(4, labelled=(1, 3))
    losses = model.loss(inputs, samples)
    assert losses['decode.num_pixel_labelled'].item() == 2
    idx = torch.tensor([1, 3])
    H = model(inputs[idx], mode='tensor')
    labels = torch.stack([samples[i].gt_sem_seg.data[0] for i in (1, 3)])
    ref = F.cross_entropy(H, labels, ignore_index=255)
    torch.testing.assert_close(losses['decode.loss_seg'], ref)


def test_class_weight_weights_each_labelled_pixel_by_its_class():
    """With class_weight, loss_seg is sum_i w[y_i] * (-log softmax_i[y_i])
    over the labelled pixels divided by sum_i w[y_i] (written out here, not
    through F.cross_entropy's weight argument); a wrong length or a
    non-positive weight is refused with the value named."""
    w = [0.1, 1.0, 2.0, 0.5, 1.5]
    model = build(decode_head=dict(heatmap_bias=True, loss_decode=dict(
        type='SegClsLoss', class_weight=w)))
    with torch.no_grad():  # per-class offsets: the pixels' losses differ
        model.decode_head.heatmap_bias.copy_(
            torch.tensor([3., -1., 0., 0.5, -2.]))
    model.train()
    inputs, samples = batch(4, labelled=(1, 3))
    loss = model.loss(inputs, samples)['decode.loss_seg']
    idx = torch.tensor([1, 3])
    H = model(inputs[idx], mode='tensor')
    labels = torch.stack([samples[i].gt_sem_seg.data[0] for i in (1, 3)])
    logp = H.log_softmax(1).permute(0, 2, 3, 1)[labels != 255]
    y = labels[labels != 255]
    wy = torch.tensor(w, dtype=H.dtype)[y]
    ref = -(wy * logp[torch.arange(len(y)), y]).sum() / wy.sum()
    torch.testing.assert_close(loss, ref)
    plain = F.cross_entropy(H, labels, ignore_index=255)
    assert (loss - plain).abs() > 1e-3  # the weights do change it
    with pytest.raises(ValueError, match='class_weight has 3 values'):
        build(decode_head=dict(loss_decode=dict(
            type='SegClsLoss', class_weight=[1, 1, 1]))).loss(
                inputs, samples)
    with pytest.raises(ValueError, match='positive'):
        build(decode_head=dict(loss_decode=dict(
            type='SegClsLoss', class_weight=[0, 1, 1, 1, 1])))


def test_classification_loss_background_weight_zero():
    model = build()
    model.train()
    inputs, samples = batch(2, labelled=(0, 1))
    losses = model.loss(inputs, samples)
    feat = model.backbone(inputs)[-1]
    z = model.decode_head.conv_seg(F.adaptive_avg_pool2d(feat, 1)).flatten(1)
    y = torch.zeros_like(z)
    for i, s in enumerate(samples):
        seg = s.gt_sem_seg.data
        y[i, seg[seg != 255].unique()] = 1
    w = torch.ones(5, dtype=z.dtype)
    w[0] = 0
    ref = F.multilabel_soft_margin_loss(z, y, weight=w)
    torch.testing.assert_close(losses['decode.loss_cls'], ref)


def test_no_labelled_pixel_gives_exact_zero_connected_loss():
    model = build(decode_head=dict(tie=False))
    model.train()
    inputs, samples = batch(2, labelled=())
    losses = model.loss(inputs, samples)
    assert losses['decode.loss_seg'].item() == 0.0
    assert losses['decode.num_pixel_labelled'].item() == 0
    losses['decode.loss_seg'].backward()
    # every head parameter took part (DDP needs that), with zero gradient
    for name, p in model.decode_head.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() == 0, name


def test_tied_segmentation_gradients_reach_encoder_weights():
    model = build()
    model.train()
    inputs, samples = batch(2, labelled=(0, 1))
    model.loss(inputs, samples)['decode.loss_seg'].backward()
    conv = model.backbone.features[0].conv.weight
    assert conv.grad is not None and conv.grad.abs().sum() > 0
    assert model.decode_head.untied is None


def test_untied_decoder_has_own_weights_starting_as_copy():
    model = build(decode_head=dict(tie=False))
    model.train()
    copy = model.decode_head.untied['features__0__conv']
    enc = model.backbone.features[0].conv.weight
    assert copy is not enc and torch.equal(copy, enc)
    assert 'decode_head.untied.features__0__conv' in model.state_dict()
    inputs, samples = batch(2, labelled=(0, 1))
    model.loss(inputs, samples)['decode.loss_seg'].backward()
    assert copy.grad is not None and copy.grad.abs().sum() > 0


def test_heatmaps_are_fp32_under_autocast():
    model = build(double=False)
    model.train()
    inputs, samples = batch(2, labelled=(0, ))
    inputs = inputs.float()
    conv = next(m for m in model.backbone.modules()
                if isinstance(m, torch.nn.Conv2d))
    raw = []
    conv.register_forward_hook(lambda m, i, o: raw.append(o.dtype))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        feats = model.extract_feat(inputs)
        H = model.decode_head.decode(feats)
    # convolutions in half precision, their outputs handed on (and taped)
    # in float32 (see tests/test_lrp_grad.py for why)
    assert raw == [torch.bfloat16] and feats[-1].dtype == torch.float32
    assert H.dtype == torch.float32 and torch.isfinite(H).all()


@pytest.mark.parametrize('overrides,match', [
    (dict(neck=dict(type='FPN', in_channels=[512], out_channels=64,
                    num_outs=1)), 'neck'),
    (dict(backbone=dict(_delete_=True, type='mmpretrain.VGG', depth=16,
                        num_classes=-1)),
     'in-place'),
    (dict(backbone=dict(type='mmpretrain.VGG', depth=16, num_classes=10,
                        act_cfg=dict(type='ReLU', inplace=False))),
     'num_classes=-1'),
    (dict(backbone=dict(_delete_=True, type='mmpretrain.ResNet', depth=18,
                        with_cp=True),
          inplace_act='disable'), 'with_cp'),
    (dict(backbone=dict(_delete_=True, type='mmpretrain.MobileNetV2')),
     'unsupported backbone'),
    (dict(backbone=dict(_delete_=True, type='ResNetV1c', depth=18)),
     'unsupported backbone'),
    (dict(decode_head=dict(dropout_ratio=0.1)), 'dropout_ratio'),
    (dict(decode_head=dict(channels=64)), "'channels'"),
    (dict(decode_head=dict(conv_rules=[dict(layers='*', type='gamma')])),
     'conv_rules'),
])
def test_bad_configs_fail_at_build_time(overrides, match):
    with pytest.raises(Exception, match=match):
        build(**overrides)


def test_head_channel_mismatch_is_reported():
    model = build(decode_head=dict(in_channels=256), double=False)
    with pytest.raises(ValueError, match='decode_head.in_channels=512'):
        model(torch.rand(1, 3, 32, 32), mode='tensor')


def test_backbone_loads_mmpretrain_checkpoint_through_init_cfg(tmp_path):
    """An mmpretrain-style classifier checkpoint (keys ``backbone.*``,
    ``head.*``) initialises the encoder via init_cfg=Pretrained."""
    src = build(double=False)
    state = {f'backbone.{k}': v.clone() + 1.0
             for k, v in src.backbone.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(1000, 512)
    path = str(tmp_path / 'vgg16_imagenet.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    model = build(double=False, backbone=dict(init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone.')))
    for k, v in model.backbone.state_dict().items():
        torch.testing.assert_close(v, state[f'backbone.{k}'])


TV_CONVERTERS = {
    'unrolled-lrp_vgg16.py': ('vgg_to_mmpretrain.py', ['--layer-num', '16']),
    'unrolled-lrp_vgg16-bn.py': ('vgg_to_mmpretrain.py',
                                 ['--layer-num', '16', '--bn']),
    'unrolled-lrp_r50.py': ('torchvision_to_mmpretrain.py', ['resnet']),
}


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(TV_CONVERTERS))
def test_torchvision_weights_load_after_mmpretrain_key_converter(
        name, tmp_path):
    """A torchvision classifier's weights, converted by mmpretrain's own
    key converter, initialise the encoder: our backbone then computes
    exactly torchvision's feature map (BN in eval, with non-trivial
    running statistics)."""
    import subprocess
    import sys

    import mmpretrain
    import torchvision
    torch.manual_seed(1)
    if 'r50' in name:
        tv = torchvision.models.resnet50()
        trunk = torch.nn.Sequential(*list(tv.children())[:-2])
    else:
        tv = torchvision.models.vgg16_bn() if 'bn' in name else \
            torchvision.models.vgg16()
        trunk = tv.features
    for m in tv.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    src, dst = str(tmp_path / 'tv.pth'), str(tmp_path / 'mmpretrain.pth')
    # the VGG classifier (120M parameters) plays no part in the encoder
    torch.save({k: v for k, v in tv.state_dict().items()
                if not k.startswith('classifier')}, src)
    script, args = TV_CONVERTERS[name]
    tool = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools',
                    'model_converters', script)
    subprocess.run([sys.executable, tool, src, dst] + args, check=True,
                   stdout=subprocess.DEVNULL)
    model = build(name, double=False, backbone=dict(init_cfg=dict(
        type='Pretrained', checkpoint=dst, prefix='backbone.')))
    model.eval()
    trunk.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model.backbone(x)[-1], trunk(x),
                                   rtol=1e-4, atol=1e-5)


def test_slide_inference_through_mmseg():
    model = build(test_cfg=dict(mode='slide', crop_size=(64, 64),
                                stride=(32, 32)))
    model.eval()
    size = (96, 128)
    inputs, samples = batch(1, labelled=(), size=size)
    with torch.no_grad():
        logits = model.inference(inputs, [s.metainfo for s in samples])
        pred = model.predict(inputs, samples)
    assert logits.shape == (1, 5) + size
    assert pred[0].pred_sem_seg.data.shape == (1, ) + size
    # every pixel is covered: the averaged windows equal a manual slide
    with torch.no_grad():
        manual = torch.zeros(1, 5, *size, dtype=torch.float64)
        count = torch.zeros(1, 1, *size, dtype=torch.float64)
        for y in (0, 32):
            for x in (0, 32, 64):
                crop = inputs[:, :, y:y + 64, x:x + 64]
                manual[:, :, y:y + 64, x:x + 64] += model(
                    crop, mode='tensor')
                count[:, :, y:y + 64, x:x + 64] += 1
    torch.testing.assert_close(logits, manual / count)


def vit_model(**head):
    """The DeiT-S base config with a tiny ViT (random weights) and the
    class-token read-out."""
    return build('unrolled-lrp_deit-s16.py', backbone=dict(
        arch=dict(_delete_=True, embed_dims=24, num_layers=2, num_heads=3,
                  feedforward_channels=48),
        img_size=64, patch_size=16, init_cfg=None),
        decode_head=dict(in_channels=24, epsilon=1e-12, **head))


def test_vit_segmentor_heatmaps_loss_and_rule_checks():
    """Through mmseg: the ViT segmentor's loss trains the untied decoder's
    value path; with biases, class token and position embedding at zero its
    tensor-mode heatmaps conserve the class-token classifier's logits
    (LRP-0 through LayerNorm, attention and residual sums); rule entries
    that apply nowhere on the ViT's operations are refused at build
    time."""
    model = vit_model(tie=False)
    model.train()  # drop path 0.1: the decoder follows the tape
    inputs, samples = batch(2, labelled=(0, ))
    losses = model.loss(inputs, samples)
    losses['decode.loss_seg'].backward()
    head = model.decode_head
    qkv = head.untied['layers__1__attn__qkv']
    assert qkv.grad is not None and qkv.grad.abs().sum() > 0
    model = vit_model()
    model.eval()
    for m in model.modules():  # bias-free: relevance is conserved
        for name in ('bias', ):
            if isinstance(getattr(m, name, None), torch.nn.Parameter):
                torch.nn.init.zeros_(getattr(m, name))
    with torch.no_grad():
        model.backbone.pos_embed.zero_()
        model.backbone.cls_token.zero_()
        H = model(inputs, mode='tensor')
        feats = model.extract_feat(inputs)
        logits = model.decode_head.classify(feats)
    assert H.shape == (2, 5, 64, 64)
    # LayerNorm's centring and the softmax make this not exact in
    # general; with zero biases and embeddings LRP-0 conserves exactly
    torch.testing.assert_close(H.sum((2, 3)), logits, rtol=1e-8, atol=1e-8)
    vit_model(conv_rules=[dict(layers='layers.*.attn', type='attn_lrp')])
    with pytest.raises(ValueError, match=r"'zplus' cannot decode.*"
                       r'layers.0.attn \(MultiheadAttention\)'):
        vit_model(conv_rules=[dict(layers='layers.0.attn', type='zplus')])
    with pytest.raises(ValueError, match='matches no layer'):
        vit_model(conv_rules=[dict(layers='blocks.*', type='zplus')])
