"""Reading and writing weight files: safetensors, layouts, .pth."""
