"""Toy executors in a shared 10-dimensional 'toy-digits' space, for the app tests.

Every encoder maps a document to a digit (text: digit words; image: mean brightness / 25; audio:
dominant frequency / 100 - 1) plus a small content hash, so that cross-modal search has right
answers the tests can check and no two documents tie.
"""
