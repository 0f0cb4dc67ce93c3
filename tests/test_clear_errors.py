"""Configs, checkpoints and images that used to be accepted silently or
reported unclearly (issue 24, cases 5, 6, 8, 9, 10): each now ends in one
error naming the key, layer, file or tensor at fault."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmseg_lrp.plugin  # noqa: F401
from conftest import ROOT
from mmseg.registry import MODELS, TRANSFORMS
from mmseg_lrp.utils.checkpoint import CheckpointError, check_checkpoint


# a small ResNet (the toy experiment's), whose layers rules name
R18 = osp.join(ROOT, 'configs', 'toy_experiment',
               'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py')


@pytest.fixture(scope='module')
def semi_model_cfg():
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    return Config.fromfile(R18).model


def build(model_cfg, **head):
    cfg = copy.deepcopy(model_cfg)
    cfg.decode_head.update(head)
    return MODELS.build(cfg)


# --- LRP rules that would never apply (cases 5, 6) ---------------------------


def test_rule_pattern_matching_no_layer_is_refused(semi_model_cfg):
    with pytest.raises(ValueError) as e:
        build(semi_model_cfg,
              conv_rules=[dict(layers='layer4.*', type='zplus'),
                          dict(layers='no.such.layer.*', type='zplus')])
    msg = str(e.value)
    # the key and the pattern, then where to look
    assert "model.decode_head.conv_rules[1]: layers='no.such.layer.*' " \
           'matches no layer' in msg
    assert 'layer4' in msg and 'classifier.fc' in msg


def test_rule_pattern_with_a_typo_gets_the_nearest_names(semi_model_cfg):
    with pytest.raises(ValueError) as e:
        build(semi_model_cfg, conv_rules=[dict(layers='layer4.1.conv9',
                                               type='zplus')])
    assert 'layer4.1.conv2' in str(e.value).split('top-level')[0]


def test_rule_on_a_layer_type_it_cannot_decode_is_refused(semi_model_cfg):
    with pytest.raises(ValueError) as e:
        build(semi_model_cfg,
              conv_rules=[dict(layers='classifier.pool', type='zplus')])
    msg = str(e.value)
    assert "rule 'zplus' cannot decode" in msg
    # the layer, its type and the rules that can
    assert 'classifier.pool (AdaptiveAvgPool2d)' in msg
    assert 'rules that can: avg_pool' in msg


def test_rules_that_apply_still_build(semi_model_cfg):
    # a wildcard over layers of several types is fine as long as the rule
    # decodes some of them (BN, ReLU keep their defaults)
    model = build(semi_model_cfg,
                  conv_rules=[dict(layers='layer4.*', type='zplus'),
                              dict(layers='classifier.fc', type='epsilon',
                                   epsilon=0.1)])
    assert len(model.decode_head.propagator.rule_map.by_name) == 2


# --- config values named by their key (case 10) ------------------------------


@pytest.mark.parametrize('key,value', [('epsilon', -1.0),
                                       ('stabilizer', 'clamp')])
def test_head_option_errors_name_the_config_key(semi_model_cfg, key, value):
    with pytest.raises(ValueError) as e:
        build(semi_model_cfg, **{key: value})
    assert str(e.value).startswith(f'model.decode_head.{key} must be')
    assert repr(value) in str(e.value) or str(value) in str(e.value)


# --- a checkpoint of another backbone (case 9) ------------------------------


def test_checkpoint_of_another_backbone_says_so(semi_model_cfg, tmp_path):
    model = build(semi_model_cfg)
    other_cfg = copy.deepcopy(semi_model_cfg)
    other_cfg.backbone.depth = 34  # same widths, more blocks
    other = MODELS.build(other_cfg)
    wide_cfg = copy.deepcopy(semi_model_cfg)
    wide_cfg.backbone.base_channels = 32  # same depth, other widths
    wide_cfg.decode_head.in_channels = 256
    wide = MODELS.build(wide_cfg)
    # deeper (extra weights), shallower (missing ones), wider (shapes)
    for mine, src in ((model, other), (other, model), (model, wide)):
        with pytest.raises(CheckpointError) as e:
            check_checkpoint(mine, {'state_dict': src.state_dict()},
                             'other.pth')
        msg = str(e.value)
        assert "other.pth: the checkpoint's backbone is not the config's" \
            in msg
        assert 'another backbone' in msg
        # never the old "for 7 classes, the config for 7"
        assert 'classes, the config for' not in msg
    with pytest.raises(CheckpointError, match=r'layer1\.0\.conv1\.weight '
                       r'\(32, 16, 3, 3\) vs \(16, 16, 3, 3\)'):
        check_checkpoint(model, {'state_dict': wide.state_dict()}, 'w.pth')


def test_class_layer_of_another_width_is_not_called_a_class_count(
        semi_model_cfg):
    model = build(semi_model_cfg)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state['decode_head.conv_seg.weight'] = torch.zeros(7, 64, 1, 1)
    with pytest.raises(CheckpointError) as e:
        check_checkpoint(model, {'state_dict': state}, 'x.pth')
    assert 'both for 7 classes' in str(e.value)
    assert 'another width' in str(e.value)


# --- an empty image file (case 8) -------------------------------------------


def test_empty_image_file_is_named(tmp_path):
    path = tmp_path / '2099_0001.jpg'
    path.write_bytes(b'')
    load = TRANSFORMS.build(dict(type='LoadCheckedImageFromFile'))
    with pytest.raises(ValueError) as e:
        load(dict(img_path=str(path), img_id='2099_0001'))
    msg = str(e.value)
    assert str(path) in msg and 'empty (0 bytes)' in msg
    assert 'buf.empty' not in msg  # not OpenCV's words


def test_toy_pipelines_use_the_checked_loader():
    # the fully supervised toy baselines read images with the same checks
    for config in ('baselines/unet-s4-d8-c16_fcn_1xb8-800iter_toyvoc-96x96.py',
                   'unrolled_lrp/'
                   'unrolled-lrp_vgg16_1xb8-150iter_toyvoc-64x64.py'):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
        for loader in ('train_dataloader', 'val_dataloader'):
            first = cfg[loader].dataset.pipeline[0]['type']
            assert first == 'LoadCheckedImageFromFile', (config, loader)


# --- found at start, not when first drawn (case 10) -------------------------


def _own(tmp_path):
    from test_bad_inputs import make_own_voc
    root = str(tmp_path / 'own')
    return root, make_own_voc(root)


def test_wrong_size_val_mask_is_found_when_the_dataset_is_built(tmp_path):
    from PIL import Image

    from test_bad_inputs import OWN, VOCPixelLabelDataset
    root, ids = _own(tmp_path)
    bad = osp.join(root, 'SegmentationClass', ids['val'][1] + '.png')
    with Image.open(bad) as im:
        im.resize((im.width + 8, im.height)).save(bad)
    # the val loader's dataset: built by the runner before the first
    # training iteration
    with pytest.raises(ValueError) as e:
        VOCPixelLabelDataset(
            data_root=root, metainfo=dict(classes=OWN), mask_classes=OWN,
            data_prefix=dict(img_path='JPEGImages',
                             seg_map_path='SegmentationClass'),
            ann_file='ImageSets/Segmentation/val.txt')
    msg = str(e.value)
    assert bad in msg and 'labels would not line up' in msg
    assert '56x48' in msg and '48x48' in msg  # mask vs image, w x h


@pytest.mark.parametrize('pool', ['image', 'pixel'])
def test_empty_image_in_a_pool_is_found_when_the_dataset_is_built(
        tmp_path, pool):
    from test_bad_inputs import OWN, image_pool, pixel_pool
    root, ids = _own(tmp_path)
    empty = osp.join(root, 'JPEGImages',
                     ids['image' if pool == 'image' else 'train'][2] + '.jpg')
    open(empty, 'w').close()
    with pytest.raises(ValueError) as e:
        if pool == 'image':
            image_pool(root, OWN, mask_classes=OWN)
        else:
            pixel_pool(root, OWN, mask_classes=OWN)
    assert '1 empty file(s) (0 bytes): ' + empty in str(e.value)
