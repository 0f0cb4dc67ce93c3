from .image_labels import batch_image_labels
from .predictions import attach_img_logits, batch_img_metas
from .torchvision_init import TorchvisionPretrainedInit, torchvision_state_dict

__all__ = [
    'batch_image_labels', 'attach_img_logits', 'batch_img_metas',
    'TorchvisionPretrainedInit', 'torchvision_state_dict'
]
