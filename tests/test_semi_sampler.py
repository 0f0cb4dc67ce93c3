"""SemiSupervisedBatchSampler: ratio, determinism, ranks, resume, the
dataloader's batch size; the replaced sampler and hook."""
import itertools

import pytest
from mmengine.config import Config

import mmseg_lrp.plugin  # noqa: F401
from conftest import SEMI_CONFIG
from mmseg_lrp.datasets.samplers import semi_supervised_batch_sampler as sbs

TOY_SPLIT = 'ImageSets/SemiSeg/paper_6_seed0.txt'  # written by toy_semi


class Pools:
    """A stand-in dataset: which indices carry pixel labels."""

    def __init__(self, flags):
        self.flags = flags

    def __len__(self):
        return len(self.flags)

    def get_data_info(self, i):
        return dict(has_pixel_label=self.flags[i], img_path=f'{i}.jpg')


# 7 pixel-labelled among 30, interleaved as a ConcatDataset would not be
FLAGS = [i % 4 == 1 and i < 28 for i in range(30)]


class Sampler:
    """What the batch sampler reads from the dataloader's sampler."""

    def __init__(self, dataset, seed=0, shuffle=True):
        self.dataset, self.seed, self.shuffle = dataset, seed, shuffle


def make(batch_size=6, n_pix=2, seed=0, rank=0, world=1, flags=FLAGS,
         monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.setattr(sbs, 'get_dist_info', lambda: (rank, world))
    return sbs.SemiSupervisedBatchSampler(Sampler(Pools(flags), seed),
                                          batch_size, n_pix)


def batches(batch_sampler, n):
    return list(itertools.islice(iter(batch_sampler), n))


def test_every_batch_has_the_exact_ratio():
    s = make(batch_size=6, n_pix=2)
    pixel = {i for i, f in enumerate(FLAGS) if f}
    for b in batches(s, 100):
        assert len(b) == 6
        assert [i in pixel for i in b] == [True] * 2 + [False] * 4


def test_each_pool_is_a_sequence_of_permutations():
    s = make(batch_size=4, n_pix=1)
    pixel = sorted(i for i, f in enumerate(FLAGS) if f)
    seen = [b[0] for b in batches(s, 3 * len(pixel))]
    for k in range(3):  # epochs of the pixel pool: each a permutation
        assert sorted(seen[k * len(pixel):(k + 1) * len(pixel)]) == pixel


def test_length_counts_batches_as_a_dataloader_does():
    assert len(make(batch_size=6)) == 5 and len(make(batch_size=7)) == 5


def test_stream_depends_only_on_the_seed():
    assert batches(make(seed=3), 20) == batches(make(seed=3), 20)
    assert batches(make(seed=3), 20) != batches(make(seed=4), 20)


def test_ranks_get_disjoint_samples(monkeypatch):
    world = 2
    per_rank = [batches(make(batch_size=5, n_pix=1, rank=r, world=world,
                             monkeypatch=monkeypatch), 11)
                for r in range(world)]
    pix = [[b[0] for b in rb] for rb in per_rank]
    img = [[i for b in rb for i in b[1:]] for rb in per_rank]
    # within one pass over a pool (7 pixel-, 23 image-labelled samples)
    # no sample goes to both ranks
    first_pix = pix[0][:3] + pix[1][:3]
    assert len(set(first_pix)) == 6
    assert set(first_pix) <= {i for i, f in enumerate(FLAGS) if f}
    first_img = img[0][:11] + img[1][:11]
    assert len(set(first_img)) == 22
    assert set(first_img) <= {i for i, f in enumerate(FLAGS) if not f}
    # the two ranks together read the single-process stream, interleaved
    monkeypatch.setattr(sbs, 'get_dist_info', lambda: (0, 1))
    one = make(batch_size=5, n_pix=1)
    pix_stream = [b[0] for b in batches(one, 22)]
    assert pix_stream[0::2][:11] == pix[0] and pix_stream[1::2][:11] == pix[1]


@pytest.mark.parametrize('args, match', [
    ((4, 5), r'batch_sampler.num_pixel_labelled must be in '
     r'\[0, batch_size=4\]'),
    ((0, 0), 'batch_size must be an int >= 1'),
])
def test_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        sbs.SemiSupervisedBatchSampler(Sampler(Pools(FLAGS)), *args)
    with pytest.raises(TypeError, match='needs a sampler with a dataset'):
        sbs.SemiSupervisedBatchSampler(object(), 4, 2)


def test_empty_pool_is_an_error():
    with pytest.raises(ValueError, match='2 pixel-labelled samples per batch, '
                       'but the dataset has 0'):
        make(flags=[False] * 10)
    # a pool that no batch draws from may be empty
    assert len(batches(make(n_pix=0, flags=[False] * 10), 2)[1]) == 6


def test_dataset_without_flags_is_refused():
    class Plain(Pools):

        def get_data_info(self, i):
            return dict(img_path=f'{i}.jpg')

    with pytest.raises(KeyError, match='sample 0 .*has no has_pixel_label'):
        sbs.SemiSupervisedBatchSampler(Sampler(Plain(FLAGS)), 4, 2)


def test_replaced_sampler_and_hook():
    """Configs of the former per-index sampler get a message saying what
    to write instead; configs listing the former check hook still load."""
    from mmseg.registry import DATA_SAMPLERS, HOOKS
    with pytest.raises(ValueError, match=r"batch_sampler=dict\(type="
                       r"'SemiSupervisedBatchSampler', num_pixel_labelled=5"):
        DATA_SAMPLERS.build(dict(type='SemiSupervisedSampler', batch_size=10,
                                 num_pixel_labelled=5, dataset=Pools(FLAGS)))
    with pytest.warns(FutureWarning, match='does nothing'):
        HOOKS.build(dict(type='SemiBatchCheckHook'))


def semi_cfg(root, work_dir, max_iters, **extra):
    cfg = Config.fromfile(SEMI_CONFIG)
    cfg.work_dir = str(work_dir)
    for ds in cfg.train_dataloader.dataset.datasets:
        ds.data_root = root
    cfg.train_dataloader.dataset.pixel_split = TOY_SPLIT
    cfg.val_dataloader.dataset.data_root = root
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_dataloader.batch_size = 4  # the batch sampler's too
    cfg.train_dataloader.batch_sampler.num_pixel_labelled = 2
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                         val_interval=1000)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        by_epoch=False, interval=2)
    cfg.default_hooks.logger.interval = 1
    cfg.model.data_preprocessor.size = (32, 32)
    cfg.train_dataloader.dataset.datasets[0].pipeline[3].scale = (32, 32)
    cfg.train_dataloader.dataset.datasets[1].pipeline[3].scale = (32, 32)
    cfg.custom_hooks = [dict(type='RecordBatchesHook')]
    cfg.merge_from_dict(extra)
    return cfg


