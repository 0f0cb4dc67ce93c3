"""The side-by-side tools: FLOPs that count the unrolled-LRP decoder, the
benchmark on semi-supervised batches, and the toy experiment script."""
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import statistics
import subprocess

import pytest
import torch
from mmengine.config import Config

import mmseg_lrp.plugin  # noqa: F401
from conftest import ROOT, tool_cmd, tool_env

TOY_DIR = osp.join(ROOT, 'configs', 'toy_experiment')
LRP_TOY = osp.join(
    TOY_DIR, 'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py')
UNET_TOY = osp.join(TOY_DIR,
                    'unet_r18-cifar-c16_1xb8-800iter_toyvoc-pixel-64x64.py')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', 'analysis_tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flops_count_one_decoder_pass_per_class():
    """Each class adds one LRP backward pass through the encoder, whose
    FLOPs are about those of the encoder's forward (conv vs transposed
    conv of the same layers), counted independently on the backbone by
    torch's own FlopCounterMode (2 FLOPs per multiply-add; mmengine counts
    one)."""
    from torch.utils.flop_counter import FlopCounterMode
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from mmseg_lrp.utils.flops import get_flops
    flops = {}
    for k in (7, 14):
        cfg = Config.fromfile(LRP_TOY)
        cfg.model.decode_head.num_classes = k
        flops[k] = get_flops(cfg, (64, 64), 'cpu')['flops']
    init_default_scope('mmseg')
    backbone = MODELS.build(Config.fromfile(LRP_TOY).model).backbone
    backbone.eval()  # (mmpretrain's ResNet.train returns None)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        backbone(torch.rand(1, 3, 64, 64))
    encoder = counter.get_total_flops() / 2
    per_class = (flops[14] - flops[7]) / 7
    assert 0.8 * encoder < per_class < 1.5 * encoder
    assert flops[7] > 7 * per_class  # encoder + 7 decoder passes


