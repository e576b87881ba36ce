"""Pure quality logic: plain values in, plain values out."""
