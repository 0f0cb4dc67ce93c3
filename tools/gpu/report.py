"""The JSON report of the GPU check (tools/gpu/check.sh).

Two commands, both standard library only except ``env``'s optional imports,
so the report is written even when the install stage failed::

    python tools/gpu/report.py collect WORK OUT.json
    python tools/gpu/report.py env OUT.json

``collect`` reads what check.sh left in WORK (``stages/NAME.json``: status,
return code, seconds and budget of each stage; ``stages/NAME.notes``: the
tab-separated numbers the stage noted; ``stages/NAME.log``: its output) and
the stages' own outputs (training ``scalars.json``, the test metrics, the
benchmark JSON files, the oracle's log), and writes one entry per stage in
the order they ran, with that stage's numbers. A failed or cut stage gets
the tail of its output. Every reader is guarded: a missing or malformed
file leaves a note in the entry instead of stopping the report.

``env`` writes the interpreter, torch, CUDA, GPU and package versions.
"""
import glob
import json
import os
import os.path as osp
import re
import sys
import time
from typing import Callable, Dict, List, Optional

TAIL_LINES = 25
SETTINGS = ('DEVICE', 'QUICK', 'PYTHON', 'WORK', 'OUT', 'MMCV', 'MAX_JOBS',
            'TOY_IMAGES', 'S1_ITERS', 'S1_VAL', 'S2_ITERS', 'S2_VAL',
            'BUILD_TIMEOUT')


def number(text: str):
    """``text`` as an int or float if it is one, else unchanged."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_notes(path: str) -> Dict[str, object]:
    """The ``KEY<TAB>VALUE`` lines a stage noted (last value wins)."""
    notes = {}
    if osp.isfile(path):
        with open(path) as f:
            for line in f:
                key, _, value = line.rstrip('\n').partition('\t')
                if key:
                    notes[key] = number(value)
    return notes


def tail(path: str, lines: int = TAIL_LINES) -> List[str]:
    """The last non-empty lines of a text file."""
    if not osp.isfile(path):
        return []
    with open(path, errors='replace') as f:
        text = [line.rstrip() for line in f if line.strip()]
    return text[-lines:]


def scalars(work_dir: str) -> Dict[str, object]:
    """Training and validation numbers of one mmengine run.

    Args:
        work_dir: The run's work dir (``*/vis_data/scalars.json`` below it).

    Returns:
        Iterations reached, the last logged training loss, the mean time
        and data time per iteration, and each validation record.
    """
    train, val = [], []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                (train if 'loss' in rec else val).append(rec)
    out: Dict[str, object] = dict(train_records=len(train))
    if train:
        # the first logged interval holds the start-up (CUDA init, workers)
        steady = train[1:] or train
        out.update(
            iters=max(r.get('iter', 0) for r in train),
            last_loss=train[-1]['loss'],
            losses={k: v for k, v in train[-1].items()
                    if 'loss' in k or k.startswith('decode.acc')},
            sec_per_iter=sum(r['time'] for r in steady) / len(steady),
            data_sec_per_iter=sum(r['data_time'] for r in steady)
            / len(steady))
    keys = ('step', 'mIoU', 'mAcc', 'aAcc', 'cls/mAP')
    out['val'] = [{k: r[k] for k in keys if k in r} for r in val]
    for metric in ('mIoU', 'cls/mAP'):
        vals = [r[metric] for r in val if metric in r]
        if vals:
            out[f'best_{metric}'] = max(vals)
            out[f'last_{metric}'] = vals[-1]
    return out


def oracle_numbers(work: str) -> dict:
    """The identity lines of lrp_gpu_check.py's log."""
    out = {}
    pat = re.compile(r'\[identity\] (\S+) on (\S+): .*max relative error '
                     r'(\S+) \((\w+)\)')
    with open(osp.join(work, 'oracle.log')) as f:
        for line in f:
            if line.startswith('torch '):
                out['header'] = line.strip()
            m = pat.search(line)
            if m:
                out[m.group(1)] = dict(device=m.group(2),
                                       max_rel_error=float(m.group(3)),
                                       result=m.group(4))
    return out


def toy_data_numbers(work: str) -> dict:
    """The toy VOC writer's summary line."""
    for line in tail(osp.join(work, 'toy_data.log'), 5):
        if line.startswith('wrote toy VOC'):
            return dict(summary=line)
    return {}


