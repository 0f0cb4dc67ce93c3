from .inference import (check_config_checkpoint, config_classes,
                        inference_model, init_model, list_images,
                        load_checked_checkpoint)

__all__ = [
    'check_config_checkpoint', 'config_classes', 'inference_model',
    'init_model', 'list_images', 'load_checked_checkpoint'
]
