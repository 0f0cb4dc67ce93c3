"""Shipping like an OpenMMLab project (issue #27).

- The model index: every config is in one metafile, every metafile entry's
  config exists and its metadata match the config, every metafile is in
  model-index.yml.
- The wheel carries the configs, the tools and the model index in
  ``mmseg_lrp/.mim``; installed outside the checkout, a config of the user's
  inherits ``mmseg_lrp::toy_experiment/...`` and builds its model, and mim
  finds tools/train.py (what ``mim train mmseg_lrp CONFIG`` runs).
- tools/slurm_train.sh and slurm_test.sh build mmseg's srun command lines,
  and train.py / test.py take ``--launcher slurm``.
"""
import functools
import glob
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest
import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = ('toy_experiment/'
              'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py')


def config_files():
    """Every config of the repository (not the ``_base_`` fragments),
    relative to the repository root."""
    files = glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    return sorted(
        osp.relpath(f, ROOT) for f in files
        if '_base_' not in osp.relpath(f, ROOT).split(os.sep))


def load_model_index():
    """``{metafile: its parsed YAML}`` in model-index.yml's order."""
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    metafiles = {}
    for path in index['Import']:
        with open(osp.join(ROOT, path)) as f:
            metafiles[path] = yaml.safe_load(f)
    return metafiles


def test_model_index_lists_every_config_once():
    metafiles = load_model_index()
    # every metafile of configs/ is imported, and each folder with configs
    # has one
    on_disk = sorted(
        osp.relpath(f, ROOT) for f in glob.glob(
            osp.join(ROOT, 'configs', '**', 'metafile.yaml'), recursive=True))
    assert sorted(metafiles) == on_disk
    folders = {osp.dirname(c) for c in config_files()}
    assert folders == {osp.dirname(m) for m in metafiles}

    listed, names = [], set()
    for path, meta in metafiles.items():
        collections = {c['Name'] for c in meta['Collections']}
        for c in meta['Collections']:
            assert osp.isfile(osp.join(ROOT, c['README'])), c['README']
        for model in meta['Models']:
            name, config = model['Name'], model['Config']
            assert name not in names, f'{path}: {name} listed twice'
            names.add(name)
            assert model['In Collection'] in collections, (path, name)
            assert osp.isfile(osp.join(ROOT, config)), (
                f'{path}: {name}: Config {config} does not exist')
            # in the metafile of its folder, named as the file
            assert osp.dirname(config) == osp.dirname(path), (path, config)
            assert osp.basename(config) == name + '.py', (path, name)
            assert {'Training Data', 'Batch Size', 'Iterations', 'Crop Size',
                    'Backbone', 'Architecture'} <= set(model['Metadata'])
            results = model.get('Results', [])
            for res in results if isinstance(results, list) else [results]:
                assert {'Task', 'Dataset', 'Metrics'} <= set(res), (path, name)
                assert all(isinstance(v, (int, float))
                           for v in res['Metrics'].values()), (path, name)
            listed.append(config)
    missing = sorted(set(config_files()) - set(listed))
    assert not missing, f'configs in no metafile: {missing}'


def test_metafile_metadata_match_the_configs(monkeypatch):
    """Batch size, iterations and crop size in the metafiles are the
    configs' own (catches a config changed without its metafile)."""
    from mmengine.config import Config
    from mmengine.config import utils as config_utils
    import mmseg_lrp.plugin  # noqa: F401

    # each `mmseg::` base makes mmengine parse mmseg's whole model index
    # (~0.5 s); read each of its YAML files once here
    monkeypatch.setattr(config_utils, 'load',
                        functools.lru_cache(maxsize=None)(config_utils.load))
    for meta in load_model_index().values():
        for model in meta['Models']:
            cfg = Config.fromfile(osp.join(ROOT, model['Config']))
            md = model['Metadata']
            crop = tuple(cfg.model.data_preprocessor['size'])
            assert (md['Batch Size'], md['Iterations'], md['Crop Size']) == (
                cfg.train_dataloader.batch_size, cfg.train_cfg.max_iters,
                f'({crop[0]},{crop[1]})'), model['Name']


OPENMMLAB = ('mmcv', 'mmengine', 'mmseg', 'mmpretrain')

