"""mmseg_lrp: unrolled-LRP tied-decoder segmentation for mmsegmentation 1.x.

Importing the package (or its LRP core, :mod:`mmseg_lrp.lrp`, which needs
only torch) loads no OpenMMLab module and changes nothing. The mmseg plugin
is :mod:`mmseg_lrp.plugin`: importing it registers the package's components
in mmseg's registries and lets configs inherit this package's (``_base_ =
['mmseg_lrp::toy_experiment/NAME.py']``, the installed ``.mim/configs``).
Configs load it with ``custom_imports = dict(imports=['mmseg_lrp.plugin'],
allow_failed_imports=False)``. The tools that load checkpoints call
:func:`mmseg_lrp.utils.register_checkpoint_loader` themselves.
"""
from .version import __version__

__all__ = ['__version__']
