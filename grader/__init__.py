"""scratchgrad's grader: grade a from-scratch autograd submission against PyTorch."""

__version__ = "0.1.0"

from grader.pipeline import Options, grade  # noqa: E402  (after __version__, which they use)
from grader.report import Report  # noqa: E402
from grader.worker import Limits  # noqa: E402

__all__ = ["Limits", "Options", "Report", "__version__", "grade"]
