from setuptools import Extension, setup

setup(ext_modules=[Extension("c2d_linux._native", sources=["src/c2d_linux/_native.c"])])
