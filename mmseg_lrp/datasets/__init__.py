from .samplers import *  # noqa: F401,F403
from .semi_voc import SemiVOCDataset
from .toy_voc import (TOY_CLASSES, VOC_CLASSES, ensure_toy_voc, make_toy_voc,
                      read_voc_xml_names, voc_palette)
from .toy_worlds import TOY_WORLDS, build_world
from .transforms import *  # noqa: F401,F403
from .voc_image_label import VOCImageLabelDataset
from .voc_labels import LabelCacheError
from .voc_pixel_label import VOCPixelLabelDataset

__all__ = [
    'TOY_CLASSES', 'VOC_CLASSES', 'ensure_toy_voc', 'make_toy_voc',
    'read_voc_xml_names', 'voc_palette', 'TOY_WORLDS', 'build_world',
    'SemiVOCDataset', 'VOCImageLabelDataset', 'VOCPixelLabelDataset',
    'LabelCacheError'
]
