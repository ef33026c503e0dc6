"""What converting an embedded ICC profile costs when an image is loaded.

Not part of the test run. One 12-megapixel JPEG (scikit-image's Adobe RGB ``rocket.jpg`` scaled up)
saved twice, with its profile and without, and each loaded with ``synthdiff.io.load_image``; the
result is the ratio of the median load times, measured one after the other in this process. The same
for the picture as a 16-bit PNG (converted in floating point by synthdiff, not by LittleCMS).

    .venv/bin/python benchmarks/bench_load_icc.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zlib
from pathlib import Path

from _timing import median_time  # benchmarks/ is on sys.path when a benchmark runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import numpy as np
    import skimage.data
    from PIL import Image

    from synthdiff.io import load_image

    # The test suite's writer of 16-bit PNGs with an extra chunk (Pillow writes no 16-bit colour).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.io._png import png_with_chunk

    with Image.open(Path(skimage.data.__file__).parent / "rocket.jpg") as photo:
        profile = photo.info["icc_profile"]
        large = photo.resize((4000, 3000))
    with tempfile.TemporaryDirectory() as folder:
        tagged, plain = Path(folder) / "adobe.jpg", Path(folder) / "plain.jpg"
        large.save(tagged, quality=92, icc_profile=profile)
        large.save(plain, quality=92)
        assert load_image(tagged).info.notes == ("ICC profile 'Adobe RGB (1998)' converted to sRGB",)
        seconds = {
            "without_profile": median_time(lambda: load_image(plain), args.repeats),
            "adobe_rgb_profile": median_time(lambda: load_image(tagged), args.repeats),
        }
        deep = np.asarray(large, dtype=np.uint16) * 257
        tagged16, plain16 = Path(folder) / "adobe16.png", Path(folder) / "plain16.png"
        iccp = b"Adobe RGB\x00\x00" + zlib.compress(profile)
        png_with_chunk(tagged16, deep, b"iCCP", iccp)
        png_with_chunk(plain16, deep, b"tEXt", b"Comment\x00none")
        assert load_image(tagged16).info.notes == ("ICC profile 'Adobe RGB (1998)' converted to sRGB",)
        seconds_16 = {
            "without_profile": median_time(lambda: load_image(plain16), args.repeats),
            "adobe_rgb_profile": median_time(lambda: load_image(tagged16), args.repeats),
        }
    results = {
        "image": "4000x3000 JPEG, quality 92",
        "repeats": args.repeats,
        "median_seconds": {key: round(value, 3) for key, value in seconds.items()},
        "ratio_with_profile": round(seconds["adobe_rgb_profile"] / seconds["without_profile"], 2),
        "16_bit_png": {
            "median_seconds": {key: round(value, 3) for key, value in seconds_16.items()},
            "ratio_with_profile": round(seconds_16["adobe_rgb_profile"] / seconds_16["without_profile"], 2),
        },
    }
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
