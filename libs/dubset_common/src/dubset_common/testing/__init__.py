"""Test doubles of the runner, worker and bus, shipped so every package's tests share them."""
