from .formatting import PackSemiSegInputs
from .loading import LoadCheckedImageFromFile, LoadSemiAnnotations
from .transforms import (CenterSquareCrop, IgnoreToBackground,
                         RandomDefocusBlur, RandomGaussianNoise,
                         RandomSquareCrop, ResetOriShape)

__all__ = [
    'PackSemiSegInputs', 'LoadCheckedImageFromFile', 'LoadSemiAnnotations',
    'CenterSquareCrop', 'IgnoreToBackground', 'RandomDefocusBlur',
    'RandomGaussianNoise', 'RandomSquareCrop', 'ResetOriShape'
]
