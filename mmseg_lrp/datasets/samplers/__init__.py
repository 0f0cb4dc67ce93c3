from .semi_supervised_batch_sampler import SemiSupervisedBatchSampler
from .semi_supervised_sampler import SemiSupervisedSampler

__all__ = ['SemiSupervisedBatchSampler', 'SemiSupervisedSampler']