@pytest.mark.slow
def test_benchmark_on_semi_supervised_batches():
    res = subprocess.run(
        tool_cmd('analysis_tools/benchmark.py', LRP_TOY, UNET_TOY, '--shape',
                 32, 32, '--batch-size', 4, '--pixel-labelled', 2, '--iters',
                 1, '--warmup', 0, '--threads', 1, '--device', 'cpu'),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode == 0, res.stdout[-4000:]
    assert 'pixel-labelled: 2' in res.stdout
    header = [line for line in res.stdout.splitlines()
              if line.startswith('| config')][0]
    assert 'GFLOPs (1 image)' in header
    rows = [line for line in res.stdout.splitlines()
            if line.startswith('| unrolled-lrp') or line.startswith('| unet')]
    assert len(rows) == 2
    # the first row is the reference: all its ratios are 1.00x
    cells = [c.strip() for c in rows[0].split('|')[2:-1]]
    assert len(cells) == 6 and all(c.endswith('(1.00x)') for c in cells), \
        rows[0]
    assert not all(c.endswith('(1.00x)')
                   for c in rows[1].split('|')[2:-1]), rows[1]


@pytest.fixture()
def readme(tmp_path):
    path = tmp_path / 'README.md'
    path.write_text('# title\n\nbefore\n<!-- toy-experiment:begin -->\nold\n'
                    '<!-- toy-experiment:end -->\nafter\n')
    return path


def best_from_scalars(work_dir, key='mIoU'):
    """Best val mIoU of a run, read straight from mmengine's scalars, or
    the value of ``key`` at that validation (the first best)."""
    vals = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as f:
            vals += [json.loads(line) for line in f if '"mIoU"' in line]
    best = max(v['mIoU'] for v in vals)
    return [v[key] for v in vals if v['mIoU'] == best][0]


@pytest.mark.slow
def test_toy_experiment_end_to_end(toy_semi, tmp_path, readme, capsys):
    """Two models, two seeds: every run starts from stage 1, is tested on
    the test split with its best-val checkpoint, and the tables' numbers
    are those of the runs' own logs and test metrics."""
    tool = load_tool('toy_experiment')
    work = tmp_path / 'work'
    argv = ['--data-root', toy_semi, '--work-dir', str(work), '--budgets',
            '6', '--seeds', '0', '1', '--models', 'unrolled-lrp',
            'unrolled-lrp-frozen', 'unet', '--iters', '2', '--stage1-iters',
            '2', '--jobs', '2', '--plot', str(tmp_path / 'plot.png'),
            '--readme', str(readme)]
    text = tool.main(argv)
    results = json.loads((work / 'results.json').read_text())
    runs = results['worlds'][0]['runs']
    assert len(runs) == 6
    for run in runs:
        model, name = run['work_dir'].split('/')[-2:]
        seed = int(name.split('seed')[1])
        assert run['pixel_labels'] == 6 and run['seed'] == seed
        assert run['model_name'] == model
        cfg = Config.fromfile(glob.glob(osp.join(run['work_dir'], '*.py'))[0])
        assert (cfg.train_dataloader.dataset.pixel_split ==
                f'ImageSets/SemiSeg/paper_6_seed{seed}.txt')
        log = (work / 'logs' / f'{model}_n6_seed{seed}.log').read_text()
        assert 'stage1/best_cls_mAP_iter_' in log  # started from stage 1
        # tested on the test split, with the best-val checkpoint
        assert 'best_mIoU_iter_' in log and 'test.txt' not in run['work_dir']
        test_cfg = Config.fromfile(glob.glob(osp.join(
            run['work_dir'], 'test', '*', 'vis_data', 'config.py'))[0])
        assert test_cfg.test_dataloader.dataset.ann_file.endswith('test.txt')
    test_part, rest = text.split('Paired by seed')
    val_part = rest.split('Best val mIoU')[1].split('\n\n')[1]
    for model, label in (('unrolled-lrp', 'unrolled LRP (semi-sup.)'),
                         ('unet', 'UNet (sup.)')):
        dirs = [work / model / f'n6_seed{s}' for s in (0, 1)]
        tests = [json.loads((d / 'test_metrics.json').read_text())['mIoU']
                 for d in dirs]
        bests = [best_from_scalars(str(d)) for d in dirs]
        for part, vals in ((test_part, tests), (val_part, bests)):
            row = [line for line in part.splitlines()
                   if line.startswith(f'| {label} |')][0]
            assert (f'{statistics.mean(vals):.2f} ± '
                    f'{statistics.stdev(vals):.2f}') in row, (row, vals)
    # the paired rows: LRP - the no-guidance reference, per seed, with a CI
    paired = [line for line in rest.splitlines()
              if line.startswith('| 6 | no guidance')][0]
    diffs = [json.loads((work / 'unrolled-lrp' / f'n6_seed{s}' /
                         'test_metrics.json').read_text())['mIoU'] -
             json.loads((work / 'unrolled-lrp-frozen' / f'n6_seed{s}' /
                         'test_metrics.json').read_text())['mIoU']
             for s in (0, 1)]
    assert ', '.join(f'{d:+.2f}' for d in diffs) in paired
    assert re.search(r'\[[+-]\d+\.\d\d, [+-]\d+\.\d\d\]', paired)
    # the classifier table lists the LRP model's cls mAP, not the UNet's
    cls_part = text.split('Classifier val mAP')[1].split('Gain of the')[0]
    maps = [best_from_scalars(str(work / 'unrolled-lrp' / f'n6_seed{s}'),
                              'cls/mAP') for s in (0, 1)]
    assert (f'| unrolled LRP (semi-sup.) | {statistics.mean(maps):.2f} |'
            in cls_part)
    assert '| UNet' not in cls_part
    assert 'Heatmap AUROC' in text
    assert re.search(r'- stage-1 classifier, seed 0: val mAP \d+\.\d in', text)
    readme_text = readme.read_text()
    assert readme_text.startswith('# title\n\nbefore\n<!-- toy-experiment:')
    assert readme_text.endswith('<!-- toy-experiment:end -->\nafter\n')
    assert 'old' not in readme_text and text in readme_text
    assert '](plot.png)' in readme_text
    assert (tmp_path / 'plot.png').read_bytes()[:4] == b'\x89PNG'
    # a second call keeps the finished runs
    capsys.readouterr()
    tool.main(argv)
    out = capsys.readouterr().out
    assert out.count('finished before, kept') == 7  # stage 1 + 6 runs
    assert len(glob.glob(str(work / 'unet' / 'n6_seed0' / '2*'))) == 1


def test_toy_experiment_tune_chooses_on_val(toy_semi, tmp_path,
                                            monkeypatch):
    """--tune gives every model the same trials and keeps, per model, the
    trial with the best mean val mIoU; the recipe is then applied."""
    tool = load_tool('toy_experiment')
    from mmseg_lrp.analysis.toy_experiment import experiment, models
    monkeypatch.setattr(models, 'LR_FACTORS', (1.0, 3.0))
    monkeypatch.setattr(models, 'ITER_FACTORS', (1.0, ))
    recipe = tmp_path / 'recipe.json'
    argv = ['--data-root', toy_semi, '--work-dir', str(tmp_path / 'w'),
            '--budgets', '6', '--seeds', '0', '--models', 'unrolled-lrp',
            'unet', '--stage1-iters', '2', '--recipe', str(recipe)]
    monkeypatch.setattr(models, 'config_schedule', lambda c: (1e-3, 2))
    monkeypatch.setattr(experiment, 'trials', models.trials)
    tool.main(argv + ['--tune'])
    chosen = json.loads(recipe.read_text())
    assert chosen['budget'] == 6 and chosen['world'] == 'digits'
    for m in ('unrolled-lrp', 'unet'):
        got = chosen['models'][m]
        assert [t['lr'] for t in got['trials']] == [1e-3, 3e-3]
        best = max(got['trials'], key=lambda t: t['val_miou'])
        assert got['lr'] == best['lr'] and got['val_miou'] == best['val_miou']
        for i, t in enumerate(got['trials']):
            cfg = Config.fromfile(glob.glob(osp.join(
                tmp_path, 'w', 'tune', 'digits', m, f't{i}', 'n6_seed0',
                '*.py'))[0])
            assert cfg.optim_wrapper.optimizer.lr == pytest.approx(t['lr'])
            assert best_from_scalars(osp.join(
                tmp_path, 'w', 'tune', 'digits', m, f't{i}',
                'n6_seed0')) == pytest.approx(t['val_miou'])


def test_toy_experiment_rejects_bad_input(toy_semi, tmp_path):
    tool = load_tool('toy_experiment')
    with pytest.raises(ValueError, match='budget 500: .* 12 pixel-labelled'):
        tool.prepare_data(toy_semi, 0, [500], [0])
    bare = tmp_path / 'README.md'
    bare.write_text('# no block\n')
    with pytest.raises(ValueError, match='README.md: no <!-- toy-exp'):
        tool.write_readme(str(bare), 'table')


def plan(tmp_path, monkeypatch, *argv):
    """plan_world() of the digits world with ``argv`` (no data made: the
    world's 120 pixel-labelled images are taken as given; each config's
    schedule read once)."""
    import functools
    from mmseg_lrp.analysis.toy_experiment import experiment, runs
    monkeypatch.setattr(experiment, 'prepare_data', lambda *a, **k: 120)
    monkeypatch.setattr(runs, 'config_schedule',
                        functools.lru_cache()(runs.config_schedule))
    args = experiment.parse_args(
        ['--data-root', str(tmp_path / 'data'), '--work-dir',
         str(tmp_path / 'w'), '--budgets', '10', '--seeds', '0', '1', '2'] +
        list(argv))
    return experiment.plan_world(args, 'digits', {})


def test_toy_experiment_plans_one_stage1_per_architecture(tmp_path,
                                                          monkeypatch):
    """The ViT models start from the ViT stage 1 (stage1_vit, its own
    config, trained as the ResNet's), the others from the ResNet's
    (stage1, as before); one of each per stage-1 seed, and the default
    models plan no ViT stage 1."""
    from mmseg_lrp.analysis.toy_experiment import models
    from mmseg_lrp.analysis.toy_experiment.runs import (data_options,
                                                        loader_options)
    work = tmp_path / 'w'
    resnet_cfg = osp.join(
        TOY_DIR, 'unrolled-lrp_r18-cifar-c16_1xb16-3000iter_toyvoc-cls-'
        '64x64.py')
    vit_cfg = osp.join(
        TOY_DIR, 'unrolled-lrp_vit-l4-c96-p8_1xb16-10000iter_toyvoc-cls-'
        '64x64.py')
    assert models.STAGE1_CONFIGS == dict(resnet=resnet_cfg, vit=vit_cfg)
    assert models.STAGE1_CONFIG == resnet_cfg
    assert not {'unrolled-lrp-vit', 'unrolled-lrp-frozen-vit'} & set(
        models.DEFAULT_MODELS)

    got = plan(tmp_path, monkeypatch, '--models', 'unrolled-lrp',
               'unrolled-lrp-vit', '--stage1-seeds', '0', '1')
    stage1 = got['stage1']
    assert [(r.name, osp.relpath(r.work_dir, work), r.config, r.seed)
            for r in stage1] == [
                ('stage1_seed0', 'stage1', resnet_cfg, 0),
                ('stage1_seed1', 'stage1_seed1', resnet_cfg, 1),
                ('stage1_vit_seed0', 'stage1_vit', vit_cfg, 0),
                ('stage1_vit_seed1', 'stage1_vit_seed1', vit_cfg, 1)]
    root = str(tmp_path / 'data')
    for r in stage1:  # the ResNet's options, the same for the ViT
        assert r.options == data_options(root, 1)[:2] + loader_options() + [
            f'randomness.seed={r.seed}']
        assert r.iters == (10000 if 'vit' in r.name else 3000)
        assert r.metric == 'cls/mAP'
    # each stage 1's best checkpoint, as a finished run leaves it
    for r in stage1:
        os.makedirs(r.work_dir)
        open(osp.join(r.work_dir, 'best_cls_mAP_iter_3000.pth'), 'w').close()
    runs = {(r.model, r.name.split('seed')[1]): r for r in got['runs']}
    assert len(runs) == 6
    for seed in (0, 1, 2):
        for model, first in (('unrolled-lrp', 0), ('unrolled-lrp-vit', 2)):
            r = runs[(model, str(seed))]
            want = stage1[first + seed % 2]  # seed mod the stage-1 count
            assert r.after is want
            assert r.config == osp.join(TOY_DIR, models.MODELS[model])
            assert r.late_options() == [
                f'load_from={want.work_dir}/best_cls_mAP_iter_3000.pth']
            assert r.command()[-1] == r.late_options()[0]
    assert runs[('unrolled-lrp-vit', '0')].config.endswith(
        'unrolled-lrp_vit-l4-c96-p8_1xb8-300iter_toyvoc-semi-64x64.py')

    # --stage1-iters applies to both architectures
    got = plan(tmp_path, monkeypatch, '--models', 'unrolled-lrp-frozen-vit',
               '--stage1-iters', '30')
    assert [(r.name, r.iters) for r in got['stage1']] == [
        ('stage1_vit_seed0', 30)]
    assert 'train_cfg.max_iters=30' in got['stage1'][0].options
    assert all(r.after is got['stage1'][0] for r in got['runs'])

    # the default suite: the ResNet stage 1 alone, where it always was
    got = plan(tmp_path, monkeypatch)
    assert [(r.name, osp.relpath(r.work_dir, work), r.config)
            for r in got['stage1']] == [('stage1_seed0', 'stage1',
                                         resnet_cfg)]
    assert all(r.after is got['stage1'][0] for r in got['runs'])


def test_toy_experiment_keeps_a_finished_vit_stage1(tmp_path, monkeypatch):
    """A ViT stage 1 trained by hand in WORK/stage1_vit with the same
    options counts as finished once its final validation is logged: it is
    kept, not rerun, and reported by architecture."""
    from mmseg_lrp.analysis.toy_experiment import experiment
    from mmseg_lrp.analysis.toy_experiment.report import (stage1_summary,
                                                          world_checks)
    logged = tmp_path / 'w' / 'stage1_vit' / '20260101_000000' / 'vis_data'
    logged.mkdir(parents=True)
    (logged / 'config.py').write_text(
        'train_dataloader = dict(dataset=dict())\n')
    records = [{'cls/mAP': 70.0, 'step': 5000}]
    (logged / 'scalars.json').write_text(
        ''.join(json.dumps(r) + '\n' for r in records))
    got = plan(tmp_path, monkeypatch, '--models', 'unrolled-lrp-vit',
               'unrolled-lrp-frozen-vit')
    vit = got['stage1'][0]
    assert not vit.finished()  # still training: would start over
    records.append({'cls/mAP': 81.25, 'step': 10000})
    (logged / 'scalars.json').write_text(
        ''.join(json.dumps(r) + '\n' for r in records))
    assert vit.finished()
    info = experiment._stage1_info(None, got['stage1'])
    assert info == [dict(seed=0, arch='vit', map=81.25, iters=10000,
                         minutes=None)]
    assert stage1_summary(info) == 'ViT seed 0: val mAP 81.2'
    assert world_checks([], 120, info)[0].startswith(
        'stage-1 classifier (ViT), seed 0: val mAP 81.2 in ? min')
    resnet = dict(seed=0, arch='resnet', map=93.2, iters=3000, minutes=10.1)
    # the ResNet alone reads as before; beside the ViT, named too
    assert stage1_summary([resnet]) == 'seed 0: val mAP 93.2'
    assert world_checks([], 120, [resnet])[0].startswith(
        'stage-1 classifier, seed 0: val mAP 93.2 in 10.1 min')
    assert stage1_summary([resnet] + info) == (
        'ResNet-18 seed 0: val mAP 93.2, ViT seed 0: val mAP 81.2')


def test_toy_experiment_pairs_the_vit_models():
    """The ViT rows: ViT LRP - its no-guidance reference, paired by seed
    beside the ResNet's rows (unchanged) where both ViT models are run."""
    from mmseg_lrp.analysis.toy_experiment import comparisons
    from mmseg_lrp.analysis.toy_experiment.models import PAIRS
    from mmseg_lrp.analysis.toy_experiment.report import (comparison_table,
                                                          score_table)

    def run(model, seed, test):
        return dict(model_name=model, pixel_labels=10, seed=seed, best=test,
                    test=dict(mIoU=test))

    results = [run('unrolled-lrp', s, 50 + s) for s in range(3)]
    results += [run('unrolled-lrp-frozen', s, 48) for s in range(3)]
    results += [run('unrolled-lrp-vit', s, 40 + 2 * s) for s in range(3)]
    results += [run('unrolled-lrp-frozen-vit', s, 41) for s in range(3)]
    plain = comparisons(results, 'unrolled-lrp', ['unrolled-lrp-frozen'],
                        [], [10])
    rows = comparisons(results, 'unrolled-lrp', ['unrolled-lrp-frozen'], [],
                       [10], pairs=PAIRS)
    assert rows[:1] == plain and len(rows) == 2
    vit = rows[1]
    assert (vit['model'], vit['other']) == ('unrolled-lrp-vit',
                                            'unrolled-lrp-frozen-vit')
    assert vit['diffs'] == [-1, 1, 3] and vit['positive'] == 2
    table = comparison_table(rows).splitlines()
    assert table[:3] == comparison_table(plain).splitlines()
    assert table[3].startswith(
        '| 10 | no guidance, ViT: frozen stage 1 + bias (LRP here: unrolled '
        'LRP, ViT (semi-sup.)) | -1.00, +1.00, +3.00 | +1.00 [')
    scores = score_table(results, ['unrolled-lrp', 'unrolled-lrp-vit',
                                   'unrolled-lrp-frozen-vit'], [10])
    assert '| unrolled LRP, ViT (semi-sup.) | 42.00 ± 2.00 |' in scores
    assert ('| no guidance, ViT: frozen stage 1 + bias | 41.00 ± 0.00 |'
            in scores)


@pytest.mark.slow
@pytest.mark.parametrize(
    'path', sorted(glob.glob(osp.join(TOY_DIR, '[a-z]*.py'))),
    ids=lambda p: osp.basename(p))
def test_toy_experiment_configs_train_and_validate(path, toy_semi, tmp_path):
    """Every config of the toy experiment trains one iteration and
    validates (the script itself runs two of them above)."""
    from mmengine.runner import Runner
    from test_voc_configs import toy_overrides
    cfg = toy_overrides(Config.fromfile(path), toy_semi, tmp_path)
    hooks = cfg.get('custom_hooks', None) or []
    if 'RequireCheckpointHook' in [h['type'] for h in hooks]:
        # the paper-compat model starts from stage 1: refused without it
        with pytest.raises(RuntimeError, match='load_from'):
            Runner.from_cfg(cfg.copy()).train()
        from mmseg.registry import MODELS
        from mmseg_lrp.utils import register_checkpoint_loader
        register_checkpoint_loader()
        cfg.load_from = str(tmp_path / 'stage1.pth')
        torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()),
                   cfg.load_from)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert 0 <= runner.message_hub.get_scalar('val/mIoU').current() <= 100
    if '-semi' in path or '-cls' in path:  # the models with a classifier
        assert 0 <= runner.message_hub.get_scalar(
            'val/cls/mAP').current() <= 100


