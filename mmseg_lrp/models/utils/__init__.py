from .image_labels import batch_image_labels
from .predictions import attach_img_logits, batch_img_metas

__all__ = ['batch_image_labels', 'attach_img_logits', 'batch_img_metas']