def train_numbers(name: str) -> Callable[[str], dict]:
    """Reader of a training stage's two runs (``runs/NAME/stage{1,2}``)."""

    def read(work: str) -> dict:
        runs = {}
        for stage in ('stage1', 'stage2'):
            d = osp.join(work, 'runs', name, stage)
            if osp.isdir(d):
                runs[stage] = scalars(d)
        return runs

    return read


def test_numbers(work: str) -> dict:
    """The metrics tools/test.py wrote (``TIMESTAMP/TIMESTAMP.json``)."""
    files = sorted(glob.glob(osp.join(work, 'runs', 'fp32', 'test', '*',
                                      '*.json')))
    if not files:
        return {}
    with open(files[-1]) as f:
        return json.loads(f.readline())


def json_file(path: str) -> Callable[[str], dict]:
    """Reader that returns a JSON file as it is."""

    def read(work: str) -> dict:
        with open(path) as f:
            return json.load(f)

    return read


def env_numbers(work: str) -> dict:
    out = {}
    path = osp.join(work, 'env.json')
    if osp.isfile(path):
        with open(path) as f:
            out.update(json.load(f))
    smi = osp.join(work, 'nvidia-smi.csv')
    if osp.isfile(smi):
        with open(smi) as f:
            out['nvidia_smi'] = [line.strip() for line in f if line.strip()]
    return out


def readers(work: str, out_dir: str) -> Dict[str, Callable[[str], dict]]:
    return {
        'oracle': oracle_numbers,
        'toy_data': toy_data_numbers,
        'train_fp32': train_numbers('fp32'),
        'train_amp': train_numbers('amp'),
        'test_fp32': test_numbers,
        'benchmark': json_file(osp.join(out_dir, 'benchmark.json')),
        'benchmark_lrp': json_file(osp.join(out_dir, 'benchmark_lrp.json')),
        'env': env_numbers,
    }


def collect(work: str, out: str) -> dict:
    """Merge the stages' records and numbers into ``out``.

    Args:
        work: check.sh's WORK folder.
        out: The JSON file to write.

    Returns:
        The report written.
    """
    stage_dir = osp.join(work, 'stages')
    records = []
    for path in glob.glob(osp.join(stage_dir, '*.json')):
        with open(path) as f:
            records.append(json.load(f))
    records.sort(key=lambda r: r.get('order', 0))
    read = readers(work, osp.dirname(osp.abspath(out)))
    stages = []
    for rec in records:
        name = rec['name']
        entry = dict(rec)
        entry['numbers'] = read_notes(osp.join(stage_dir, name + '.notes'))
        if rec['status'] != 'skipped' and name in read:
            try:
                entry['numbers'].update(read[name](work))
            except Exception as e:  # report what could not be read, go on
                entry['numbers']['unreadable'] = f'{type(e).__name__}: {e}'
        if rec['status'] in ('failed', 'timeout'):
            entry['output_tail'] = tail(osp.join(stage_dir, name + '.log'))
        stages.append(entry)
    report = dict(
        written=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        settings={k: os.environ[k] for k in SETTINGS if k in os.environ},
        summary={s: [e['name'] for e in stages if e['status'] == s]
                 for s in ('ok', 'failed', 'timeout', 'skipped')},
        stages=stages)
    with open(out, 'w') as f:
        json.dump(report, f, indent=1)
    return report


def env(out: str) -> dict:
    """Interpreter, torch, CUDA, GPU and package versions into ``out``."""
    info: Dict[str, object] = dict(python=sys.version.split()[0],
                                   cpus=os.cpu_count())
    try:
        import torch
        info.update(torch=torch.__version__, cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(),
                    cuda_available=torch.cuda.is_available())
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            info.update(gpu=p.name, gpu_memory_mib=p.total_memory // 2**20,
                        capability='%d.%d' % (p.major, p.minor),
                        multiprocessors=p.multi_processor_count)
    except Exception as e:
        info['torch_error'] = f'{type(e).__name__}: {e}'
    for name in ('torchvision', 'numpy', 'mmengine', 'mmcv', 'mmseg',
                 'mmpretrain', 'mmseg_lrp'):
        try:
            info[name] = __import__(name).__version__
        except Exception as e:
            info[name] = f'not importable ({type(e).__name__})'
    with open(out, 'w') as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info, indent=1))
    return info


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == 'collect':
        collect(args[1], args[2])
    elif len(args) == 2 and args[0] == 'env':
        env(args[1])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