IMPORT_SCRIPT = textwrap.dedent('''
    import json, sys
    import mmseg_lrp, mmseg_lrp.lrp
    loaded = sorted(m for m in sys.modules
                    if m.split('.')[0] in {openmmlab!r})
    from mmseg.registry import MODELS
    before = 'LRPTiedHead' in MODELS.module_dict
    import mmseg_lrp.plugin
    print(json.dumps(dict(loaded=loaded, before=before,
                          after='LRPTiedHead' in MODELS.module_dict)))
''').format(openmmlab=set(OPENMMLAB))


def test_importing_the_package_loads_no_openmmlab():
    """``import mmseg_lrp`` and its LRP core load no OpenMMLab module, with
    mmcv, mmengine, mmseg and mmpretrain installed; importing
    ``mmseg_lrp.plugin`` (the configs' ``custom_imports``) is what registers
    the components in mmseg's registries."""
    for name in OPENMMLAB:  # installed: the check below is not vacuous
        assert importlib.util.find_spec(name) is not None, name
    res = subprocess.run([sys.executable, '-c', IMPORT_SCRIPT], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out['loaded'] == [], (
        f'import mmseg_lrp, mmseg_lrp.lrp loaded {out["loaded"]}')
    assert not out['before']
    assert out['after'], 'mmseg_lrp.plugin did not register LRPTiedHead'


def test_plugin_without_mmseg_says_what_is_missing():
    code = ("import sys\n"
            "sys.modules['mmseg'] = None\n"
            "import mmseg_lrp.lrp\n"
            "import mmseg_lrp.plugin\n")
    res = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode != 0
    assert 'ImportError: mmseg_lrp.plugin registers' in res.stderr, (
        res.stderr[-3000:])
    assert 'needs mmsegmentation 1.x' in res.stderr


def _copy_checkout(dst):
    """The files of the checkout that git would commit (tracked plus
    untracked, not ignored), so that the build neither reads nor writes the
    working tree's build/ or mmseg_lrp/.mim."""
    try:
        out = subprocess.run(
            ['git', 'ls-files', '-z', '--cached', '--others',
             '--exclude-standard'],
            cwd=ROOT, check=True, capture_output=True).stdout
        files = [f for f in out.decode().split('\0') if f]
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('not a git checkout')
    for rel in files:
        src = osp.join(ROOT, rel)
        if not osp.isfile(src):  # deleted in the working tree
            continue
        os.makedirs(osp.join(dst, osp.dirname(rel)), exist_ok=True)
        shutil.copy2(src, osp.join(dst, rel))


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    _copy_checkout(str(src))
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '.', '--no-deps', '-q', '-w',
        str(tmp / 'dist')
    ], cwd=src, check=True)
    wheels = glob.glob(str(tmp / 'dist' / 'mmseg_lrp-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_carries_configs_tools_and_model_index(wheel):
    with zipfile.ZipFile(wheel) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    mim = 'mmseg_lrp/.mim/'
    for name in ['model-index.yml', 'tools/train.py', 'tools/test.py',
                 'tools/dist_train.sh', 'tools/slurm_train.sh',
                 'tools/slurm_test.sh', 'configs/' + TOY_CONFIG]:
        assert mim + name in infos, name
    for config in config_files():
        assert mim + config in infos, config
    for path in load_model_index():
        assert mim + path in infos, path
    for base in glob.glob(osp.join(ROOT, 'configs', '**', '_base_', '*.py'),
                          recursive=True):
        assert mim + osp.relpath(base, ROOT) in infos, base
    # the shell tools stay executable
    for name in ['tools/slurm_train.sh', 'tools/slurm_test.sh',
                 'tools/dist_train.sh']:
        assert (infos[mim + name].external_attr >> 16) & 0o111, name
    assert not [n for n in infos if '__pycache__' in n or n.endswith('.pyc')]


USER_SCRIPT = textwrap.dedent('''
    import json, os, os.path as osp, sys
    root, site = sys.argv[1], sys.argv[2]
    # the checkout must not be importable (an editable install puts it on
    # sys.path through a .pth file)
    sys.path = [p for p in sys.path
                if osp.realpath(p or os.getcwd()) != osp.realpath(root)]
    import mmseg_lrp.plugin  # registers, serves mmseg_lrp:: bases
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mim.utils import get_installed_path
    cfg = Config.fromfile('my_config.py')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    pkg = get_installed_path('mmseg_lrp')
    print(json.dumps(dict(
        file=mmseg_lrp.__file__, pkg=pkg, model=type(model).__name__,
        num_classes=model.decode_head.num_classes,
        max_iters=cfg.train_cfg.max_iters,
        train_py=osp.join(pkg, '.mim', 'tools', 'train.py'))))
''')


def test_installed_wheel_serves_package_configs(wheel, tmp_path):
    site = tmp_path / 'site'
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '--no-deps', '-q',
        '--target', str(site), wheel
    ], check=True)
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'my_config.py').write_text(
        f"_base_ = ['mmseg_lrp::{TOY_CONFIG}']\n"
        'train_cfg = dict(max_iters=2)\n')
    (run / 'user.py').write_text(USER_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='1')
    res = subprocess.run(
        [sys.executable, 'user.py', ROOT, str(site)], cwd=run, env=env,
        capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    site_pkg = osp.realpath(site / 'mmseg_lrp')
    assert osp.realpath(out['file']).startswith(site_pkg + os.sep)
    assert osp.realpath(out['pkg']) == site_pkg
    assert out['model'] == 'LRPEncoderDecoder'
    assert out['num_classes'] == 7  # the toy config's, through _base_
    assert out['max_iters'] == 2  # the user's override
    assert osp.isfile(out['train_py'])
    assert osp.realpath(out['train_py']).startswith(site_pkg + os.sep)


def _fake_srun(tmp_path):
    """A ``srun`` on PATH that records its arguments and runs nothing."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text('#!/usr/bin/env bash\n'
                    'printf "%s\\n" "$@" > "$SRUN_RECORD"\n'
                    'echo "MASTER_PORT=$MASTER_PORT" >> "$SRUN_RECORD"\n')
    srun.chmod(0o755)
    record = tmp_path / 'srun_args.txt'
    env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
               SRUN_RECORD=str(record), GPUS='16', GPUS_PER_NODE='8',
               CPUS_PER_TASK='3', SRUN_ARGS='--qos=high --time=1:00:00',
               PYTHON='mypython')
    env.pop('MASTER_PORT', None)
    env.pop('PORT', None)
    return env, record


@pytest.mark.parametrize('tool', ['slurm_train.sh', 'slurm_test.sh'])
def test_slurm_scripts_build_mmseg_srun_lines(tool, tmp_path):
    path = osp.join(ROOT, 'tools', tool)
    assert os.access(path, os.X_OK), f'{tool} is not executable'
    env, record = _fake_srun(tmp_path)
    fourth = 'work_dirs/x' if tool == 'slurm_train.sh' else 'ckpt.pth'
    subprocess.run([
        path, 'gpu-part', 'myjob', 'configs/c.py', fourth, '--cfg-options',
        'a=1'
    ], env=env, check=True, capture_output=True)
    args = record.read_text().splitlines()
    assert args[:8] == [
        '-p', 'gpu-part', '--job-name=myjob', '--gres=gpu:8', '--ntasks=16',
        '--ntasks-per-node=8', '--cpus-per-task=3', '--kill-on-bad-exit=1'
    ]
    assert args[8:10] == ['--qos=high', '--time=1:00:00']
    script = 'train.py' if tool == 'slurm_train.sh' else 'test.py'
    assert args[10:13] == [
        'mypython', '-u', osp.join(osp.dirname(path), script)]
    if tool == 'slurm_train.sh':
        tail = ['configs/c.py', '--work-dir=work_dirs/x', '--launcher=slurm']
    else:
        tail = ['configs/c.py', 'ckpt.pth', '--launcher=slurm']
    assert args[13:] == tail + ['--cfg-options', 'a=1', 'MASTER_PORT=29500']


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_tools_take_launcher_slurm(tool, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        f'lrp_tool_{tool[:-3]}', osp.join(ROOT, 'tools', tool))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = [tool, 'c.py'] + (['ckpt.pth'] if tool == 'test.py' else [])
    monkeypatch.setattr(sys, 'argv', argv + ['--launcher=slurm'])
    # parse_runner_args exports LOCAL_RANK when unset; keep it to this test
    monkeypatch.setenv('LOCAL_RANK', '0')
    assert module.parse_args().launcher == 'slurm'
