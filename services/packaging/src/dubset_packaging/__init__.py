"""dubset packaging service: clip pairs cut and written into an Anim-400K dataset."""

STAGE = "packaging"
VERSION = "1"
