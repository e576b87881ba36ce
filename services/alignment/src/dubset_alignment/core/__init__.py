"""The pure alignment rule: plain values in, plain values out."""
