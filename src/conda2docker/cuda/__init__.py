"""CUDA in one place: what an environment asks for and a lock contains (:mod:`.infer`), which
``nvidia/cuda`` image a CUDA version gets (:mod:`.images`), and what the CPU variant of a
GPU environment asks for instead (:mod:`.cpu`)."""