def test_paired_differences_with_t_intervals_and_val_choice():
    """Paired LRP - X per seed with the textbook 95 % t-interval (t_{0.975,
    2} = 4.302653 from the tables), and the best baseline chosen on val even
    where test ranks it otherwise."""
    from mmseg_lrp.analysis.toy_experiment import comparisons, paired

    def run(model, seed, val, test):
        return dict(model_name=model, pixel_labels=10, seed=seed, best=val,
                    test=dict(mIoU=test))

    results = [run('unrolled-lrp', s, 50, t) for s, t in enumerate(
        (41, 42, 43))]
    results += [run('unrolled-lrp-frozen', s, 45, 40) for s in range(3)]
    results += [run('unet', s, 60, 10) for s in range(3)]  # best on val
    results += [run('deeplabv3', s, 40, 30) for s in range(3)]  # on test
    row = paired(results, 'unrolled-lrp', 'unrolled-lrp-frozen', 10)
    assert row['diffs'] == [1, 2, 3] and row['positive'] == 3
    half = 4.302653 * 1.0 / 3**0.5
    assert row['lo'] == pytest.approx(2 - half, abs=1e-5)
    assert row['hi'] == pytest.approx(2 + half, abs=1e-5)
    rows = comparisons(results, 'unrolled-lrp', ['unrolled-lrp-frozen'],
                       ['unet', 'deeplabv3'], [10])
    best = [r for r in rows if r['best_baseline']]
    assert [r['other'] for r in best] == ['unet']
    assert best[0]['diffs'] == [31, 32, 33]
    assert paired(results, 'unrolled-lrp', 'cam-frozen', 10) is None


