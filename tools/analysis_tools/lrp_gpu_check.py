"""GPU check of the LRP core with plain torch + torchvision only.

For machines without the OpenMMLab stack (e.g. a GPU box with only PyTorch):
loads ``mmseg_lrp/lrp`` on its own and uses torchvision's VGG16 and
ResNet-50 (random weights).

1. correctness on the GPU: LRP-0 heatmaps == gradient x input (float64);
2. timings (float32): one training step of the decoder (all classes in one
   pass / class chunks under checkpointing / a Python loop over classes with
   one backward each) and inference (one pass vs per-class loop), with peak
   GPU memory.

    python tools/analysis_tools/lrp_gpu_check.py [--device cuda]
"""
import argparse
import importlib.util
import os.path as osp
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = osp.dirname(osp.abspath(__file__))
LRP_DIR = osp.join(HERE, '..', '..', 'mmseg_lrp', 'lrp')


def load_lrp():
    spec = importlib.util.spec_from_file_location(
        'lrp_core', osp.join(LRP_DIR, '__init__.py'),
        submodule_search_locations=[LRP_DIR])
    mod = importlib.util.module_from_spec(spec)
    sys.modules['lrp_core'] = mod
    spec.loader.exec_module(mod)
    return mod


lrp = load_lrp()


def register_torchvision_blocks():
    from torchvision.models.resnet import BasicBlock, Bottleneck
    from lrp_core.tape import BLOCK_ADAPTERS, BlockAdapter
    BLOCK_ADAPTERS[Bottleneck] = BlockAdapter(lambda b: b.bn3,
                                              lambda b: b.downsample)
    BLOCK_ADAPTERS[BasicBlock] = BlockAdapter(lambda b: b.bn2,
                                              lambda b: b.downsample)


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

    def forward(self, x):
        return self.fc(self.pool(self.encoder(x)).flatten(1))

    def record(self, x):
        """Forward with a tape: ``(tape, feat, pooled, logits)``."""
        with lrp.TapeRecorder(self.encoder) as rec:
            feat = self.encoder(x)
        pooled = self.pool(feat).flatten(1)
        return rec.tape, feat, pooled, self.fc(pooled)

    def heatmaps(self, x, index=None, **kw):
        tape, feat, pooled, logits = self.record(x)
        prop = lrp.LRPPropagator(kw.pop('epsilon', 1e-8))
        return prop.heatmaps(tape, feat, pooled, logits, self.pool,
                             self.fc.weight, index=index, **kw), logits

    def class_heatmap(self, recorded, k):
        """Heatmap ``(N, H, W)`` of class k alone, whole batch."""
        tape, feat, pooled, logits = recorded
        prop = lrp.LRPPropagator(1e-8)
        R = prop.start(feat, pooled, logits, self.pool, self.fc.weight,
                       torch.tensor([k], device=feat.device), lambda t: t)
        return prop.backward(tape, R, lambda t: t).sum(2)[0]


def check_identity(device):
    for name in ('vgg16', 'resnet50'):
        torch.manual_seed(0)
        net = Net(name, 21).double().to(device).eval()
        x = torch.randn(2, 3, 64, 96, dtype=torch.float64, device=device)
        H, _ = net.heatmaps(x, epsilon=1e-12)
        xg = x.clone().requires_grad_(True)
        z = net(xg)
        err = 0.
        for k in range(z.shape[1]):
            (g, ) = torch.autograd.grad(z[:, k].sum(), xg, retain_graph=True)
            ref = (g * xg).sum(1)
            err = max(err, ((H[:, k] - ref).abs().max() /
                            ref.abs().max()).item())
        print(f'[identity] {name} on {device}: LRP-0 vs gradient x input, '
              f'max relative error {err:.2e} ({"OK" if err < 1e-5 else "FAIL"})')


def timed(fn, device, iters=3):
    fn()
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    torch.cuda.synchronize(device)
    return ((time.perf_counter() - t) / iters,
            (torch.cuda.max_memory_allocated(device) - base) / 2**20)


def bench(device, size, batch=4, labelled=2, K=21, chunks=(7, )):
    torch.manual_seed(0)
    net = Net('resnet50', K).to(device).train()
    x = torch.randn(batch, 3, size, size, device=device)
    y = torch.randint(0, K, (labelled, size, size), device=device)
    idx = torch.arange(labelled, device=device)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-6)

    def one_pass(**kw):
        opt.zero_grad()
        H, _ = net.heatmaps(x, index=idx, **kw)
        F.cross_entropy(H, y).backward()
        opt.step()

    def per_class_loop():
        # the original schedule: detached pass over all classes and the
        # whole batch, then one forward + backward per class
        opt.zero_grad()
        with torch.no_grad():
            recorded = net.record(x)
            H = torch.stack(
                [net.class_heatmap(recorded, k) for k in range(K)], 1)
        H.requires_grad_(True)
        gH, = torch.autograd.grad(F.cross_entropy(H[:labelled], y), H)
        for k in range(K):
            (net.class_heatmap(net.record(x), k) * gH[:, k]).sum().backward()
        opt.step()

    rows = [('one-pass', lambda: one_pass())] + [
        (f'memory-bounded (chunk {c})',
         lambda c=c: one_pass(class_chunk=c, use_checkpoint=True))
        for c in chunks
    ] + [('per-class loop (original schedule)', per_class_loop)]
    res = [(n, *timed(f, device)) for n, f in rows]
    ref_t, ref_m = res[-1][1], res[-1][2]
    print(f'\n[train] ResNet-50 (torchvision, random init), {device}, '
          f'batch {batch} ({labelled} decoded), {size}x{size}, K={K}, fp32')
    print('| schedule | step (s) | speed-up | peak memory (MiB) | memory vs '
          'loop |\n|---|---|---|---|---|')
    for n, t, m in res:
        print(f'| {n} | {t:.4f} | {ref_t / t:.2f}x | {m:.0f} | '
              f'{m / ref_m:.2f}x |')
    net.eval()
    with torch.no_grad():
        t1, m1 = timed(lambda: net.heatmaps(x), device)
        t2, m2 = timed(
            lambda: _loop_classes(net, x, K), device)
    print(f'[infer] one pass {t1 / batch * 1e3:.1f} ms/img, per-class loop '
          f'{t2 / batch * 1e3:.1f} ms/img: {t2 / t1:.2f}x faster')


def _loop_classes(net, x, K):
    recorded = net.record(x)
    return [net.class_heatmap(recorded, k) for k in range(K)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--sizes', type=int, nargs='*', default=[128, 256])
    parser.add_argument('--chunks', type=int, nargs='+', default=[7],
                        help='class chunks of the memory-bounded rows')
    args = parser.parse_args()
    register_torchvision_blocks()
    print(f'torch {torch.__version__}, ' + (torch.cuda.get_device_name(
        args.device) if args.device.startswith('cuda') else args.device))
    check_identity(args.device)
    for size in args.sizes:
        bench(args.device, size, chunks=args.chunks)


if __name__ == '__main__':
    main()
