"""Data package holding the keras-ae zoo: one NAME.json and NAME.weights.h5 per entry."""