def test_scheduler_runs_worlds_in_one_queue(tmp_path):
    """execute(): a model run starts only after the stage-1 run it waits
    for has finished, reads that run's checkpoint when it starts, and the
    cores stay busy across worlds (a second world's stage 1 runs beside the
    first's); a run that starts alone gets every job's threads."""
    import sys
    import time
    from mmseg_lrp.analysis.toy_experiment.runs import Run, execute
    trace = tmp_path / 'trace.txt'
    script = ('import json, os, sys, time\n'
              'wd, name, iters, extra = sys.argv[1:5]\n'
              'with open(sys.argv[5], "a") as f:\n'
              '    f.write(f"start {name} {time.time()} '
              '{os.environ[\'OMP_NUM_THREADS\']} {extra}\\n")\n'
              'time.sleep(0.6)\n'
              'os.makedirs(f"{wd}/0/vis_data")\n'
              'open(f"{wd}/0/vis_data/config.py", "w").write(\n'
              '    "train_dataloader = dict(dataset=dict())")\n'
              'open(f"{wd}/best_cls_mAP_iter_{iters}.pth", "w").close()\n'
              'with open(f"{wd}/0/vis_data/scalars.json", "w") as f:\n'
              '    f.write(json.dumps({"mIoU": 1.0, "step": int(iters)}))\n'
              'with open(sys.argv[5], "a") as f:\n'
              '    f.write(f"end {name} {time.time()}\\n")\n')

    class FakeRun(Run):
        def command(self):
            late = self.late_options() if self.late_options else ['-']
            return [sys.executable, '-c', script, self.work_dir, self.name,
                    str(self.iters), late[0], str(trace)]

    def run(name, after=None):
        late = None if after is None else (
            lambda: [glob.glob(osp.join(after.work_dir, '*.pth'))[0]])
        return FakeRun(name, 'cfg.py', str(tmp_path / name), [], 3,
                       after=after, late_options=late)

    s1a, s1b = run('s1a'), run('s1b')
    queue = [s1a, s1b, run('a1', s1a), run('a2', s1a), run('b1', s1b)]
    start = time.time()
    execute(queue, jobs=2, threads=1, log_dir=str(tmp_path / 'logs'))
    events = {}
    for line in trace.read_text().splitlines():
        kind, name, t, *rest = line.split()
        events[(kind, name)] = (float(t) - start, rest)
    # both classifiers at once, one thread each
    assert events[('start', 's1b')][0] < events[('end', 's1a')][0]
    assert events[('start', 's1a')][1][0] == '1'
    for name, dep in (('a1', 's1a'), ('a2', 's1a'), ('b1', 's1b')):
        assert events[('start', name)][0] >= events[('end', dep)][0]
        # its stage-1 checkpoint, found when it started
        assert events[('start', name)][1][1].endswith(
            f'{dep}/best_cls_mAP_iter_3.pth')
    # b1 is the last run, alone in the queue: it gets both threads
    assert events[('start', 'b1')][1][0] == '2'
    # a run whose stage 1 is neither finished nor queued: an error
    never = FakeRun('never', 'cfg.py', str(tmp_path / 'never'), [], 3)
    orphan = run('orphan', after=never)
    with pytest.raises(RuntimeError, match='orphan waits for never'):
        execute([orphan], jobs=1, threads=1, log_dir=str(tmp_path / 'logs'))
