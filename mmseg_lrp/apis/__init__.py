from .inference import (check_checkpoint, inference_model, init_model,
                        list_images)

__all__ = ['check_checkpoint', 'inference_model', 'init_model', 'list_images']
