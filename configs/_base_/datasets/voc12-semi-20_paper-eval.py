# voc12-semi-20.py evaluated with the paper's protocol (centre crop, 256x256,
# 255 counted as background; not the standard VOC protocol).
_base_ = ['./voc12-semi-20.py']
val_dataloader = dict(dataset=dict(pipeline={{_base_.paper_test_pipeline}}))
test_dataloader = val_dataloader
