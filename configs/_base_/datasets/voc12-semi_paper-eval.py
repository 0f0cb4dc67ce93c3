# voc12-semi.py evaluated with the paper's protocol: centre square crop of
# the short side resized to 256x256, boundary pixels (255) counted as
# background, mIoU over 21 classes at 256x256. NOT the standard VOC protocol:
# say which one a number uses.
_base_ = ['./voc12-semi.py']
val_dataloader = dict(dataset=dict(pipeline={{_base_.paper_test_pipeline}}))
test_dataloader = val_dataloader
