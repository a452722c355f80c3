"""Draining the WAL into CDF: mapping rows to CDF items, batching to CDF's limits,
ordering, retries with backoff, poison isolation and dead letters."""

from pggw.upload.metrics import UploadMetrics
from pggw.upload.policy import AdaptiveLimiter, Backoff
from pggw.upload.uploader import Uploader, UploadRejected

__all__ = ["AdaptiveLimiter", "Backoff", "UploadMetrics", "UploadRejected", "Uploader"]
