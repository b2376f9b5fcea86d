"""What devices this machine offers, asked without importing torch until a device check runs."""

from __future__ import annotations


def cuda_unavailable_reason() -> str | None:
    """None when a CUDA device is usable, else why not (naming torch's version and CUDA build)."""
    try:
        import torch
    except ImportError:
        return "torch is not installed (pip install 'mlqa[torch]')"
    build = torch.version.cuda or "none (CPU-only build)"
    try:
        available = torch.cuda.is_available()
        count = torch.cuda.device_count() if available else 0
    except Exception as exc:  # noqa: BLE001 - a broken driver raises many types
        return f"CUDA failed to initialise: {exc} (torch {torch.__version__}, CUDA build {build})"
    if not available or count == 0:
        return f"no CUDA device available (torch {torch.__version__}, CUDA build {build})"
    return None
