"""scripts/bench's modules (see the header of scripts/bench)."""
