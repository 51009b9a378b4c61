-- Think time: reading, typing, waiting for the LLM. Weighted like all operations together, so
-- a user thinks once per operation on average; its transactions are not operations. A client
-- whose first transaction is a think needs no ramp (see pyglue/bench/pgbench.py).
\set started 1
\set think random(:think_lo, :think_hi)
\sleep :think ms
