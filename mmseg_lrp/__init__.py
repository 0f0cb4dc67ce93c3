"""mmseg_lrp: unrolled-LRP tied-decoder segmentation for mmsegmentation 1.x.

Importing the package registers its components in mmseg's registries (configs
load it with ``custom_imports = dict(imports=['mmseg_lrp'])``) and makes
checkpoints written by mmengine loadable on torch >= 2.6.
"""
from . import datasets, engine, evaluation, models  # noqa: F401 (registers)
from .utils import register_checkpoint_loader
from .version import __version__

register_checkpoint_loader()

__all__ = ['__version__']
