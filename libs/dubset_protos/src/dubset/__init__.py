"""Generated dubset protobuf code (package dubset-protos)."""
