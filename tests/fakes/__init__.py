"""Stateful fakes of outside systems, served on loopback for tests and benches."""
