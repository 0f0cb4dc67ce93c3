"""The baselines' own parts: the UNet decoder for classification backbones,
the multi-label classification head and the multi-task UNet's losses on a
mixed batch (checked against torch's own losses), and the stage-1 /
unrolled-LRP checkpoint initialising the baselines' encoders."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import LabelData, PixelData

import mmseg_lrp.plugin  # noqa: F401
from conftest import ROOT
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

MODELS_DIR = osp.join(ROOT, 'configs', '_base_', 'models')
TINY_RESNET = dict(depth=18, stem_channels=8, base_channels=8)
TINY_CHANNELS = [8, 16, 32, 64]


def build(cfg):
    init_default_scope('mmseg')
    return MODELS.build(cfg)


def unet_head(**kw):
    cfg = dict(type='UNetHead', in_channels=TINY_CHANNELS,
               dec_channels=(32, 16, 8, 8, 4), num_classes=5,
               norm_cfg=dict(type='BN'), dropout_ratio=0)
    cfg.update(kw)
    return build(cfg)


def pyramid(n, h, w, channels=TINY_CHANNELS, requires_grad=False):
    """ResNet-like features of an (h, w) input: strides 4, 8, 16, 32
    (rounded up, as strided convs do)."""
    feats = []
    for i, c in enumerate(channels):
        s = 4 * 2**i
        feats.append(torch.randn(n, c, -(-h // s), -(-w // s),
                                 requires_grad=requires_grad))
    return feats


def test_unet_head_decodes_to_the_input_resolution():
    head = unet_head().eval()
    # 96 / 4 = 24 -> two skip-less stages double it twice: 96
    assert head(pyramid(2, 96, 96)).shape == (2, 5, 96, 96)
    # odd sizes: the skip stages follow the skips' own sizes
    out = unet_head(dec_channels=(32, 16, 8)).eval()(pyramid(1, 70, 50))
    assert out.shape == (1, 5, 18, 13)


def test_every_encoder_stage_reaches_the_logits():
    """Gradients from the logits reach every feature map (the skips are
    wired), and each output pixel depends on the shallowest skip locally."""
    torch.manual_seed(0)
    # 16 channels per stage: with 4 (as elsewhere here) all ReLUs of a stage
    # are dead at about 1 in 15 random inits and no gradient flows at all
    head = unet_head(dec_channels=(32, 16, 16, 16, 16)).eval()
    feats = pyramid(1, 64, 64, requires_grad=True)
    out = head(feats)
    out[0, :, 10, 10].sum().backward()
    for i, f in enumerate(feats):
        assert f.grad is not None and f.grad.abs().sum() > 0, i
    g = feats[0].grad[0].abs().sum(0)  # stride-4 skip, 16 x 16
    assert g[2, 2] > 0 and g[15, 15] == 0  # far pixels do not contribute


def test_unet_head_rejects_bad_arguments():
    with pytest.raises(ValueError, match='fewer than'):
        unet_head(dec_channels=(8, 8))
    with pytest.raises(ValueError, match='in_index'):
        unet_head(in_index=(0, 1))
    with pytest.raises(ValueError, match='channels'):
        unet_head(channels=8)


def sample(mask, img_labels=None, num_classes=5):
    s = SegDataSample(metainfo=dict(img_shape=mask.shape,
                                    ori_shape=mask.shape,
                                    pad_shape=mask.shape))
    s.gt_sem_seg = PixelData(data=mask[None])
    if img_labels is not None:
        y = torch.zeros(num_classes, dtype=torch.long)
        y[img_labels] = 1
        s.gt_img_labels = LabelData(data=y)
    return s


def mixed_batch(h=32, w=32):
    """Two pixel-labelled samples (one with packed image labels) and two
    image-level ones (all-255 masks), one of which has no labels at all."""
    g = torch.Generator().manual_seed(0)
    m0 = torch.randint(0, 5, (h, w), generator=g)
    m0[:4] = 255
    m1 = torch.randint(0, 3, (h, w), generator=g)
    ignore = torch.full((h, w), 255)
    samples = [sample(m0), sample(m1, [0, 1, 2]), sample(ignore, [0, 4]),
               sample(ignore)]
    return samples, [m0, m1]


def oracle_cls_loss(logits, labels):
    """torch's multi-label soft-margin loss, background weight 0."""
    weight = torch.ones(logits.shape[1])
    weight[0] = 0
    return torch.nn.MultiLabelSoftMarginLoss(weight=weight)(logits, labels)


