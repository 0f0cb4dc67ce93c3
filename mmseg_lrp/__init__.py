"""mmseg_lrp: unrolled-LRP tied-decoder segmentation for mmsegmentation 1.x.

Importing the package registers its components in mmseg's registries (configs
load it with ``custom_imports = dict(imports=['mmseg_lrp'])``) when mmseg is
installed, and lets configs inherit this package's (``_base_ =
['mmseg_lrp::toy_experiment/NAME.py']``, the installed ``.mim/configs``); the
LRP core, :mod:`mmseg_lrp.lrp`, needs only torch. Importing changes nothing
else: the tools that load checkpoints call
:func:`mmseg_lrp.utils.register_checkpoint_loader` themselves.
"""
from importlib.util import find_spec

from .version import __version__

if find_spec('mmseg') is not None:
    from . import datasets, engine, evaluation, models  # noqa: F401
    from .utils.tool_config import enable_package_configs
    enable_package_configs()

__all__ = ['__version__']
