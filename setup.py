"""mmseg_lrp: unrolled-LRP tied-decoder segmentation for mmsegmentation 1.x.

torch/torchvision and mmcv (with compiled ops) must be installed first, see
requirements/mminstall.txt, or run ``python3 tools/setup_env.py``.
"""
import os.path as osp
import re

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


with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
    long_description = f.read()

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
    zip_safe=False)
