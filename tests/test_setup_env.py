"""The installer: compiler wrapper, wheel choice, and no reinstalls."""
import importlib.util
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
spec = importlib.util.spec_from_file_location(
    'setup_env', osp.join(ROOT, 'tools', 'setup_env.py'))
setup_env = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup_env)


def test_cxx_wrapper_drops_g_and_puts_cxx20_last(tmp_path):
    fake = tmp_path / 'fake-g++'
    fake.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    fake.chmod(0o755)
    wrapper = setup_env.write_cxx_wrapper(str(tmp_path), str(fake))
    out = subprocess.run(
        [wrapper, '-O3', '-g', '-std=c++17', '-c', 'a b.cpp', '-o', 'x.o'],
        check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()
    assert out == ['-O3', '-std=c++17', '-c', 'a b.cpp', '-o', 'x.o',
                   '-std=c++20']


def test_cxx_wrapper_compiles_cxx20_code_with_cxx17_flag(tmp_path):
    """What mmcv's setup.py does: -std=c++17 last among its flags."""
    src = tmp_path / 'c20.cpp'
    src.write_text('#if __cplusplus < 202002L\n#error not C++20\n#endif\n'
                   'int main() { return 0; }\n')
    wrapper = setup_env.write_cxx_wrapper(str(tmp_path), 'g++')
    res = subprocess.run([wrapper, '-std=c++17', str(src), '-o',
                          str(tmp_path / 'a.out')], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize('torch_version, source_build', [
    ('2.14.1', False), ('2.14.1+cu130', False), ('2.13.0+cpu', True),
    ('2.1.0+cu121', True)
])
def test_prebuilt_mmcv_wheel_only_for_its_torch(torch_version, source_build):
    args = setup_env.mmcv_pip_args(torch_version)
    assert setup_env.MMCV_PIN in args and '--no-build-isolation' in args
    assert (['--no-binary', 'mmcv'] == args[:2]) is source_build


def test_plan_skips_what_is_installed_and_working():
    """In this (set-up) environment nothing but the package step remains:
    torch (possibly a user's CUDA build) and mmcv are never reinstalled."""
    assert setup_env.plan(sys.executable) == ['package']


def test_plan_detects_missing_pieces(tmp_path):
    import venv
    venv.create(str(tmp_path / 'v'), with_pip=False)
    python = str(tmp_path / 'v' / 'bin' / 'python')
    assert setup_env.plan(python) == ['torch', 'mmengine', 'mmcv', 'package']
