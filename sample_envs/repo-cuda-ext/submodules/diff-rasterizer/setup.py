import os

from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension

here = os.path.dirname(os.path.abspath(__file__))

setup(
    name="diff_rasterizer",
    packages=["diff_rasterizer"],
    ext_modules=[
        CUDAExtension(
            name="diff_rasterizer._C",
            sources=["cuda_rasterizer/rasterizer.cu", "ext.cpp"],
            extra_compile_args={"nvcc": ["-I" + os.path.join(here, "third_party/glm/")]},
        )
    ],
    cmdclass={"build_ext": BuildExtension},
)
