"""The toy experiment's command line and its orchestration (see
:mod:`mmseg_lrp.analysis.toy_experiment`)."""
import argparse
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional

from mmseg_lrp.utils.results import read_run
from .data import prepare_data, reference_levels, world_root
from .models import (BASELINES, DEFAULT_MODELS, LABELS, LRP, MODELS, PAIRS,
                     REFERENCES, STAGE1_CONFIGS, stage1_arch, trials)
from .report import (auroc_rise, comparison_table, curves, late_gains,
                     metric_table, plot, plot_curves, score_table,
                     stage1_summary, world_checks, write_readme)
from .runs import Run, execute, model_run, stage1_dir, stage1_run
from .stats import comparisons


def parse_args(argv=None):
    from mmseg_lrp.datasets.toy_worlds import TOY_WORLDS
    p = argparse.ArgumentParser(
        description='The toy experiment: unrolled LRP against the '
        'no-guidance and CAM references and the baselines, on one or '
        'several toy worlds, reported on their test splits.')
    p.add_argument('--worlds', nargs='+', default=['digits'],
                   choices=sorted(TOY_WORLDS),
                   help='toy worlds to run (default: digits); each is '
                   'generated under data/toy_worlds/WORLD (digits: '
                   'data/toy_voc) if missing')
    p.add_argument('--data-root', default=None,
                   help='data root of the (single) world instead of its '
                   'default place')
    p.add_argument('--image-pool', type=int, default=8000,
                   help='image-level-only images when generating a world')
    p.add_argument('--work-dir', default='work_dirs/toy_experiment')
    p.add_argument('--models', nargs='+', default=list(DEFAULT_MODELS),
                   choices=list(MODELS),
                   help='models to run (default: %(default)s); the ViT '
                   'models (unrolled-lrp-vit, unrolled-lrp-frozen-vit) start '
                   'from a ViT stage 1, trained in stage1_vit')
    p.add_argument('--budgets', nargs='+', type=int, default=[10, 30, 120],
                   help='pixel-labelled images per run')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2],
                   help='seed of the split file and of the training')
    p.add_argument('--stage1-seeds', nargs='+', type=int, default=[0],
                   help='stage-1 classifiers per world (and per '
                   'architecture the models need: ResNet, ViT); run seed s '
                   'starts from stage-1 seed number s mod their count')
    p.add_argument('--iters', type=int, default=None,
                   help="iterations of every model run (default: the "
                   "recipe's, else each config's own)")
    p.add_argument('--stage1-iters', type=int, default=None,
                   help="stage-1 iterations, of every architecture's "
                   "(default: its config's; 0: no stage 1, every model "
                   'starts from random weights)')
    p.add_argument('--tune', action='store_true',
                   help='choose every model\'s learning rate x schedule on '
                   'the val split of the first world at the fewest pixel '
                   'labels (the same trials for every model) and write '
                   'them to --recipe; nothing is tested')
    p.add_argument('--recipe', default=None,
                   help='JSON of chosen hyper-parameters: written by --tune, '
                   'read otherwise (models it lacks keep their config\'s)')
    p.add_argument('--jobs', type=int, default=2, help='runs in parallel')
    p.add_argument('--threads', type=int, default=1,
                   help='torch threads per run')
    p.add_argument('--plot', default=None,
                   help='write the plot of the first world here')
    p.add_argument('--readme', default=None,
                   help='write the tables and the plot into this README')
    p.add_argument('--force', action='store_true',
                   help='rerun finished runs')
    args = p.parse_args(argv)
    if args.data_root and len(args.worlds) > 1:
        p.error('--data-root names the root of a single world')
    if args.tune and not args.recipe:
        p.error('--tune needs --recipe (where to write the choice)')
    return args


def _stage1_archs(models) -> List[str]:
    """The stage-1 architectures ``models`` start from, in
    :data:`models.STAGE1_CONFIGS`' order."""
    needed = {stage1_arch(m) for m in models}
    return [a for a in STAGE1_CONFIGS if a in needed]


def _stage1(args, root: str, wdir: str) -> List[Run]:
    """The stage-1 runs of a world: one per stage-1 seed and architecture
    that ``args.models`` need (none with ``--stage1-iters 0``); work dirs
    ``stage1`` / ``stage1_seed{s}`` (ResNet), ``stage1_vit`` /
    ``stage1_vit_seed{s}`` (ViT)."""
    if args.stage1_iters == 0:
        return []
    return [stage1_run(root, osp.join(wdir, stage1_dir(s, arch)), s,
                       args.stage1_iters, arch)
            for arch in _stage1_archs(args.models)
            for s in args.stage1_seeds]


def _stage1_of(stage1: List[Run], seed: int,
               arch: str = 'resnet') -> Optional[Run]:
    """The stage-1 run of architecture ``arch`` that run seed ``seed``
    starts from (seed mod their count; None without stage 1)."""
    own = [r for r in stage1 if (r.arch or 'resnet') == arch]
    return own[seed % len(own)] if own else None


