"""2D pose extraction: backends (mmpose, yolo), tracking, NTU post-processing, quality, tags."""
