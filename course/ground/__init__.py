"""Layer 1, the shared ground: the threat model (`threat`) and the misconception catalogue
(`misconceptions`). Everything else in the course builds on these two; they import nothing
from the rest of the package."""
