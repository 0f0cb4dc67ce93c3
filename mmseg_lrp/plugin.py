"""The mmseg plugin: importing this module registers every component of
mmseg_lrp (datasets, transforms, samplers, hooks, metrics, models, ...) in
mmseg's registries, and lets configs inherit this package's configs
(``_base_ = ['mmseg_lrp::toy_experiment/NAME.py']``, see
:func:`mmseg_lrp.utils.tool_config.enable_package_configs`).

Configs load it with::

    custom_imports = dict(imports=['mmseg_lrp.plugin'],
                          allow_failed_imports=False)

and scripts that build the components from config dicts without such a
config import it themselves (``import mmseg_lrp.plugin  # noqa: F401``).
``import mmseg_lrp`` alone loads no OpenMMLab module (the LRP core,
:mod:`mmseg_lrp.lrp`, needs only torch).
"""
try:
    import mmseg  # noqa: F401
except ImportError as e:  # pragma: no cover (mmseg is a test dependency)
    raise ImportError(
        'mmseg_lrp.plugin registers the components of mmseg_lrp in '
        "mmsegmentation's registries and needs mmsegmentation 1.x (with "
        'mmcv, mmengine and mmpretrain) installed; see docs/development.md. '
        f'Importing mmseg failed: {e}. The LRP core, mmseg_lrp.lrp, needs '
        'only torch.') from e

from . import datasets, engine, evaluation, models  # noqa: F401,E402
from .utils.tool_config import enable_package_configs  # noqa: E402

enable_package_configs()