@pytest.fixture(scope='module')
def recorder():
    from mmengine.hooks import Hook
    from mmseg.registry import HOOKS

    @HOOKS.register_module(force=True)
    class RecordBatchesHook(Hook):
        seen = []

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            RecordBatchesHook.seen.append(
                (runner.iter, [(s.img_id, s.has_pixel_label)
                               for s in data_batch['data_samples']]))

    return RecordBatchesHook


@pytest.mark.slow
def test_resume_continues_the_same_stream(toy_semi, tmp_path, recorder):
    """Train 4 iterations; resume a second run from its iteration-2
    checkpoint: iterations 3 and 4 see the same samples."""
    from mmengine.runner import Runner

    from mmseg_lrp.utils import register_checkpoint_loader
    register_checkpoint_loader()  # as tools/train.py does, for the resume
    root = toy_semi
    recorder.seen.clear()
    Runner.from_cfg(semi_cfg(root, tmp_path / 'a', 4)).train()
    full = dict(recorder.seen)
    assert sorted(full) == [0, 1, 2, 3]
    for b in full.values():
        assert [f for _, f in b] == [True, True, False, False]
    recorder.seen.clear()
    cfg = semi_cfg(root, tmp_path / 'b', 4)
    cfg.resume = True
    cfg.load_from = str(tmp_path / 'a' / 'iter_2.pth')
    Runner.from_cfg(cfg).train()
    resumed = dict(recorder.seen)
    assert sorted(resumed) == [2, 3]
    assert resumed[2] == full[2] and resumed[3] == full[3]
    assert full[2] != full[0]
