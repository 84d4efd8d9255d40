"""Worked solution for notebooks/00_first_look.ipynb.

The block replaces the exercise cell of the same name; it runs in the notebook's namespace
(np, model, tok, ids are defined there). tests/notebooks/test_notebooks.py puts it in place
and checks that the checker says "right".
"""

# %% exercise-1
# Greedy: the first new token is the largest logit of the last row; append it, run the model on
# the longer ids, and the second is the largest logit of the new last row (the position of the
# token just appended).
first = int(model.forward(ids)[-1].argmax())
second = int(model.forward(ids + [first])[-1].argmax())
answer_1 = second
print(repr(tok.piece(first)), repr(tok.piece(second)))
