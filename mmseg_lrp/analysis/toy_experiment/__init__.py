"""The toy experiment: the paper's semi-supervised comparison scaled down to
CPU minutes, on a suite of toy worlds, with an honest protocol.

1. **Data** (:mod:`.data`): one VOC-layout toy world per root (generated
   if missing), its image-label cache and one paper-protocol split file
   per (budget, seed); train / val / test splits.
2. **Stage 1** (:mod:`.runs`): the ResNet-18-CIFAR-c16 classifier on the
   image-level pool, one per stage-1 seed; it initialises every model
   (the ViT models: the small ViT classifier, trained alongside where
   they are run).
3. **Models** (:mod:`.models`): unrolled LRP (the toy rule) and with the
   paper's LRP-0 rule; the no-guidance reference (stage 1 frozen, only a
   per-class heatmap bias fitted) and the CAM reference (same, on the
   classifier's class activation maps); UNet, DeepLabV3 and the
   multi-task UNet; on request, unrolled LRP and its no-guidance
   reference on a small ViT.
4. **Protocol**: ``--tune`` runs the same learning-rate x schedule trials
   for every model on the val split of the default world at the fewest
   pixel labels and writes the choice (``--recipe``); the experiment then
   runs that recipe unchanged on every world (one queue of runs for all
   worlds, each model run after its stage-1 classifier), keeps each run's
   best-val checkpoint and reports its **test** mIoU, with paired differences
   (same split file and stage 1 per seed) and their 95 % t-intervals.
5. **Report** (:mod:`.report`): tables, curves (val mIoU and heatmap
   AUROC), plots, and the README block.

``tools/analysis_tools/toy_experiment.py`` is its command line.
"""
from .data import prepare_data, reference_levels, world_root
from .experiment import main, parse_args, plan_world, report_world, tune
from .models import LABELS, MODELS, model_config, trials
from .report import write_readme
from .runs import Run, execute, model_run, stage1_run
from .stats import comparisons, mean_ci, paired

__all__ = [
    'prepare_data', 'reference_levels', 'world_root', 'main', 'parse_args',
    'plan_world', 'report_world', 'tune', 'LABELS', 'MODELS', 'model_config',
    'trials',
    'write_readme', 'Run', 'execute', 'model_run', 'stage1_run',
    'comparisons', 'mean_ci', 'paired'
]
