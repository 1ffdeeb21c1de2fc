#include <torch/extension.h>

torch::Tensor rasterize(const torch::Tensor& means);

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("rasterize", &rasterize); }
