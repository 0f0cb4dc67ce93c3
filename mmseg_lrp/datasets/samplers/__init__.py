from .semi_supervised_sampler import SemiSupervisedSampler

__all__ = ['SemiSupervisedSampler']
