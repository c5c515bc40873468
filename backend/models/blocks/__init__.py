"""Building blocks shared by the fusion models.

- ``mit``: SegFormer/MiT encoder (overlapped patch embedding, spatial-reduction attention, Mix-FFN,
  block, stage, encoder, B0..B5 configurations).
- ``unet``: U-Net decoder (segmentation_models_pytorch layout).
- ``mlp_decoder``: SegFormer all-MLP decoder.
- ``carrier``: FasterViT-style hierarchical attention with carrier tokens.
"""
