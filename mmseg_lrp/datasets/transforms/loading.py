"""Loading transforms of the semi-supervised pipeline."""
import warnings
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

# JPEG start-of-image and end-of-image markers
_SOI, _EOI = b'\xff\xd8', b'\xff\xd9'


def _where(results: dict) -> str:
    img_id = results.get('img_id')
    return results['img_path'] + (f' (id {img_id})' if img_id else '')


@TRANSFORMS.register_module()
class LoadCheckedImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that also catches truncated JPEGs.

    OpenCV decodes a truncated JPEG into a partly grey image without an
    error, which would train on a wrong image silently. This transform
    checks the end-of-image marker, and turns every decoding failure into
    an error naming the file and the image id.

    Args:
        on_corrupt: ``'error'`` (default) raises; ``'skip'`` warns and
            returns None, so mmengine's dataset draws another sample of the
            same pool (training only: in test mode mmengine refuses None).
        **kwargs: As :class:`mmcv.transforms.LoadImageFromFile`.
    """

    def __init__(self, on_corrupt: str = 'error', **kwargs) -> None:
        if on_corrupt not in ('error', 'skip'):
            raise ValueError(
                f"on_corrupt must be 'error' or 'skip', got {on_corrupt!r}")
        super().__init__(**kwargs)
        self.on_corrupt = on_corrupt

    def _corrupt(self, results: dict, why: str) -> None:
        msg = f'{_where(results)}: corrupt image: {why}'
        if self.on_corrupt == 'error':
            raise ValueError(msg)
        warnings.warn(msg + ' (skipped)')

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            data = fileio.get(filename, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f'{_where(results)}: image file not found') from e
        if not data:
            return self._corrupt(results, 'the file is empty (0 bytes)')
        if data[:2] == _SOI and data.rstrip(b'\x00\r\n ')[-2:] != _EOI:
            return self._corrupt(
                results, f'truncated JPEG ({len(data)} bytes, no end marker)')
        try:
            img = mmcv.imfrombytes(
                data, flag=self.color_type, backend=self.imdecode_backend)
        except Exception as e:  # noqa: BLE001  (any decoder failure)
            return self._corrupt(results, f'cannot decode ({e})')
        if img is None:
            return self._corrupt(results, f'cannot decode ({len(data)} bytes)')
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadSemiAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` for a mix of pixel- and image-labelled
    samples.

    Samples with ``has_pixel_label=False`` never open a mask: they get an
    all-``ignore_index`` map of the original image's size, so crop, flip,
    pad and batching work unchanged and the pixel loss ignores them (mmdet's
    ``LoadEmptyAnnotations`` is the precedent). Pixel-labelled samples load
    their mask as mmseg does, checked to match the original image size (a
    mismatch would silently misalign labels). Place it after the image is
    loaded: right after in training, after ``Resize`` in mmseg's test
    pipelines (the mask stays at the original resolution). A bare image
    (neither ``seg_map_path`` nor ``has_pixel_label``, as mmseg's
    ``inference_model`` gives) passes through unchanged.

    Args:
        ignore_index: Value of the empty map.
        **kwargs: As :class:`mmseg.datasets.transforms.LoadAnnotations`.
    """

    def __init__(self, ignore_index: int = 255, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        if 'ori_shape' not in results:
            raise KeyError('LoadSemiAnnotations needs the image: put it after '
                           'LoadImageFromFile in the pipeline')
        h, w = results['ori_shape']
        if 'seg_map_path' not in results and 'has_pixel_label' not in results:
            return results  # no annotation at all: inference on an image
        if results.get('has_pixel_label', True):
            if not results.get('seg_map_path'):
                raise KeyError(f'{_where(results)}: has_pixel_label but no '
                               'seg_map_path')
            self._load_seg_map(results)
            if results['gt_seg_map'].shape != (h, w):
                raise ValueError(
                    f'{results["seg_map_path"]}: mask size '
                    f'{results["gt_seg_map"].shape} differs from the image '
                    f'{_where(results)} size {(h, w)}')
        else:
            results['gt_seg_map'] = np.full((h, w), self.ignore_index,
                                            np.uint8)
            results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, '
                f'ignore_index={self.ignore_index})')
