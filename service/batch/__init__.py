"""The batch file pipeline: decode and read (``decode``, ``read``), score (``score``), write
(``write``), and run them over chunks in worker processes (``run``)."""
