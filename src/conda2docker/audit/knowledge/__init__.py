"""Tables the rules and the build plan share: channels, toolchains, system libraries, CUDA."""