def test_image_cls_head_loss_matches_torch():
    head = build(dict(type='ImageClsHead', in_channels=64, num_classes=5,
                      dropout_ratio=0))
    samples, (m0, m1) = mixed_batch()
    feats = pyramid(4, 32, 32)
    losses = head.loss(feats, samples, {})
    assert set(losses) == {'loss_cls'}
    logits = head.forward(feats)
    assert logits.shape == (4, 5)
    labels = torch.zeros(3, 5)
    labels[0, m0[m0 != 255].unique()] = 1  # from the mask
    labels[1, [0, 1, 2]] = 1  # packed labels win
    labels[2, [0, 4]] = 1
    # the fourth sample (no labels, no pixels) is left out
    torch.testing.assert_close(losses['loss_cls'],
                               oracle_cls_loss(logits[:3], labels))


def tiny_multitask_cfg():
    cfg = Config.fromfile(osp.join(MODELS_DIR, 'unet-multitask_r50.py'))
    cfg.model.backbone.update(TINY_RESNET)
    cfg.model.decode_head.update(in_channels=TINY_CHANNELS,
                                 dec_channels=(16, 8, 8, 4, 4),
                                 num_classes=5)
    cfg.model.auxiliary_head.update(in_channels=64, num_classes=5)
    cfg.model.data_preprocessor.size = (32, 32)
    return cfg.model


def tiny_multitask():
    torch.manual_seed(0)
    model = build(tiny_multitask_cfg())
    model.init_weights()
    return model


def test_multitask_unet_losses_on_a_mixed_batch():
    """Segmentation loss = cross-entropy over the labelled pixels of the
    pixel-labelled samples only; classification loss over every sample
    with labels. Eval mode, so BN does not mix the samples."""
    model = tiny_multitask().eval()
    samples, masks = mixed_batch()
    inputs = torch.rand(4, 3, 32, 32) * 255
    losses = model.loss(inputs, samples)
    assert {'decode.loss_ce', 'aux.loss_cls'} <= set(losses)
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        seg = model.decode_head.forward(feats)
        logits = model.auxiliary_head.forward(feats)
    seg = F.interpolate(seg, size=(32, 32), mode='bilinear',
                        align_corners=False)
    want_seg = F.cross_entropy(seg[:2], torch.stack(masks),
                               ignore_index=255)
    torch.testing.assert_close(losses['decode.loss_ce'].detach(), want_seg)
    labels = torch.zeros(3, 5)
    labels[0, masks[0][masks[0] != 255].unique()] = 1
    labels[1, [0, 1, 2]] = 1
    labels[2, [0, 4]] = 1
    torch.testing.assert_close(losses['aux.loss_cls'].detach(),
                               oracle_cls_loss(logits[:3], labels))
    # the image-level samples do not change the segmentation loss
    alone = model.loss(inputs[:2], samples[:2])
    torch.testing.assert_close(alone['decode.loss_ce'],
                               losses['decode.loss_ce'])
    # prediction is plain mmseg segmentation
    out = model.predict(inputs[:1], samples[:1])
    assert out[0].pred_sem_seg.data.shape == (1, 32, 32)


def classifier_oracle(model, inputs):
    """Image logits by hand: global average pool of the last stage, then the
    1x1 conv's weights as a matrix."""
    with torch.no_grad():
        pooled = model.backbone(inputs)[-1].mean((2, 3))
    conv = model.auxiliary_head.conv_seg
    return pooled @ conv.weight.flatten(1).T + conv.bias


