"""Photo uploads: the time from a 12-megapixel camera photo's upload to its post being published,
and the renditions' bytes against the original's.

Starts a real `livedesk serve` on a fresh SQLite database, uploads a camera-like JPEG (4000×3000,
smooth light with grain, EXIF orientation and GPS), publishes a post with it and times each step
over --repeat (3) photos; then fetches every rendition and prints its size. With --bucket, the
renditions go to an S3-compatible bucket instead of the database: moto's S3 server, started on
loopback (the `test` extra installs it), stands in for the bucket.
Run: python bench/photos.py [--repeat N] [--bucket]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image, ImageFilter


def camera_photo(seed: int) -> bytes:
    """A 12-megapixel JPEG that compresses like a photo: soft shapes plus sensor grain."""
    rng = random.Random(seed)
    small = Image.new("RGB", (200, 150))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(200 * 150)])
    image = small.resize((4000, 3000), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(6))
    grain = Image.effect_noise((4000, 3000), 18).convert("RGB")
    image = Image.blend(image, grain, 0.12)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (59.0, 54.0, 30.0), 3: "E", 4: (10.0, 44.0, 12.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bucket", action="store_true", help="renditions in an S3-compatible bucket (moto's server)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, s3_bucket(args.bucket) as bucket_env:
        env = {**os.environ, "LIVEDESK_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}", "LIVEDESK_POLL_SOURCES": "false",
               **bucket_env}
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "livedesk", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(f"http://127.0.0.1:{port}")
            token = subprocess.run([sys.executable, "-m", "livedesk", "token", "create", "--user", "bench", "--role", "editor"],
                                   env=env, capture_output=True, text=True, check=True).stdout.strip().split()[-1]
            run(f"http://127.0.0.1:{port}", token, args.repeat, "an S3 bucket (moto's server)" if args.bucket else "the database")
        finally:
            server.terminate()
            server.wait(15)


@contextmanager
def s3_bucket(wanted: bool) -> Iterator[dict[str, str]]:
    """The settings of a fresh bucket on moto's S3 server, run for the bench; none if not wanted."""
    if not wanted:
        yield {}
        return
    import boto3

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url, "/")
        boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_bucket(Bucket="photos")
        yield {"LIVEDESK_MEDIA_S3_URL": url, "LIVEDESK_MEDIA_S3_BUCKET": "photos",
               "LIVEDESK_MEDIA_S3_ACCESS_KEY": "bench", "LIVEDESK_MEDIA_S3_SECRET_KEY": "bench"}
    finally:
        server.terminate()
        server.wait(15)


def wait_for(base: str, path: str = "/api/events") -> None:
    for _ in range(600):
        try:
            httpx.get(base + path, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def run(base: str, token: str, repeat: int, store: str) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        client.post("/api/events", json={"slug": "bench-photos", "title": "Photo bench"}).raise_for_status()
        uploads, publishes = [], []
        for n in range(repeat):
            original = camera_photo(n)
            start = time.perf_counter()
            answer = client.post("/api/media", files={"file": ("camera.jpg", original, "image/jpeg")})
            answer.raise_for_status()
            uploaded = time.perf_counter()
            item = {**answer.json(), "alt": "A test photo"}
            client.post("/api/events/bench-photos/posts", json={"body": "Photo.", "media": [item]}).raise_for_status()
            published = time.perf_counter()
            uploads.append(uploaded - start)
            publishes.append(published - start)
        print(f"12-megapixel photo ({len(original):,} bytes), renditions in {store}: upload {min(uploads):.2f} s, "
              f"upload to published {min(publishes):.2f} s (best of {repeat}; median {sorted(publishes)[len(publishes) // 2]:.2f} s)")
        total = 0
        for width in item["widths"]:
            for ext in ("webp", "jpg"):
                size = len(client.get(f"/media/{item['upload']}-{width}.{ext}").content)
                total += size
                print(f"  {width:>5} px {ext:<4} {size:>9,} bytes  {100 * size / len(original):5.1f} % of the original")
        print(f"  all six renditions {total:,} bytes, {100 * total / len(original):.1f} % of the original")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
