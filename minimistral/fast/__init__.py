"""The BLAS-aware pieces the model calls: bf16 widening, row chunking, query blocking."""
