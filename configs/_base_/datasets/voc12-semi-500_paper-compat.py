# Original-protocol VOC with the original code's own 500-image draw:
#   python tools/dataset_converters/make_voc_splits.py DATA_ROOT \
#       --num 500 --protocol original
_base_ = ['./voc12-semi_paper-compat.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/SemiSeg/original_500_seed0.txt'))
