from .lrp_encoder_decoder import LRPEncoderDecoder
from .multitask_encoder_decoder import MultiTaskEncoderDecoder

__all__ = ['LRPEncoderDecoder', 'MultiTaskEncoderDecoder']
