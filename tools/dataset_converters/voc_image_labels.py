"""Cache the image-level labels of a PASCAL VOC folder (XML -> JSON).

    python tools/dataset_converters/voc_image_labels.py data/VOCdevkit/VOC2012

Reads ``Annotations/{id}.xml`` of every image in ``JPEGImages`` (or of the
ids of ``--ids``) and writes ``{"labels": {id: [class names]}}`` to
``ImageLabels.json`` in the data root (``--out``). ``VOCImageLabelDataset``
reads it with ``labels_file='ImageLabels.json'`` instead of parsing 17k XMLs
at every start. Names are kept as written (the dataset matches them against
its config's classes); the classes found are printed with their image counts.
A missing or malformed XML is an error naming the file. ``--check-images``
also decodes every image and lists corrupt ones.

The cache records the size and modification time of every XML it was read
from; the dataset refuses it once one of them changes, goes missing or is
added, naming the files and this command. It is written (at once: temporary
file, then rename) only after every XML was read. A run that fails on an XML
leaves an existing cache in place: the dataset refuses it wherever it would
use that XML's labels, as that XML is changed, missing or added against it.
"""
import argparse
import os
import os.path as osp
import time

from mmseg_lrp.datasets.splits import class_counts
from mmseg_lrp.datasets.voc_labels import (collect_image_labels, read_id_list,
                                           write_label_cache, xml_sources)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='the VOC2012 folder')
    parser.add_argument('--ids', nargs='+', default=None,
                        help='id list files (relative to ROOT); default: '
                        'every image in JPEGImages')
    parser.add_argument('--out', default='ImageLabels.json',
                        help='output file (relative to ROOT)')
    parser.add_argument('--check-images', action='store_true',
                        help='decode every image, fail listing corrupt ones')
    return parser.parse_args()


def check_images(root, ids):
    from mmengine.utils import track_iter_progress

    from mmseg_lrp.datasets.transforms import LoadCheckedImageFromFile
    load = LoadCheckedImageFromFile()
    bad = []
    for i in track_iter_progress(ids):
        path = osp.join(root, 'JPEGImages', f'{i}.jpg')
        try:
            load(dict(img_path=path, img_id=i))
        except (ValueError, FileNotFoundError) as e:
            bad.append(str(e))
    if bad:
        raise SystemExit('corrupt images:\n  ' + '\n  '.join(bad))


def main():
    args = parse_args()
    root = args.root
    img_dir = osp.join(root, 'JPEGImages')
    if not osp.isdir(img_dir):
        raise SystemExit(f'image folder not found: {img_dir}')
    if args.ids:
        ids = sorted({i for f in args.ids
                      for i in read_id_list(osp.join(root, f))})
    else:
        ids = sorted(f[:-4] for f in os.listdir(img_dir) if f.endswith('.jpg'))
    if not ids:
        raise SystemExit(f'no images in {img_dir}')
    start = time.time()
    ann_dir = osp.join(root, 'Annotations')
    sources = xml_sources(ann_dir, ids)  # before reading: see xml_sources
    labels = collect_image_labels(ann_dir, ids, progress=True)
    if args.check_images:
        print('\nchecking images')
        check_images(root, ids)
    out = osp.join(root, args.out)
    write_label_cache(out, labels, ann_dir,
                      ['--ids', *args.ids] if args.ids else (), sources)
    counts = class_counts(labels, list(labels))
    print('\nclasses (images): ' + ', '.join(
        f'{n} ({c})' for n, c in counts.items()))
    print(f'\nwrote labels of {len(labels)} images to {out} in '
          f'{time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
