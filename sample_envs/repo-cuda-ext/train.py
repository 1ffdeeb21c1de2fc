"""Train on a scene: python train.py -s data/scene"""

import argparse

import torch
from diff_rasterizer import rasterize

parser = argparse.ArgumentParser()
parser.add_argument("-s", "--source", default="data/scene")
args = parser.parse_args()
print(rasterize(torch.ones(4, device="cuda")))
