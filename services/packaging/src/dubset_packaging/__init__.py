"""dubset packaging service: clip pairs cut and written into an Anim-400K dataset."""

STAGE = "packaging"
VERSION = "2"  # 2: clip ids include the encoding digest
