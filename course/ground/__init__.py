"""Layer 1, the shared ground: the threat model (`threat`) and the misconception catalogue
(`misconceptions`). Everything else in the course builds on these two; they import nothing
from the rest of the package. `maths` (TeX to MathML at build time) is shared by the course site
and the grader's feedback pages."""
