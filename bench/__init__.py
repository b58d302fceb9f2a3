"""Benchmarks (not part of `make test`). Run with `make bench` or
`python -m bench [name ...]`; see bench/README.md."""
