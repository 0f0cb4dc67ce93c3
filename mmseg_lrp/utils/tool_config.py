"""Shared arguments and config handling of the command-line tools
(train.py, test.py)."""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

from .dataset_options import add_dataset_args, set_dataset_options


def enable_package_configs() -> None:
    """Let configs inherit from this package's: ``_base_ =
    ['mmseg_lrp::toy_experiment/NAME.py']`` (the files of the installed
    package's ``.mim/configs``, see setup.py).

    mmengine 0.10 resolves ``pkg::`` only for the OpenMMLab packages it lists
    in ``MODULE2PACKAGE``; this adds ``mmseg_lrp`` (package name = module
    name). ``import mmseg_lrp.plugin`` calls it, and so does
    :func:`load_tool_config`; a script that loads such a config itself
    imports the plugin first (``mmseg_lrp`` alone loads no OpenMMLab
    module). The bases' components then
    build under the ``mmseg_lrp`` registry scope, :mod:`mmseg_lrp.registry`.
    """
    from mmengine.config import utils as config_utils
    config_utils.MODULE2PACKAGE.setdefault('mmseg_lrp', 'mmseg_lrp')


def load_tool_config(config: str,
                     cfg_options: Optional[dict] = None,
                     work_dir: Optional[str] = None,
                     launcher: str = 'none',
                     data_root: Optional[str] = None,
                     classes: Optional[Sequence[str]] = None,
                     mask_values: Optional[str] = None,
                     unlisted_classes: Optional[str] = None) -> Config:
    """Load a config the way mmseg's tools do.

    Args:
        config: Config file path.
        cfg_options: ``--cfg-options`` overrides, merged into the config.
        work_dir: ``--work-dir``; else the config's, else
            ``./work_dirs/{config name}``.
        launcher: ``--launcher``.
        data_root: ``--data-root``: every dataset's data root.
        classes: ``--classes``: every dataset's classes and every head's
            ``num_classes``.
        mask_values: ``--mask-values`` (see :func:`set_dataset_options`).
        unlisted_classes: ``--unlisted-classes``.

    Returns:
        The config.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config!r} does not exist')
    enable_package_configs()
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    set_dataset_options(cfg, data_root, classes, mask_values,
                        unlisted_classes)
    # work_dir priority: CLI > config file > config file name
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def tool_config_from_args(args) -> Config:
    """:func:`load_tool_config` from parsed :func:`add_runner_args`
    arguments; also makes mmengine able to load this project's checkpoints
    on torch >= 2.6 (the runner's ``load_from`` / ``resume``)."""
    from .checkpoint import register_checkpoint_loader
    register_checkpoint_loader()
    return load_tool_config(args.config, args.cfg_options,
                            getattr(args, 'work_dir', None), args.launcher,
                            args.data_root, args.classes, args.mask_values,
                            args.unlisted_classes)


def add_runner_args(parser) -> None:
    """The arguments that mmseg's train.py and test.py share:
    ``--cfg-options``, ``--launcher``, ``--local-rank``, and the dataset
    options (:func:`add_dataset_args`)."""
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_dataset_args(parser)


def parse_runner_args(parser):
    """Parse, and export ``LOCAL_RANK`` as mmengine expects."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
