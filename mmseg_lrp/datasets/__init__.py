from .toy_voc import (TOY_CLASSES, VOC_CLASSES, ensure_toy_voc, make_toy_voc,
                      read_voc_xml_names, voc_palette)

__all__ = [
    'TOY_CLASSES', 'VOC_CLASSES', 'ensure_toy_voc', 'make_toy_voc',
    'read_voc_xml_names', 'voc_palette'
]
