"""The lecture scripts (installed as `keras_ae_scripts`, so `keras-ae notebooks` finds them)."""
