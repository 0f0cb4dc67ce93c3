from .checkpoint import (load_from_local, mmengine_safe_globals,
                         register_checkpoint_loader)
from .config_check import (ConfigError, check_data_paths,
                           explain_build_errors, find_type_keys)
from .dataset_options import (add_dataset_args, check_num_classes,
                              set_dataset_options)
from .dist import (close_distributed, dump_test_metrics_once,
                   prepare_cpu_distributed)
from .fresh_process import run_in_fresh_process
from .tool_config import (add_runner_args, load_tool_config,
                          parse_runner_args, tool_config_from_args)
from .work_dir import (WorkDirError, check_last_checkpoint, check_work_dir,
                       checkpoint_problem, find_checkpoints,
                       usable_checkpoints, use_atomic_checkpoints)

__all__ = [
    'load_from_local', 'mmengine_safe_globals', 'register_checkpoint_loader',
    'ConfigError', 'check_data_paths', 'explain_build_errors',
    'find_type_keys', 'load_tool_config', 'add_runner_args',
    'parse_runner_args', 'tool_config_from_args',
    'run_in_fresh_process', 'prepare_cpu_distributed', 'close_distributed',
    'dump_test_metrics_once',
    'add_dataset_args',
    'check_num_classes', 'set_dataset_options', 'WorkDirError',
    'check_work_dir', 'check_last_checkpoint', 'checkpoint_problem',
    'find_checkpoints', 'usable_checkpoints', 'use_atomic_checkpoints'
]
