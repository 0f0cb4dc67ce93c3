"""The models of the toy experiment, their configs and their tuning grid."""
import os.path as osp
from typing import Dict, List, Tuple

# the repository's configs (the experiment runs from a checkout)
ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG_DIR = osp.join(ROOT, 'configs', 'toy_experiment')
TOOLS_DIR = osp.join(ROOT, 'tools')
# the stage-1 classifier of each architecture: a model starts from the one
# of its own architecture (:func:`stage1_arch`)
STAGE1_CONFIGS: Dict[str, str] = {
    'resnet':
    osp.join(CONFIG_DIR,
             'unrolled-lrp_r18-cifar-c16_1xb16-3000iter_toyvoc-cls-64x64.py'),
    'vit':
    osp.join(CONFIG_DIR,
             'unrolled-lrp_vit-l4-c96-p8_1xb16-10000iter_toyvoc-cls-64x64.py'),
}
STAGE1_CONFIG = STAGE1_CONFIGS['resnet']
# how the reports name each stage-1 architecture
ARCH_LABELS: Dict[str, str] = {'resnet': 'ResNet-18', 'vit': 'ViT'}

# model key -> its config in configs/toy_experiment
MODELS: Dict[str, str] = {
    'unrolled-lrp':
    'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unrolled-lrp0':
    'unrolled-lrp0_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unrolled-lrp-compat':
    'unrolled-lrp-compat_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unrolled-lrp-frozen':
    'unrolled-lrp-frozen_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unrolled-lrp-untied':
    'unrolled-lrp-untied_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unrolled-lrp-balanced':
    'unrolled-lrp-balanced_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unrolled-lrp-frozen-balanced':
    'unrolled-lrp-frozen-balanced_r18-cifar-c16_1xb8-300iter_toyvoc-semi-'
    '64x64.py',
    'unrolled-lrp-96':
    'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-96x96.py',
    'unrolled-lrp-frozen-96':
    'unrolled-lrp-frozen_r18-cifar-c16_1xb8-300iter_toyvoc-semi-96x96.py',
    'cam-frozen': 'cam-frozen_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unet': 'unet_r18-cifar-c16_1xb8-800iter_toyvoc-pixel-64x64.py',
    'deeplabv3':
    'deeplabv3_r18-cifar-c16-d4_1xb8-800iter_toyvoc-pixel-64x64.py',
    'unet-multitask':
    'unet-multitask_r18-cifar-c16_1xb8-1600iter_toyvoc-semi-64x64.py',
    'unrolled-lrp-vit':
    'unrolled-lrp_vit-l4-c96-p8_1xb8-300iter_toyvoc-semi-64x64.py',
    'unrolled-lrp-frozen-vit':
    'unrolled-lrp-frozen_vit-l4-c96-p8_1xb8-300iter_toyvoc-semi-64x64.py',
}
LABELS: Dict[str, str] = {
    'unrolled-lrp': 'unrolled LRP (semi-sup.)',
    'unrolled-lrp0': "unrolled LRP, paper's LRP-0 rule (semi-sup.)",
    'unrolled-lrp-compat': 'unrolled LRP, paper-compat (semi-sup.)',
    'unrolled-lrp-frozen': 'no guidance: frozen stage 1 + bias',
    'unrolled-lrp-untied': 'unrolled LRP, untied decoder (ablation)',
    'unrolled-lrp-balanced': 'unrolled LRP, background weight 0.1 (ablation)',
    'unrolled-lrp-frozen-balanced':
    'no guidance, background weight 0.1 (ablation)',
    'unrolled-lrp-96': 'unrolled LRP at 96x96 (ablation)',
    'unrolled-lrp-frozen-96': 'no guidance at 96x96 (ablation)',
    'cam-frozen': 'CAM: frozen stage 1 + bias',
    'unet': 'UNet (sup.)',
    'deeplabv3': 'DeepLabV3 (sup.)',
    'unet-multitask': 'multi-task UNet (semi-sup.)',
    'unrolled-lrp-vit': 'unrolled LRP, ViT (semi-sup.)',
    'unrolled-lrp-frozen-vit': 'no guidance, ViT: frozen stage 1 + bias',
}
LRP = 'unrolled-lrp'
# models that start from the whole stage-1 model (encoder and classifier)
FROM_STAGE1 = ('unrolled-lrp', 'unrolled-lrp0', 'unrolled-lrp-compat',
               'unrolled-lrp-frozen', 'unrolled-lrp-untied', 'cam-frozen',
               'unrolled-lrp-balanced', 'unrolled-lrp-frozen-balanced',
               'unrolled-lrp-96', 'unrolled-lrp-frozen-96',
               'unrolled-lrp-vit', 'unrolled-lrp-frozen-vit')
REFERENCES = ('unrolled-lrp-frozen', 'cam-frozen')
# the stage-1 architecture of the models not on the ResNet's
STAGE1_ARCHS: Dict[str, str] = {
    'unrolled-lrp-vit': 'vit',
    'unrolled-lrp-frozen-vit': 'vit',
}
# more paired comparisons (LRP model, its reference) of another
# architecture, reported where both are run
PAIRS: Tuple[Tuple[str, str], ...] = (
    ('unrolled-lrp-vit', 'unrolled-lrp-frozen-vit'), )
BASELINES = ('unet', 'deeplabv3', 'unet-multitask')
DEFAULT_MODELS = ('unrolled-lrp', 'unrolled-lrp0', 'unrolled-lrp-frozen',
                  'cam-frozen', 'unet', 'deeplabv3', 'unet-multitask')

# The tuning grid, the same size for every model: the config's learning
# rate times each factor, at the config's schedule and at half of it (at the
# fewest labels every model's val curve peaked before the end of its
# schedule: LRP within 50-250 of 300 iterations, UNet and DeepLabV3 at
# 300-400 of 800; docs/guidance.md).
LR_FACTORS = (0.33, 1.0, 3.0)
ITER_FACTORS = (0.5, 1.0)


def model_config(model: str) -> str:
    """Path of ``model``'s config."""
    if model not in MODELS:
        raise ValueError(f'unknown model {model!r}; choose from '
                         f'{", ".join(MODELS)}')
    return osp.join(CONFIG_DIR, MODELS[model])


def stage1_arch(model: str) -> str:
    """The architecture of ``model``'s stage-1 classifier (a key of
    :data:`STAGE1_CONFIGS`; ``'resnet'`` unless listed in
    :data:`STAGE1_ARCHS`)."""
    return STAGE1_ARCHS.get(model, 'resnet')


def config_schedule(config: str) -> Tuple[float, int]:
    """``(learning rate, iterations)`` of a config."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    return float(cfg.optim_wrapper.optimizer.lr), int(cfg.train_cfg.max_iters)


def trials(model: str) -> List[Dict[str, float]]:
    """The tuning trials of ``model``: ``dict(lr=..., iters=...)`` over
    :data:`LR_FACTORS` x :data:`ITER_FACTORS` around its config's
    schedule."""
    lr, iters = config_schedule(model_config(model))
    return [dict(lr=float(f'{lr * a:.3g}'), iters=int(round(iters * b)))
            for b in ITER_FACTORS for a in LR_FACTORS]
