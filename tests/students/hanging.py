"""A student's file that never finishes importing (training at the top level)."""

while True:
    pass
