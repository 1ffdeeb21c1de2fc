from diff_rasterizer import _C


def rasterize(means):
    return _C.rasterize(means)
