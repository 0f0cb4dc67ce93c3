"""The toy experiment: unrolled LRP against the no-guidance and CAM
references and the baselines, on a suite of toy worlds, reported on test.

    python tools/analysis_tools/toy_experiment.py \\
        [--worlds digits photos photos-clutter] [--budgets 10 30 120] \\
        [--seeds 0 1 2] [--stage1-seeds 0 1] [--recipe RECIPE.json] \\
        [--readme README.md] [--plot docs/figures/toy_experiment.png]
    python tools/analysis_tools/toy_experiment.py --tune --recipe R.json \\
        --budgets 10 --seeds 0 1      # choose hyper-parameters on digits val

The protocol is in :mod:`mmseg_lrp.analysis.toy_experiment`. Finished runs
are kept and not rerun; delete the work dir (or pass ``--force``) to start
over.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))  # noqa: E402 (run from a checkout)

from mmseg_lrp.analysis.toy_experiment import (main, parse_args,  # noqa
                                               prepare_data, write_readme)

__all__ = ['main', 'parse_args', 'prepare_data', 'write_readme']

if __name__ == '__main__':
    main()
