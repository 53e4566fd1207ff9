"""The three agent kinds: civilian groups, militant cells and police units."""
