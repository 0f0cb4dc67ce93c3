"""Present-class decoding: only some classes' heatmaps, the rest ABSENT.

References: the exact all-class decode (itself tested against gradient x
input) for values; for training, the cross-entropy over the kept classes of
the exact heatmaps, with its gradients by autograd."""
import copy

import pytest
import torch
import torch.nn.functional as F

from mmseg_lrp.models.utils.present_classes import ABSENT, kept_classes
from test_lrp_model import batch, build


def test_kept_classes_pads_short_rows_with_a_detached_duplicate():
    keep = torch.tensor([[1, 0, 1, 1, 0], [1, 0, 0, 0, 0], [0, 1, 0, 0, 1]],
                        dtype=torch.bool)
    classes, real = kept_classes(keep)
    assert classes.tolist() == [[0, 2, 3], [0, 0, 0], [1, 4, 1]]
    assert real.tolist() == [[True] * 3, [True, False, False],
                             [True, True, False]]
    with pytest.raises(ValueError, match='at least one class'):
        kept_classes(torch.zeros(1, 5, dtype=torch.bool))


@pytest.mark.parametrize('option', [dict(test_class_topk=2),
                                    dict(test_class_threshold=0.5)])
def test_present_class_inference_equals_the_exact_heatmaps_it_keeps(option):
    exact = build(decode_head=dict(epsilon=1e-12, heatmap_scale='pixels',
                                   heatmap_bias=True))
    with torch.no_grad():
        exact.decode_head.heatmap_bias.copy_(torch.randn(5))
    present = copy.deepcopy(exact)
    for k, v in option.items():
        setattr(present.decode_head, k, v)
    exact.eval(), present.eval()
    x = torch.randn(3, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        H = exact(x, mode='tensor')
        P = present(x, mode='tensor')
        z = exact.decode_head.classify(exact.extract_feat(x))
    if 'test_class_topk' in option:
        keep = torch.zeros_like(z, dtype=torch.bool)
        keep.scatter_(1, z[:, 1:].topk(2, dim=1).indices + 1, True)
    else:
        keep = z.sigmoid() > 0.5
    keep[:, 0] = True
    mask = keep[..., None, None].expand_as(H)
    torch.testing.assert_close(P[mask], H[mask])
    assert (P[~mask] == ABSENT).all()
    # predictions through mmseg's predict path too
    with torch.no_grad():
        pred = present.predict(x)
    for i, p in enumerate(pred):
        assert keep[i][p.pred_sem_seg.data[0].unique()].all()


def test_present_class_inference_with_all_classes_is_exact():
    exact = build(decode_head=dict(epsilon=1e-12))
    present = copy.deepcopy(exact)
    present.decode_head.test_class_topk = 4  # K - 1
    exact.eval(), present.eval()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(present(x, mode='tensor'),
                                   exact(x, mode='tensor'))


def labelled_batch():
    """Masks with a few classes each (so some are absent), 255 borders."""
    return batch(3, labelled=(0, 1, 2), present=[(0, 2), (0, 1, 3), (0, )])


@pytest.mark.parametrize('absent', [0, 1, 4])
def test_present_class_training_loss_and_gradients(absent):
    """The segmentation loss and its gradients equal the cross-entropy over
    each sample's kept classes (background, its mask's classes, the
    ``absent`` highest-scoring others) of the exact heatmaps."""
    model = build(decode_head=dict(heatmap_scale='pixels', heatmap_bias=True,
                                   train_absent_topk=absent))
    ref = copy.deepcopy(model)
    ref.decode_head.train_absent_topk = None
    model.train(), ref.train()
    x, samples = labelled_batch()
    loss = model.loss(x, samples)['decode.loss_seg']
    loss.backward()

    head = ref.decode_head
    feats = ref.extract_feat(x)
    z = head.classify(feats).detach()
    H = head.decode(feats)
    label = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    keep = torch.zeros_like(z, dtype=torch.bool)
    keep[:, 0] = True
    for i in range(len(samples)):
        keep[i, label[i][label[i] != 255].unique()] = True
        score = z[i].masked_fill(keep[i].clone(), float('-inf'))
        n_absent = int((~keep[i]).sum())
        keep[i, score.topk(min(absent, n_absent)).indices] = True
    want = F.cross_entropy(
        torch.where(keep[..., None, None], H, torch.full_like(H, ABSENT)),
        label.long(), ignore_index=255)
    want.backward()
    torch.testing.assert_close(loss, want)
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        if q.grad is None:
            assert p.grad is None or p.grad.abs().sum() == 0, name
        else:
            torch.testing.assert_close(p.grad, q.grad, msg=name)
    if absent == 4:  # every class kept: the exact loss
        full = F.cross_entropy(H, label.long(), ignore_index=255)
        torch.testing.assert_close(loss, full)


def test_present_class_options_are_checked():
    with pytest.raises(ValueError, match='not both'):
        build(decode_head=dict(test_class_topk=1, test_class_threshold=.5))
    with pytest.raises(ValueError, match=r'test_class_threshold must be'):
        build(decode_head=dict(test_class_threshold=1.5))
    with pytest.raises(ValueError, match=r'train_absent_topk must be'):
        build(decode_head=dict(train_absent_topk=5))
