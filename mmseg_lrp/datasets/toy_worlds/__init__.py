"""Toy worlds: generators of the embedded toy data, by name."""
from typing import Dict, Type

from .common import TOY_CLASSES, VOC_CLASSES, World, instance_border
from .digits import DIGIT_CLASSES, DigitsWorld
from .photos import PHOTO_CLASSES, PhotosClutterWorld, PhotosWorld
from .shapes import TOY_SHAPES, ShapesWorld

TOY_WORLDS: Dict[str, Type[World]] = {
    'digits': DigitsWorld,
    'shapes': ShapesWorld,
    'photos': PhotosWorld,
    'photos-clutter': PhotosClutterWorld,
}
# The suite of the toy experiment (tools/analysis_tools/toy_experiment.py
# --worlds): the default world first (its val split chooses every recipe).
WORLD_SUITE = ('digits', 'photos', 'photos-clutter')


def build_world(name: str, **kwargs) -> World:
    """The toy world ``name`` (a key of :data:`TOY_WORLDS`).

    Args:
        name: ``'digits'`` (handwritten digits, the learnable default),
            ``'photos'`` / ``'photos-clutter'`` (shapes filled with
            photographed textures on photographed backgrounds; large objects
            / small objects in clutter) or ``'shapes'`` (geometric shapes in
            clutter, hard on purpose).
        **kwargs: Options of that world's class.

    Returns:
        The world.
    """
    if name not in TOY_WORLDS:
        raise ValueError(f'unknown toy world {name!r}; choose one of '
                         f'{", ".join(TOY_WORLDS)}')
    return TOY_WORLDS[name](**kwargs)


__all__ = [
    'TOY_CLASSES', 'VOC_CLASSES', 'World', 'instance_border', 'DIGIT_CLASSES',
    'DigitsWorld', 'PHOTO_CLASSES', 'PhotosWorld', 'PhotosClutterWorld',
    'TOY_SHAPES', 'ShapesWorld', 'TOY_WORLDS', 'WORLD_SUITE', 'build_world'
]
