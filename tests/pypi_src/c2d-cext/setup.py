from setuptools import Extension, setup

setup(ext_modules=[Extension("c2d_cext", sources=["c2d_cext.c"])])
