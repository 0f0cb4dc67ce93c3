from .semi_batch_check_hook import SemiBatchCheckHook

__all__ = ['SemiBatchCheckHook']
