"""GPU check of the LRP core with plain torch + torchvision only.

For machines without the OpenMMLab stack (e.g. a GPU box with only
PyTorch): imports ``mmseg_lrp.lrp`` and the shared benchmark harness
(``mmseg_lrp.benchmark``, torch only) and uses torchvision's VGG16 and
ResNet-50 (random weights).

1. correctness on the GPU: LRP-0 heatmaps == gradient x input (float64);
2. timings (float32): one training step of the decoder (all classes in one
   pass / class chunks under checkpointing / the original code's schedule)
   and inference (one pass vs the original per-class loop), with peak GPU
   memory.

    python tools/analysis_tools/lrp_gpu_check.py [--device cuda]
"""
import argparse
import os.path as osp
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    import mmseg_lrp  # noqa: F401 (loads no OpenMMLab module)
except ImportError:  # not installed: use the source tree
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..',
                                '..'))
from mmseg_lrp.benchmark import (normalized, original_backward,  # noqa: E402
                                 original_inference, random_batch,
                                 ratio_table, time_steps)
from mmseg_lrp.lrp import (CLASSIFIER, LRPPropagator,  # noqa: E402
                           TapeRecorder, select_rows)


class Net(nn.Module):
    """torchvision encoder -> GAP -> linear over K classes."""

    def __init__(self, name: str, num_classes: int):
        super().__init__()
        import torchvision
        if name == 'vgg16':
            self.encoder = torchvision.models.vgg16().features
            channels = 512
        else:
            r = torchvision.models.resnet50()
            self.encoder = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool,
                                         r.layer1, r.layer2, r.layer3,
                                         r.layer4)
            channels = 2048
        for m in self.encoder.modules():
            if hasattr(m, 'inplace'):
                m.inplace = False
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        self.prop = LRPPropagator(1e-8)

    def forward(self, x):
        return self.fc(self.pool(self.encoder(x)).flatten(1))

    def record(self, x):
        """Forward with a tape, classifier included."""
        with TapeRecorder(self.encoder) as rec:
            feat = self.encoder(x)
        tape = rec.tape
        pooled = tape.record(self.pool, feat, self.pool(feat),
                             CLASSIFIER + 'pool').flatten(1)
        tape.record(self.fc, pooled, self.fc(pooled), CLASSIFIER + 'fc')
        return tape

    def heatmaps(self, x, index=None, epsilon=1e-8, **kw):
        prop = LRPPropagator(epsilon)
        return prop.heatmaps(self.record(x), select=select_rows(index), **kw)


def check_identity(device, K=21) -> bool:
    ok = True
    for name in ('vgg16', 'resnet50'):
        torch.manual_seed(0)
        net = Net(name, K).double().to(device).eval()
        x = torch.randn(2, 3, 64, 96, dtype=torch.float64, device=device)
        H = net.heatmaps(x, epsilon=1e-12)
        xg = x.clone().requires_grad_(True)
        z = net(xg)
        err = 0.
        for k in range(z.shape[1]):
            (g, ) = torch.autograd.grad(z[:, k].sum(), xg, retain_graph=True)
            ref = (g * xg).sum(1)
            err = max(err, ((H[:, k] - ref).abs().max() /
                            ref.abs().max()).item())
        ok = ok and err < 1e-5
        print(f'[identity] {name} on {device}: LRP-0 vs gradient x input, '
              f'max relative error {err:.2e} '
              f'({"OK" if err < 1e-5 else "FAIL"})')
    return ok


def bench(device, size, batch=4, labelled=2, K=21, chunks=(7, ), iters=3):
    torch.manual_seed(0)
    net = Net('resnet50', K).to(device).train()
    data = random_batch(batch, labelled, (size, size), K)
    x = normalized(data['images']).to(device)
    y = data['masks'][:labelled].to(device)
    idx = data['labelled'].to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-6)

    def one_pass(**kw):
        opt.zero_grad()
        F.cross_entropy(net.heatmaps(x, index=idx, **kw), y).backward()
        opt.step()

    def original():
        opt.zero_grad()
        original_backward(
            lambda: net.record(x), K,
            lambda H, logits: F.cross_entropy(H[:labelled], y),
            lambda logits: logits.new_zeros(()), net.prop)
        opt.step()

    rows = [('one-pass', lambda: one_pass())] + [
        (f'memory-bounded (chunk {c})',
         lambda c=c: one_pass(class_chunk=c, use_checkpoint=True))
        for c in chunks
    ] + [('original', original)]
    res = []
    for name, fn in rows:
        t, m = time_steps(fn, iters, 1, device)
        res.append(dict(schedule=name, step_s=t, peak_mib=m))
    print(f'\n[train] ResNet-50 (torchvision, random init), {device}, '
          f'batch {batch} ({labelled} decoded), {size}x{size}, K={K}, fp32')
    print(ratio_table(res, 'schedule',
                      [('step_s', 'step (s)', '{:.4f}'),
                       ('peak_mib', 'peak memory (MiB)', '{:.0f}')],
                      ref=len(res) - 1, inverse=('step_s', )))
    net.eval()
    with torch.no_grad():
        t1, _ = time_steps(lambda: net.heatmaps(x), iters, 1, device)
        t2, _ = time_steps(
            lambda: original_inference(net.record(x), K, net.prop), iters, 1,
            device)
    print(f'[infer] one pass {t1 / batch * 1e3:.1f} ms/img, original '
          f'per-class loop {t2 / batch * 1e3:.1f} ms/img: {t2 / t1:.2f}x '
          'faster')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--sizes', type=int, nargs='*', default=[128, 256])
    parser.add_argument('--chunks', type=int, nargs='+', default=[7],
                        help='class chunks of the memory-bounded rows')
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--num-classes', type=int, default=21)
    args = parser.parse_args()
    print(f'torch {torch.__version__}, ' + (torch.cuda.get_device_name(
        args.device) if args.device.startswith('cuda') else args.device))
    ok = check_identity(args.device, args.num_classes)
    for size in args.sizes:
        bench(args.device, size, K=args.num_classes, chunks=args.chunks,
              iters=args.iters)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
