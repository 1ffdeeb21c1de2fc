#include <torch/extension.h>

__global__ void scale(float* out, const float* in, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2.0f * in[i];
}

torch::Tensor rasterize(const torch::Tensor& means) {
  auto out = torch::empty_like(means);
  int n = means.numel();
  scale<<<(n + 255) / 256, 256>>>(out.data_ptr<float>(), means.data_ptr<float>(), n);
  return out;
}