@pytest.mark.parametrize('test_cfg', [
    dict(mode='whole'),
    dict(mode='slide', crop_size=(16, 16), stride=(12, 12)),
])
def test_multitask_predict_adds_the_classifier_logits(test_cfg):
    """Segmentation output = mmseg's EncoderDecoder with the same weights
    (loaded strictly: same checkpoint keys); pred_img_logits = the
    classifier computed by hand on the whole image."""
    model = tiny_multitask().eval()
    model.test_cfg = Config(test_cfg)
    cfg = tiny_multitask_cfg()
    assert cfg.type == 'MultiTaskEncoderDecoder'
    cfg.type = 'EncoderDecoder'
    plain = build(cfg)
    plain.load_state_dict(model.state_dict(), strict=True)
    plain.eval().test_cfg = Config(test_cfg)
    samples, _ = mixed_batch()
    copies = [s.clone() for s in samples[:2]]  # predict fills them in place
    inputs = torch.rand(2, 3, 32, 32) * 255
    with torch.no_grad():
        got = model.predict(inputs, samples[:2])
        want = plain.predict(inputs, copies)
    oracle = classifier_oracle(model, inputs)
    for g, w, z in zip(got, want, oracle):
        torch.testing.assert_close(g.seg_logits.data, w.seg_logits.data)
        assert torch.equal(g.pred_sem_seg.data, w.pred_sem_seg.data)
        torch.testing.assert_close(g.pred_img_logits.data, z)
        assert 'pred_img_logits' not in w


def test_multitask_segmentor_needs_one_classifier_head():
    cfg = Config.fromfile(osp.join(MODELS_DIR, 'unet-multitask_r50.py'))
    cfg.model.auxiliary_head = None
    with pytest.raises(TypeError, match='exactly one auxiliary_head of '
                       'type ImageClsHead, got 0'):
        build(cfg.model)


def test_deeplabv3_backbone_is_dilated_resnet():
    cfg = Config.fromfile(osp.join(MODELS_DIR, 'deeplabv3_r50-d8.py'))
    backbone = build(cfg.model.backbone)
    feats = backbone(torch.rand(1, 3, 64, 64))
    # output stride 8 from stage 2 on, as mmseg's R-50-D8
    assert [f.shape[-1] for f in feats] == [16, 8, 8, 8]
    assert feats[-1].shape[1] == 2048


@pytest.mark.slow
def test_lrp_checkpoint_initialises_the_baseline_encoders(tmp_path):
    """The stage-1 / unrolled-LRP R-50 checkpoint (mmpretrain ResNet-50,
    keys backbone.*) loads into every baseline's encoder through the
    backbone's init_cfg, as the configs document."""
    from mmengine.runner import save_checkpoint
    lrp_cfg = Config.fromfile(osp.join(MODELS_DIR, 'unrolled-lrp_r50.py'))
    torch.manual_seed(1)
    lrp = build(lrp_cfg.model)
    lrp.init_weights()
    ckpt = str(tmp_path / 'stage1.pth')
    save_checkpoint(lrp.state_dict(), ckpt)
    want = lrp.backbone.state_dict()
    for name in ('unet_r50.py', 'unet-multitask_r50.py',
                 'deeplabv3_r50-d8.py'):
        cfg = Config.fromfile(osp.join(MODELS_DIR, name))
        cfg.model.backbone.init_cfg = dict(type='Pretrained',
                                           checkpoint=ckpt,
                                           prefix='backbone.')
        if 'multitask' in name:  # the classifier too, as documented
            cfg.model.auxiliary_head.init_cfg = dict(
                type='Pretrained', checkpoint=ckpt, prefix='decode_head.')
        model = build(cfg.model)
        model.init_weights()
        if 'multitask' in name:
            torch.testing.assert_close(model.auxiliary_head.conv_seg.weight,
                                       lrp.decode_head.conv_seg.weight)
        got = model.backbone.state_dict()
        assert got.keys() == want.keys(), name
        for k in want:
            torch.testing.assert_close(got[k], want[k], msg=f'{name}: {k}')
