"""Generated modules of the protobuf package dubset.v1."""
