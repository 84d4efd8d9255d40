"""Training a Mistral in NumPy: backward pass, optimiser, loop, corpus, experiments."""