def _stage1_info(args, runs: List[Run]) -> List[dict]:
    info = []
    for r in runs:
        wall = r.wall_seconds()
        info.append(dict(seed=r.seed, arch=r.arch or 'resnet',
                         map=read_run(r.work_dir, 'cls/mAP')['best'],
                         iters=r.iters,
                         minutes=None if wall is None else wall / 60))
    return info


def _recipe(path: Optional[str]) -> Dict[str, dict]:
    if not path:
        return {}
    if not osp.isfile(path):
        raise FileNotFoundError(f'--recipe {path}: no such file (write it '
                                'with --tune)')
    with open(path) as f:
        return json.load(f)['models']


def tune(args) -> dict:
    """Every model's trials (:func:`models.trials`) on the first world at
    the fewest pixel labels; the trial with the best mean val mIoU over
    seeds wins. Writes ``args.recipe``."""
    world = args.worlds[0]
    root = osp.abspath(args.data_root or world_root(world))
    wdir = osp.join(osp.abspath(args.work_dir), 'tune', world)
    logs = osp.join(wdir, 'logs')
    n = min(args.budgets)
    prepare_data(root, args.image_pool, [n], args.seeds, world)
    stage1 = _stage1(args, root, wdir)
    runs: Dict[tuple, Run] = {}
    for m in args.models:
        for i, t in enumerate(trials(m)):
            for s in args.seeds:
                runs[(m, i, s)] = model_run(
                    m, root, osp.join(wdir, m, f't{i}', f'n{n}_seed{s}'), n,
                    s, _stage1_of(stage1, s, stage1_arch(m)),
                    iters=t['iters'], lr=t['lr'],
                    name=f'{m}_t{i}_n{n}_seed{s}')
    print(f'[tune: {world}, {n} pixel labels] {len(stage1)} stage-1 and '
          f'{len(runs)} model runs', flush=True)
    execute(stage1 + list(runs.values()), args.jobs, args.threads, logs,
            args.force)
    chosen = {}
    for m in args.models:
        scored = []
        for i, t in enumerate(trials(m)):
            vals = [runs[(m, i, s)].result()['best'] for s in args.seeds]
            scored.append(dict(t, val_miou=sum(vals) / len(vals)))
        best = max(scored, key=lambda t: t['val_miou'])
        chosen[m] = dict(lr=best['lr'], iters=best['iters'],
                         val_miou=best['val_miou'], trials=scored)
        print(f"  {LABELS[m]}: lr {best['lr']}, {best['iters']} iterations "
              f"(val mIoU {best['val_miou']:.2f})", flush=True)
    recipe = dict(world=world, budget=n, seeds=list(args.seeds),
                  models=chosen)
    with open(args.recipe, 'w') as f:
        json.dump(recipe, f, indent=1)
    print(f'recipe written: {args.recipe}')
    return recipe


def plan_world(args, world: str, recipe: Dict[str, dict]) -> dict:
    """The data, the stage-1 runs and every (model, budget, seed) run of
    one world (the model runs wait for their stage-1 run)."""
    root = osp.abspath(args.data_root or world_root(world))
    wdir = osp.abspath(args.work_dir)
    if len(args.worlds) > 1:
        wdir = osp.join(wdir, world)
    num_train = prepare_data(root, args.image_pool, args.budgets,
                             args.seeds, world)
    stage1 = _stage1(args, root, wdir)
    runs = []
    for s in args.seeds:
        for n in args.budgets:
            for m in args.models:
                chosen = recipe.get(m, {})
                runs.append(model_run(
                    m, root, osp.join(wdir, m, f'n{n}_seed{s}'), n, s,
                    _stage1_of(stage1, s, stage1_arch(m)),
                    iters=args.iters or chosen.get('iters'),
                    lr=chosen.get('lr'), test=True))
    for r in stage1 + runs:
        r.log_dir = osp.join(wdir, 'logs')
        if len(args.worlds) > 1:
            r.world = world
    print(f'[{world}] {len(stage1)} stage-1 classifier(s), {len(runs)} '
          'model runs', flush=True)
    return dict(world=world, root=root, wdir=wdir, num_train=num_train,
                stage1=stage1, runs=runs)


