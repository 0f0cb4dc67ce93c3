"""The ``mmseg_lrp`` registry scope: children of mmseg's registries.

The plugin registers its components in mmseg's registries. A config that
inherits from this package's configs (``_base_ = ['mmseg_lrp::...']``) has
every component dict of those bases tagged ``_scope_='mmseg_lrp'`` by
mmengine, which then imports ``mmseg_lrp.registry`` and looks for registries
of that scope. Each registry here is a child of mmseg's registry of the same
kind with no entries of its own, so a lookup falls through to mmseg's (and
from there, as in mmseg, to mmengine's and to other scopes such as
``mmpretrain.``): components build exactly as under mmseg's scope.
"""
from mmengine.registry import Registry
from mmseg import registry as mmseg_registry

SCOPE = 'mmseg_lrp'


def _child(parent: Registry) -> Registry:
    # importing mmseg_lrp.plugin registers all of mmseg_lrp's components;
    # the parent's own locations keep mmseg's lazy imports working under
    # this scope
    locations = ['mmseg_lrp.plugin'] + list(getattr(parent, '_locations', []))
    return Registry(
        parent.name, parent=parent, scope=SCOPE, locations=locations)


RUNNERS = _child(mmseg_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmseg_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmseg_registry.LOOPS)
HOOKS = _child(mmseg_registry.HOOKS)
DATASETS = _child(mmseg_registry.DATASETS)
DATA_SAMPLERS = _child(mmseg_registry.DATA_SAMPLERS)
TRANSFORMS = _child(mmseg_registry.TRANSFORMS)
MODELS = _child(mmseg_registry.MODELS)
MODEL_WRAPPERS = _child(mmseg_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmseg_registry.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmseg_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmseg_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmseg_registry.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmseg_registry.PARAM_SCHEDULERS)
METRICS = _child(mmseg_registry.METRICS)
EVALUATOR = _child(mmseg_registry.EVALUATOR)
TASK_UTILS = _child(mmseg_registry.TASK_UTILS)
VISUALIZERS = _child(mmseg_registry.VISUALIZERS)
VISBACKENDS = _child(mmseg_registry.VISBACKENDS)
LOG_PROCESSORS = _child(mmseg_registry.LOG_PROCESSORS)
INFERENCERS = _child(mmseg_registry.INFERENCERS)

__all__ = [
    'SCOPE', 'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'INFERENCERS'
]
