from .lrp_encoder_decoder import LRPEncoderDecoder

__all__ = ['LRPEncoderDecoder']