def report_world(args, plan: dict, recipe: Dict[str, dict],
                 minutes: float) -> dict:
    """Results, paired comparisons and the report of one planned world."""
    world, root, runs = plan['world'], plan['root'], plan['runs']
    wdir, num_train, kept = plan['wdir'], plan['num_train'], plan['kept']
    stage1 = _stage1_info(args, plan['stage1'])
    results = [r.result() for r in runs]
    models, budgets = args.models, args.budgets
    ref = reference_levels(root, 'test')
    others = [m for m in REFERENCES + ('unrolled-lrp0', ) if m in models]
    rows = comparisons(results, LRP, others,
                       [m for m in BASELINES if m in models], budgets,
                       pairs=[p for p in PAIRS
                              if p[0] in models and p[1] in models])
    curve = curves(results, models, budgets)
    auc = curves(results, models, budgets, key='auroc/mean')
    s1 = stage1_summary(stage1)
    setting = (f'world `{world}`: {len(runs)} runs ({len(models)} models × '
               f'budgets {", ".join(map(str, budgets))} × seeds '
               f'{", ".join(map(str, args.seeds))}); stage 1: {s1}; '
               f'{minutes:.1f} min wall on {os.cpu_count()} CPU cores for '
               'the whole call'
               + (f' ({kept} runs kept from an earlier call)' if kept else '')
               + ('; hyper-parameters from the recipe' if recipe else ''))
    parts = [
        f'**{world}** — test mIoU of the best-val checkpoint ({num_train} '
        f'pixel-labelled train images at most; background everywhere: '
        f'{ref["background_miou"]:.2f}), mean ± std over seeds:', '',
        score_table(results, models, budgets, 'test'), '',
        'Paired by seed (same split, same stage 1), on test:', '',
        comparison_table(rows)
    ]
    val = score_table(results, models, budgets, 'val')
    extra = [('Best val mIoU (what checkpoints and hyper-parameters are '
              'chosen on):', val)]
    rise = auroc_rise(auc, models, budgets)
    if rise:
        extra.append(('Heatmap AUROC on val (own pixels vs background, '
                      'per image; first → last validation, seed means): '
                      'guidance shows as a rise', rise))
    cls = metric_table(results, models, budgets, 'cls/mAP')
    if cls:
        extra.append(('Classifier val mAP at the best-mIoU validation '
                      f'(stage 1: {s1}):', cls))
    extra.append(('Gain of the seed-mean val curve in the last quarter '
                  'of each run (mIoU points):',
                  late_gains(curve, models, budgets)))
    # the targets are the default world's (docs/toy_world.md)
    checks = world_checks(results, num_train, stage1) if world == 'digits' \
        else []
    if checks:
        extra.append(('World checks:', '\n'.join(f'- {c}' for c in checks)))
    for title, table in extra:
        parts += ['', title, '', table]
    return dict(world=world, root=root, setting=setting, stage1=stage1,
                reference=ref, runs=results, comparisons=rows,
                curves={f'{m}_n{n}': v for (m, n), v in curve.items()},
                report='\n'.join(parts), curve=curve, work_dir=wdir)


def main(argv=None) -> str:
    args = parse_args(argv)
    if args.tune:
        tune(args)
        return ''
    recipe = _recipe(args.recipe)
    start = time.time()
    plans = [plan_world(args, w, recipe) for w in args.worlds]
    # one queue for every world, stage-1 classifiers first: the cores stay
    # busy while a world's classifier trains
    queue = [r for p in plans for r in p['stage1']] + [
        r for p in plans for r in p['runs']]
    print(f'{len(queue)} runs, {args.jobs} at a time, {args.threads} '
          'thread(s) each', flush=True)
    kept = {id(r) for r in execute(
        queue, args.jobs, args.threads,
        osp.join(osp.abspath(args.work_dir), 'logs'), args.force)}
    for p in plans:
        p['kept'] = sum(id(r) in kept for r in p['stage1'] + p['runs'])
    minutes = (time.time() - start) / 60
    worlds = [report_world(args, p, recipe, minutes) for p in plans]
    text = '\n\n'.join(w['report'] for w in worlds)
    settings = '\n'.join(f'- {w["setting"]}' for w in worlds)
    out = osp.abspath(args.work_dir)
    with open(osp.join(out, 'results.json'), 'w') as f:
        json.dump(dict(recipe=recipe, worlds=[
            {k: v for k, v in w.items() if k not in ('curve', 'report')}
            for w in worlds]), f, indent=1, default=str)
    with open(osp.join(out, 'results.md'), 'w') as f:
        f.write(settings + '\n\n' + text + '\n')
    print('\n' + settings + '\n\n' + text)
    first = worlds[0]
    if args.plot:
        plot(first['runs'], args.models, args.budgets, args.plot,
             f"toy world {first['world']}, {len(args.seeds)} seeds",
             first['reference']['background_miou'])
        curves_path = osp.splitext(args.plot)[0] + '_curves.png'
        plot_curves(first['curve'], args.models, args.budgets, curves_path,
                    first['reference']['background_miou'])
        print(f'plots: {args.plot}, {curves_path}')
    if args.readme:
        block = ['`python tools/analysis_tools/toy_experiment.py`:', '',
                 settings, '', text]
        if args.plot:
            here = osp.dirname(osp.abspath(args.readme))
            block += ['', f'![toy experiment]'
                      f'({osp.relpath(osp.abspath(args.plot), here)}) '
                      f'![validation curves]'
                      f'({osp.relpath(osp.abspath(curves_path), here)})']
        write_readme(args.readme, '\n'.join(block))
        print(f'README block written: {args.readme}')
    return text
