"""mmseg_lrp: unrolled-LRP tied-decoder segmentation for mmsegmentation 1.x.

torch/torchvision and mmcv (with compiled ops) must be installed first, see
requirements/mminstall.txt, or run ``python3 tools/setup_env.py``.

Like mmsegmentation's and mmpretrain's, the package carries its configs,
tools and model index in ``mmseg_lrp/.mim`` (what ``mim train mmseg_lrp`` and
``_base_ = ['mmseg_lrp::...']`` read): symlinks for an editable install,
copies in a wheel or sdist.
"""
import os
import os.path as osp
import platform
import re
import shutil
import sys
import warnings

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    with open(osp.join(HERE, 'mmseg_lrp', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def parse_requirements(fname: str) -> list:
    """Requirement lines of a file, following ``-r`` includes."""
    reqs = []
    with open(osp.join(HERE, fname)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                reqs += parse_requirements(
                    osp.join(osp.dirname(fname), line[3:].strip()))
            else:
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Put the files that MIM needs into ``mmseg_lrp/.mim``.

    An editable install (``pip install -e .``, i.e. ``setup.py develop``)
    gets symlinks to the originals; a wheel or sdist build gets copies, which
    ``MANIFEST.in`` and ``include_package_data`` put into the archive. As in
    mmsegmentation's setup.py, with two differences: a symlink that an
    editable install made is kept by a wheel/sdist build (the build follows
    it, so the archive gets the same files, and the editable install keeps
    seeing the live configs), and a file missing from the tree (a build from
    the sdist, which carries only the copies) leaves its copy alone.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        # symlinks fail on Windows
        mode = 'copy' if platform.system() == 'Windows' else 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return

    mim_path = osp.join(HERE, 'mmseg_lrp', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for filename in ['tools', 'configs', 'model-index.yml']:
        src_path = osp.join(HERE, filename)
        if not osp.exists(src_path):
            continue
        tar_path = osp.join(mim_path, filename)
        if (mode == 'copy' and osp.islink(tar_path) and osp.exists(tar_path)
                and osp.samefile(tar_path, src_path)):
            continue
        if osp.isfile(tar_path) or osp.islink(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)
        if mode == 'symlink':
            os.symlink(osp.relpath(src_path, mim_path), tar_path)
        elif osp.isfile(src_path):
            shutil.copyfile(src_path, tar_path)
        elif osp.isdir(src_path):
            shutil.copytree(
                src_path, tar_path,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            warnings.warn(f'Cannot copy file {src_path}.')


with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
    long_description = f.read()

add_mim_extension()

setup(
    name='mmseg_lrp',
    version=read_version(),
    description='Unrolled-LRP tied-decoder semi-supervised segmentation '
    'for mmsegmentation 1.x',
    long_description=long_description,
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.8',
    install_requires=parse_requirements('requirements/runtime.txt') + [
        # mmseg 1.2.2 asserts this range; built from source, so it is
        # installed beforehand (tools/setup_env.py) and only checked here.
        'mmcv>=2.0.0rc4,<2.2.0',
    ],
    extras_require=dict(
        tests=parse_requirements('requirements/tests.txt'),
        toy=parse_requirements('requirements/toy.txt')),
    classifiers=[
        'License :: OSI Approved :: Apache Software License',
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    # the files of mmseg_lrp/.mim listed in MANIFEST.in
    include_package_data=True,
    zip_safe=False)
