-- Think time: reading, typing, waiting for the LLM. Weighted like all operations together, so
-- a user thinks once per operation on average; its transactions are not operations.
\set think random(:think_lo, :think_hi)
\sleep :think ms
